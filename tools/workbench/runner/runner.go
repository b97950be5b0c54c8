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
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glomers/glomers/tools/workbench/analysis"
	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/client"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/nemesis"
	"github.com/glomers/glomers/tools/workbench/network"
	"github.com/glomers/glomers/tools/workbench/process"
	"github.com/glomers/glomers/tools/workbench/store"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// Config is everything one run needs.
type Config struct {
	Workload *workload.Workload
	Opts     workload.Options
	Bin      string   // node binary
	Args     []string // appended to the node's command line
	// Seed derives every random source of the run (generator, rate
	// schedule, nemesis, latency, services), so one seed reproduces the
	// op values, gaps and partition schedule.
	Seed            uint64
	LatencyDist     string        // constant, uniform, exponential
	Delivery        string        // network.Maelstrom (default) or network.Ideal
	NemesisInterval time.Duration // mean gap between nemesis ops (default 10 s)
	// NodeLog returns the stderr log path of a node ("" discards).
	NodeLog    func(node string) string
	LogStderr  bool
	LogNetSend bool
	LogNetRecv bool
	Logger     *slog.Logger
	// Services starts Maelstrom's services (lin-kv, seq-kv, lww-kv,
	// lin-tso) on the network and returns their stop function. The cli
	// sets it to registry.Services; nil starts none.
	Services func(ctx context.Context, net *network.Network, rng *rand.Rand, log *slog.Logger) (stop func())
	// Progress, if set, receives a one-line live status every 250 ms
	// (carriage-return updated), or with ProgressLines a whole line every
	// 5 s (for a pipe or a log, where a live line would be noise).
	Progress      io.Writer
	ProgressLines bool
	// Dir receives history.json, history.txt and net-journal.json as the
	// run goes (the store's run directory), so that memory stays flat
	// however long the run is. "" streams them to a temporary directory
	// that is removed when Run returns.
	Dir string

	InitTimeout  time.Duration // per node init (default 10 s)
	RecoveryWait time.Duration // quiet period before the final phase (default 10 s)
	FinalTimeout time.Duration // bound on the final phase (default 60 s)
	KillGrace    time.Duration // SIGTERM→SIGKILL grace at teardown (default 0)
}

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

// analysisGCPercent is the GC target while the history is checked.
const analysisGCPercent = 40

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

// validate refuses a config no run can be made of and fills in the
// defaults of the rest.
func (cfg *Config) validate() error {
	if cfg.Workload == nil {
		return errors.New("no workload")
	}
	if len(cfg.Opts.Nodes) == 0 {
		return errors.New("no nodes")
	}
	if cfg.Opts.Concurrency <= 0 {
		cfg.Opts.Concurrency = len(cfg.Opts.Nodes)
	}
	setDefault(&cfg.InitTimeout, 10*time.Second)
	setDefault(&cfg.RecoveryWait, 10*time.Second)
	setDefault(&cfg.FinalTimeout, 60*time.Second)
	setDefault(&cfg.NemesisInterval, 10*time.Second)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return nil
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

// flushEvery pushes the buffered history and journal to disk every d, so
// that what is on disk trails the run by at most d (a workbench killed
// mid-run leaves its history behind, and a person can tail it).
func (r *run) flushEvery(d time.Duration, journal *store.JournalFile) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			r.rec.flush()
			journal.Flush() // an error is kept and reported by Close
		}
	}()
	return func() { close(done); wg.Wait() }
}

// watchNodes aborts the run as soon as any node's process exits before
// teardown. The returned func stops watching (teardown kills the nodes).
func (r *run) watchNodes(nodes []*process.Node, abort context.CancelCauseFunc) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-done:
			case <-n.Done():
				r.log.Error("node exited during the run; aborting the run", "node", n.ID())
				abort(fmt.Errorf("%w: node %s", errNodeExited, n.ID()))
			}
		}()
	}
	return func() { close(done); wg.Wait() }
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d <= 0 {
		*d = v
	}
}

