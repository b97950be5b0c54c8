// Package runner orchestrates one workbench run the way Maelstrom's test
// does: start the network and services, spawn and init every node, run the
// workload's client setup, drive the main phase (worker threads under one
// shared rate schedule, with the nemesis alongside) for the time limit,
// then — for workloads with a final phase — heal, wait for recovery and run
// the final operations, tear everything down and check the history.
package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	"github.com/glomers/glomers/tools/workbench/analysis"
	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/client"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/nemesis"
	"github.com/glomers/glomers/tools/workbench/network"
	"github.com/glomers/glomers/tools/workbench/store"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// Outcome is what a run produced.
type Outcome struct {
	Start time.Time
	Seed  uint64
	// History is the whole history, read back from Dir once the run is
	// over.
	History history.History
	// Journal holds the events of the first journalSample messages only,
	// which is what the report draws; the whole journal is in Dir.
	Journal    []network.Event
	Results    checker.Result
	Valid      checker.Validity
	NodeErrors []string // stdout protocol violations, per node
	// Crashes lists nodes that exited before teardown. Maelstrom fails
	// the whole test in that case (exit 255); the run stops as soon as a
	// node exits rather than running on against a dead node.
	Crashes     []error
	Interrupted bool // ctx was cancelled (Ctrl-C) before the run finished
}

// A workload's client calls through the transport's connection.
var _ workload.Conn = (*client.Conn)(nil)

// SetupError is a failure before the main phase (a node would not start or
// init). Maelstrom aborts the test (exit 255).
type SetupError struct{ Err error }

func (e *SetupError) Error() string { return e.Err.Error() }

func (e *SetupError) Unwrap() error { return e.Err }

// journalSample is how many messages (the first ones sent) keep their
// journal events in memory for the report, which draws the first 300.
const journalSample = 300

// errNodeExited is the cause of a run cancelled because a node exited.
var errNodeExited = errors.New("a node exited during the run")

// Purposes of the derived random sources.
const (
	randGenerator = iota + 1
	randSchedule
	randNemesis
	randLatency
	randServices
)

// Rand derives the run's random source for one purpose from its seed.
func Rand(seed uint64, purpose uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15*purpose))
}

type run struct {
	cfg     Config
	log     *slog.Logger
	start   time.Time
	dir     string // where the history and journal stream to
	tmpDir  string // dir when Run made it, removed when Run returns
	journal *store.JournalFile
	// netTally counts the journal for the :net result as it streams by;
	// the journal's lock guards it.
	netTally analysis.NetTally
	net      *network.Network
	pool     *client.Pool
	rec      recorder
	part     *nemesis.Partitioner

	rpcTimeout time.Duration
	genRand    *rand.Rand
	mainGen    workload.Generator // the main phase's, handed to the final phase
	workers    []*worker
}

// Run performs one run. It returns a *SetupError when the run could not
// start (nothing to check); otherwise an Outcome with the checked results,
// even when interrupted.
func Run(ctx context.Context, cfg Config) (*Outcome, error) {
	if err := cfg.validate(); err != nil {
		return nil, &SetupError{err}
	}
	r, err := newRun(cfg)
	if err != nil {
		return nil, &SetupError{err}
	}
	defer r.close()
	out, err := r.execute(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.check(out); err != nil {
		return nil, err
	}
	return out, nil
}

// newRun opens what the run streams to (history and journal, in cfg.Dir
// or a temporary directory) and builds its network and client pool.
func newRun(cfg Config) (*run, error) {
	r := &run{cfg: cfg, log: cfg.Logger, dir: cfg.Dir, genRand: Rand(cfg.Seed, randGenerator), rpcTimeout: client.DefaultTimeout}
	if r.dir == "" {
		tmp, err := os.MkdirTemp("", "workbench-run-")
		if err != nil {
			return nil, fmt.Errorf("run directory: %w", err)
		}
		r.dir, r.tmpDir = tmp, tmp
	}
	hist, err := store.CreateHistory(r.dir)
	if err != nil {
		r.close()
		return nil, err
	}
	r.rec.w = hist
	if r.journal, err = store.CreateJournal(r.dir, journalSample, r.netTally.Add); err != nil {
		r.close()
		return nil, err
	}
	r.start = time.Now()
	r.rec.start = r.start
	if cfg.Workload.RPCTimeout != nil {
		if t := cfg.Workload.RPCTimeout(cfg.Opts); t > 0 {
			r.rpcTimeout = t
		}
	}
	netCfg := network.Config{
		Latency: cfg.Opts.Latency, Dist: cfg.LatencyDist, Delivery: cfg.Delivery, Rand: Rand(cfg.Seed, randLatency),
		Start: r.start, Logger: r.log, LogSend: cfg.LogNetSend, LogRecv: cfg.LogNetRecv,
		Journal: r.journal,
	}
	if err := netCfg.Validate(); err != nil {
		r.close()
		return nil, err
	}
	r.net = network.New(netCfg)
	r.pool = client.NewPool(r.net, r.rpcTimeout)
	return r, nil
}

// close releases what newRun opened; the files of cfg.Dir stay.
func (r *run) close() {
	r.rec.close()
	if r.journal != nil {
		r.journal.Close()
	}
	if r.tmpDir != "" {
		os.RemoveAll(r.tmpDir)
	}
}

// execute runs the test: services, nodes, init, client setup, the main
// and final phases, then teardown. A failure before the main phase is a
// *SetupError.
func (r *run) execute(ctx context.Context) (*Outcome, error) {
	// runCtx ends the run early when a node exits (or on ctx): Maelstrom
	// only finds out at teardown, but the test is void from that moment,
	// so there is no point running on for the rest of the time limit.
	runCtx, abort := context.WithCancelCause(ctx)
	defer abort(nil)

	stopServices := func() {}
	if r.cfg.Services != nil {
		if stop := r.cfg.Services(runCtx, r.net, Rand(r.cfg.Seed, randServices), r.log); stop != nil {
			stopServices = stop
		}
	}
	nodes, err := r.spawn()
	if err != nil {
		stopServices()
		return nil, &SetupError{err}
	}
	stopWatch := r.watchNodes(nodes, abort)
	stopFlush := r.flushEvery(time.Second, r.journal)
	out := &Outcome{Start: r.start, Seed: r.cfg.Seed}
	teardown := func() {
		stopWatch()
		stopFlush()
		out.Crashes = r.stopNodes(nodes)
		stopServices()
		for _, n := range nodes {
			out.NodeErrors = append(out.NodeErrors, n.Errors()...)
		}
	}
	for _, setup := range []func(context.Context) error{r.initNodes, r.setupClients} {
		if err := setup(runCtx); err != nil {
			teardown()
			for _, c := range out.Crashes {
				err = fmt.Errorf("%w\n%v", err, c)
			}
			return nil, &SetupError{err}
		}
	}

	r.mainPhase(runCtx)
	if r.cfg.Workload.NewFinalGenerator != nil && runCtx.Err() == nil {
		r.finalPhase(runCtx)
	}
	if errors.Is(context.Cause(runCtx), errNodeExited) {
		r.log.Error("a node exited; run aborted, tearing down", "ops", r.rec.invokes.Load())
	} else {
		r.log.Info("run complete, tearing down", "ops", r.rec.invokes.Load())
	}
	teardown()
	out.Interrupted = ctx.Err() != nil
	return out, nil
}
