package runner

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/nemesis"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// The phases: the main phase (workers under the schedule, the nemesis alongside)
// and the final phase (heal, wait for recovery, the workload's final operations),
// both run by the same worker threads.

// phase is one generator driven by all worker threads.
type phase struct {
	mu       sync.Mutex // guards gen and the generator rand
	gen      workload.Generator
	sched    *schedule // nil: not rate limited
	deadline time.Time
	final    bool
}

func (r *run) mainPhase(ctx context.Context) {
	deadline := time.Now().Add(r.cfg.Opts.TimeLimit)
	phaseCtx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()

	var nemesisDone sync.WaitGroup
	if slices.Contains(r.cfg.Opts.Nemesis, "partition") {
		r.part = nemesis.New(nemesis.Config{
			Nodes: r.cfg.Opts.Nodes, Interval: r.cfg.NemesisInterval, Rand: Rand(r.cfg.Seed, randNemesis),
			Apply:  func(g nemesis.Grudge) { r.net.SetGrudge(g) },
			Record: r.recordNemesis,
		})
		nemesisDone.Add(1)
		go func() {
			defer nemesisDone.Done()
			r.part.Run(phaseCtx)
		}()
	}
	stopProgress := r.progress(deadline, "")
	defer stopProgress()

	r.workers = r.newWorkers()
	if r.cfg.Opts.Rate <= 0 {
		// Maelstrom issues no client ops at rate 0; the phase just waits.
		<-phaseCtx.Done()
	} else {
		r.mainGen = r.cfg.Workload.NewGenerator(r.cfg.Opts, r.genRand)
		p := &phase{
			gen:      r.mainGen,
			sched:    &schedule{rng: Rand(r.cfg.Seed, randSchedule), maxGap: 2 / r.cfg.Opts.Rate},
			deadline: deadline,
		}
		r.runPhase(ctx, p)
	}
	nemesisDone.Wait()
}

func (r *run) finalPhase(ctx context.Context) {
	if r.part != nil {
		r.part.Heal()
	}
	r.log.Info("Waiting for recovery...")
	// The status goes on through the wait: a quiet console for 10 s looks
	// like a hang.
	deadline := time.Now().Add(r.cfg.RecoveryWait + r.cfg.FinalTimeout)
	stopProgress := r.progress(deadline, "recovery, then final reads")
	defer stopProgress()
	t := time.NewTimer(r.cfg.RecoveryWait)
	select {
	case <-ctx.Done():
		t.Stop()
		return
	case <-t.C:
	}
	r.runPhase(ctx, &phase{
		gen:      r.cfg.Workload.NewFinalGenerator(r.cfg.Opts, r.genRand, r.mainGen),
		deadline: deadline,
		final:    true,
	})
}

// runPhase runs every worker thread on p until the generator is exhausted
// for all of them or the deadline passes.
func (r *run) runPhase(ctx context.Context, p *phase) {
	var wg sync.WaitGroup
	for _, w := range r.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(ctx, p, w)
		}()
	}
	wg.Wait()
}

func (r *run) recordNemesis(e nemesis.Event) {
	r.rec.add(history.Op{Type: history.Info, Process: history.NemesisProcess, F: e.F, Value: e.Value})
	if e.Done {
		r.log.Info("nemesis", "f", e.F, "value", e.Value)
	}
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