func (r *run) spawn() ([]*process.Node, error) {
	var nodes []*process.Node
	for _, id := range r.cfg.Opts.Nodes {
		logFile := ""
		if r.cfg.NodeLog != nil {
			logFile = r.cfg.NodeLog(id)
		}
		n, err := process.Start(process.Config{
			ID: id, Bin: r.cfg.Bin, Args: r.cfg.Args, Net: r.net,
			LogFile: logFile, EchoStderr: r.cfg.LogStderr, Logger: r.log,
			Grace: r.cfg.KillGrace,
		})
		if err != nil {
			r.stopNodes(nodes)
			return nil, err
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// stopNodes kills every node in parallel and returns the crash reports of
// nodes that had exited on their own.
func (r *run) stopNodes(nodes []*process.Node) []error {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = n.Stop()
		}()
	}
	wg.Wait()
	var crashes []error
	for _, err := range errs {
		if err != nil {
			r.log.Error("node crashed", "err", err)
			crashes = append(crashes, err)
		}
	}
	return crashes
}

// initNodes sends init to every node in parallel, each from a temporary
// client, and requires init_ok within InitTimeout.
func (r *run) initNodes(ctx context.Context) error {
	nodes := r.cfg.Opts.Nodes
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, id := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn := r.pool.Open()
			defer conn.Close()
			ids := make([]any, len(nodes))
			for j, n := range nodes {
				ids[j] = n
			}
			reply, err := conn.Call(ctx, id, map[string]any{"type": "init", "node_id": id, "node_ids": ids}, r.cfg.InitTimeout)
			switch {
			case errors.Is(context.Cause(ctx), errNodeExited):
				errs[i] = fmt.Errorf("init %s: %w", id, context.Cause(ctx))
			case errors.Is(err, workload.ErrTimeout):
				errs[i] = fmt.Errorf("node %s did not reply to init within %v", id, r.cfg.InitTimeout)
			case err != nil && reply == nil:
				errs[i] = fmt.Errorf("init %s: %w", id, err)
			case err != nil:
				errs[i] = fmt.Errorf("node %s answered init with an error: %v (reply %s)", id, err, checker.CompactJSON(reply, 300))
			case reply["type"] != "init_ok":
				errs[i] = fmt.Errorf("node %s answered init with %v, want init_ok (reply %s)", id, reply["type"], checker.CompactJSON(reply, 300))
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("init failed: %w", err)
	}
	r.log.Info("all nodes initialised", "nodes", len(nodes))
	return nil
}

// setupClients opens one client per node, as Jepsen does before the
// workload starts, and runs the workload's Setup on the first.
func (r *run) setupClients(ctx context.Context) error {
	conns := make([]*client.Conn, len(r.cfg.Opts.Nodes))
	for i := range conns {
		conns[i] = r.pool.Open()
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	if r.cfg.Workload.Setup == nil {
		return nil
	}
	if err := r.cfg.Workload.Setup(ctx, r.cfg.Opts, conns[0]); err != nil {
		return fmt.Errorf("workload setup: %w", err)
	}
	return nil
}

// phase is one generator driven by all worker threads.
type phase struct {
	mu       sync.Mutex // guards gen and the generator rand
	gen      workload.Generator
	sched    *schedule // nil: not rate limited
	deadline time.Time
	final    bool
}

// schedule is Jepsen's stagger as its interpreter drives it: one op
// waits for its time at once; when the interpreter wakes it dispatches the
// op at the time it woke and only then draws the next op's time, that
// time plus a gap uniform in [0, 2/rate). Lateness in waking therefore
// stretches every gap (Maelstrom's JVM interpreter reaches about 94.5 of
// 100 ops/s this way on a 2-core machine), and a thread that comes late
// gets no burst of catch-up ops. Jepsen's lateness is the JVM's
// (parkNanos, then the interpreter's own work); the workbench sleeps
// with the kernel's precision too (preciseSleepUntil), not the Go
// runtime timer's millisecond.
type schedule struct {
	rng    *rand.Rand
	maxGap float64 // seconds
	// now and sleepUntil are the clock; nil means the real one.
	now        func() time.Time
	sleepUntil func(context.Context, time.Time) bool

	turn    sync.Mutex // held by the op waiting for its time
	next    time.Time
	started bool
}

// dispatch waits for the calling op's turn and time and returns the time
// it is dispatched at; false if ctx ends first or that time is not before
// deadline (Jepsen's time limit).
func (s *schedule) dispatch(ctx context.Context, deadline time.Time) (time.Time, bool) {
	now, sleep := s.now, s.sleepUntil
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = preciseSleepUntil
	}
	s.turn.Lock()
	defer s.turn.Unlock()
	t := now()
	if !s.started {
		s.next, s.started = t, true
	}
	if t.Before(s.next) {
		if !s.next.Before(deadline) || !sleep(ctx, s.next) {
			return time.Time{}, false
		}
		t = now()
	}
	if !t.Before(deadline) {
		return time.Time{}, false
	}
	s.next = t.Add(time.Duration(s.rng.Float64() * s.maxGap * float64(time.Second)))
	return t, true
}

// worker is one client thread.
type worker struct {
	thread  int
	process int
	node    string
	conn    *client.Conn
	client  workload.Client
	// retired is set when an info completion retired the process of a
	// non-reusable client: the client is replaced at the thread's next
	// invocation, not at once (Jepsen's ClientWorker closes and reopens
	// when it is handed an op with a new process). Until then a late
	// reply from the node still finds the old client registered.
	retired bool
}

// retire moves the worker to its next process after an info completion.
func (w *worker) retire(concurrency int, reusable bool) {
	w.process += concurrency
	if !reusable {
		w.retired = true
	}
}

// refresh replaces a retired worker's client with a fresh one (new c id).
func (w *worker) refresh(pool *client.Pool, wl *workload.Workload, opts workload.Options) {
	if !w.retired {
		return
	}
	w.conn.Close()
	w.conn = pool.Open()
	w.client = wl.NewClient(w.conn, w.node, opts)
	w.retired = false
}

func (r *run) newWorkers() []*worker {
	ws := make([]*worker, r.cfg.Opts.Concurrency)
	for i := range ws {
		node := r.cfg.Opts.Nodes[i%len(r.cfg.Opts.Nodes)]
		conn := r.pool.Open()
		ws[i] = &worker{thread: i, process: i, node: node, conn: conn,
			client: r.cfg.Workload.NewClient(conn, node, r.cfg.Opts)}
	}
	return ws
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

func (r *run) work(ctx context.Context, p *phase, w *worker) {
	for ctx.Err() == nil {
		now := time.Now()
		if !now.Before(p.deadline) {
			return
		}
		p.mu.Lock()
		gctx := workload.GenContext{Thread: w.thread, Process: w.process, Time: now.Sub(r.start), Rand: r.genRand}
		op, st := p.gen.Next(gctx)
		p.mu.Unlock()

		switch st {
		case workload.Exhausted:
			return
		case workload.Pending:
			if !sleepUntil(ctx, minTime(time.Now().Add(10*time.Millisecond), p.deadline)) {
				return
			}
			continue
		}
		if p.sched != nil {
			if _, ok := p.sched.dispatch(ctx, p.deadline); !ok {
				return
			}
		}
		r.invoke(ctx, p, w, op, gctx)
	}
}

func (r *run) invoke(ctx context.Context, p *phase, w *worker, op history.Op, gctx workload.GenContext) {
	op.Type = history.Invoke
	op.Process = w.process
	op.Node = w.node
	op.Final = op.Final || p.final
	op.Error = nil
	w.refresh(r.pool, r.cfg.Workload, r.cfg.Opts)
	inv := r.rec.add(op)

	// The client's own RPC timeout bounds the call; this deadline only
	// guards against a client that forgets to.
	ictx, cancel := context.WithTimeout(ctx, r.rpcTimeout+5*time.Second)
	comp := r.safeInvoke(ictx, w, inv)
	cancel()
	switch comp.Type {
	case history.OK, history.Fail, history.Info:
	default:
		comp.Error = fmt.Sprintf("client returned completion type %q", comp.Type)
		comp.Type = history.Info
	}
	if comp.F == "" {
		comp.F = inv.F
	}
	comp.Process, comp.Node, comp.Final = inv.Process, inv.Node, inv.Final
	comp = r.rec.add(comp)

	p.mu.Lock()
	p.gen.Update(gctx, inv, comp)
	p.mu.Unlock()

	if comp.Type == history.Info {
		// Jepsen retires the process after an indeterminate op; a
		// non-reusable client goes with it, at the next invocation.
		w.retire(r.cfg.Opts.Concurrency, r.cfg.Workload.Reusable)
	}
}

// safeInvoke turns a panicking workload client into an info completion,
// as Jepsen records an op whose client threw.
func (r *run) safeInvoke(ctx context.Context, w *worker, inv history.Op) (comp history.Op) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("workload client panicked", "f", inv.F, "panic", fmt.Sprint(p))
			comp = inv
			comp.Type = history.Info
			comp.Error = fmt.Sprintf("client panicked: %v", p)
		}
	}()
	return w.client.Invoke(ctx, inv)
}

