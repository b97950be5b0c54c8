package runner

import (
	"runtime"
	"runtime/debug"

	"github.com/glomers/glomers/tools/workbench/analysis"
	"github.com/glomers/glomers/tools/workbench/store"
)

// The check: the history is read back from the run directory and judged once
// the nodes are down; it is the one phase whose memory grows with the run.

// analysisGCPercent is the GC target while the history is checked.
const analysisGCPercent = 40

// check reads the history back and runs every checker on it, filling in
// out's history, journal sample and results.
func (r *run) check(out *Outcome) error {
	r.log.Info("analyzing")
	ops, err := r.rec.close()
	if err != nil {
		return err
	}
	// Checking is the one phase whose memory grows with the run: the
	// whole history is back in memory, and checkers build maps over it.
	// A tighter GC target for this short phase keeps the peak near what
	// is live (a 60 s run at rate 1000: ~35 MB live, 69 MB heap at the
	// default target) for a fraction of a second more CPU.
	oldGC := debug.SetGCPercent(analysisGCPercent)
	defer func() {
		debug.SetGCPercent(oldGC)
		// What the checkers built is garbage now. Collecting it here
		// sets the next GC target from the history alone rather than
		// from the checkers' peak, so drawing the report from the same
		// history (next, in the cli) does not climb to twice that peak.
		runtime.GC()
	}()
	if err := r.journal.Close(); err != nil {
		return err
	}
	if out.History, err = store.LoadHistory(r.dir, ops); err != nil {
		return err
	}
	out.Journal = r.journal.Sample()
	out.Results = analysis.Analyze(r.cfg.Workload, r.cfg.Opts, out.History, r.netTally.Result(analysis.InvokeCount(out.History)))
	if len(out.NodeErrors) > 0 {
		out.Results["node-errors"] = out.NodeErrors
	}
	if len(out.Crashes) > 0 {
		var msgs []string
		for _, c := range out.Crashes {
			msgs = append(msgs, c.Error())
		}
		out.Results["crashed"] = msgs
	}
	out.Valid = out.Results.Valid()
	r.log.Info("analysis complete", "valid", out.Valid.String())
	return nil
}