func (r *run) recordNemesis(e nemesis.Event) {
	r.rec.add(history.Op{Type: history.Info, Process: history.NemesisProcess, F: e.F, Value: e.Value})
	if e.Done {
		r.log.Info("nemesis", "f", e.F, "value", e.Value)
	}
}

// progressLineEvery is how often ProgressLines prints (tests shorten it).
var progressLineEvery = 5 * time.Second

// progress prints a status line (live, or every 5 s with ProgressLines)
// until the returned func is called; phase, if set, names what is going on.
func (r *run) progress(deadline time.Time, phase string) (stop func()) {
	if r.cfg.Progress == nil {
		return func() {}
	}
	every, clear, end := 250*time.Millisecond, "\r\033[K", ""
	if r.cfg.ProgressLines {
		every, clear, end = progressLineEvery, "progress: ", "\n"
	}
	if phase != "" {
		phase = "  " + phase
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		limit := deadline.Sub(r.start).Round(time.Second)
		for {
			select {
			case <-done:
				if !r.cfg.ProgressLines {
					fmt.Fprint(r.cfg.Progress, clear)
				}
				return
			case <-t.C:
			}
			part := ""
			if r.part != nil {
				part = "  partition: healed"
				if r.part.Active() {
					part = "  partition: ACTIVE"
				}
			}
			ok, fail, info, inv := r.rec.counts()
			fmt.Fprintf(r.cfg.Progress, "%s%5.1fs/%v  ops %d  ok %d  errors %d (fail %d, info %d)%s%s%s",
				clear, time.Since(r.start).Seconds(), limit, inv, ok, fail+info, fail, info, part, phase, end)
		}
	}()
	return func() { close(done); wg.Wait() }
}

// recorder is the run's history, appended to by workers and the nemesis.
// It streams every op to disk and keeps only counts in memory.
type recorder struct {
	start time.Time
	mu    sync.Mutex
	w     *store.HistoryWriter // nil once closed
	next  int                  // index of the next op

	invokes, oks, fails, infos atomic.Int64
}

// add stamps op with its index and time (now) and writes it.
func (rc *recorder) add(op history.Op) history.Op {
	rc.mu.Lock()
	op.Time = time.Since(rc.start).Nanoseconds()
	op.Index = rc.next
	if rc.w != nil {
		rc.next++
		rc.w.Add(op)
	}
	rc.mu.Unlock()
	if op.IsClient() {
		switch op.Type {
		case history.Invoke:
			rc.invokes.Add(1)
		case history.OK:
			rc.oks.Add(1)
		case history.Fail:
			rc.fails.Add(1)
		case history.Info:
			rc.infos.Add(1)
		}
	}
	return op
}

func (rc *recorder) counts() (ok, fail, info, invokes int64) {
	return rc.oks.Load(), rc.fails.Load(), rc.infos.Load(), rc.invokes.Load()
}

// flush pushes buffered ops to disk; an error is kept for close.
func (rc *recorder) flush() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.w != nil {
		rc.w.Flush()
	}
}

// close flushes the history to disk and says how many ops it holds;
// later ops are not recorded.
func (rc *recorder) close() (int, error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.w == nil {
		return rc.next, nil
	}
	err := rc.w.Close()
	rc.w = nil
	return rc.next, err
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
