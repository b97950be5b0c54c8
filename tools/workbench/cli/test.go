package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/edn"
	"github.com/glomers/glomers/tools/workbench/network"
	"github.com/glomers/glomers/tools/workbench/registry"
	runreport "github.com/glomers/glomers/tools/workbench/report"
	"github.com/glomers/glomers/tools/workbench/runner"
	"github.com/glomers/glomers/tools/workbench/store"
	"github.com/glomers/glomers/tools/workbench/workload"
)

func init() {
	Register(Command{Name: "test", Summary: "run a workload against a node binary", Run: runTest})
}

// StoreRoot is where runs are stored, relative to the working directory.
var StoreRoot = "store"

var testFlags = []flagSpec{
	{long: "bin", value: "FILE", help: "node binary to test (required); leftover arguments are passed to it"},
	{long: "workload", short: "w", value: "NAME", def: "lin-kv", help: "workload to run"},
	{long: "node-count", value: "NUM", help: "number of nodes, named n0…n(NUM-1); overrides --nodes"},
	{long: "nodes", value: "LIST", repeat: true, help: "comma-separated node names"},
	{long: "node", short: "n", value: "NAME", repeat: true, help: "a node name (repeatable)"},
	{long: "nodes-file", value: "FILE", help: "file with one node name per line"},
	{long: "rate", value: "RATE", def: "5", help: "mean client requests per second, all clients together; 0 issues none"},
	{long: "latency", value: "MILLIS", def: "0", help: "mean inter-node latency in ms"},
	{long: "latency-dist", value: "DIST", def: "constant", help: "constant, uniform or exponential"},
	{long: "nemesis", value: "FAULTS", help: "comma-separated faults to inject (only partition)"},
	{long: "nemesis-interval", value: "SECONDS", def: "10", help: "mean seconds between nemesis operations"},
	{long: "topology", value: "TYPE", def: "grid", help: "broadcast topology: grid, line, total, tree, tree2, tree3, tree4"},
	{long: "availability", value: "AVAIL", help: "required availability: total, or a fraction in [0,1]"},
	{long: "consistency-models", value: "MODELS", def: "strict-serializable", help: "consistency models to check (txn workloads)"},
	{long: "key-count", value: "INT", help: "keys in play at once (txn, kafka)"},
	{long: "max-txn-length", value: "INT", def: "4", help: "most micro-ops per transaction"},
	{long: "max-writes-per-key", value: "INT", def: "16", help: "writes per key before it is retired"},
	{long: "time-limit", value: "SECONDS", def: "60", help: "length of the main phase"},
	{long: "concurrency", value: "NUMBER", def: "1n", help: "client threads: N, or Kn for K per node"},
	{long: "test-count", value: "NUMBER", def: "1", help: "how many times to run the test"},
	{long: "log-stderr", help: "echo node stderr into the console log"},
	{long: "log-net-send", help: "log every message sent"},
	{long: "log-net-recv", help: "log every message delivered"},
	{long: "seed", value: "N", help: "random seed (default: from the clock; printed)"},
	{long: "help", short: "h", help: "show this help"},
	// Jepsen options Maelstrom accepts and ignores (it never uses SSH).
	{long: "username", value: "USER", help: "ignored (Jepsen SSH option)"},
	{long: "password", value: "PASS", help: "ignored (Jepsen SSH option)"},
	{long: "ssh-private-key", value: "FILE", help: "ignored (Jepsen SSH option)"},
	{long: "strict-host-key-checking", help: "ignored (Jepsen SSH option)"},
	{long: "no-ssh", help: "ignored (Jepsen SSH option)"},
	{long: "leave-db-running", help: "ignored"},
	{long: "logging-json", help: "ignored"},
}

// TestOptions are the parsed options of `test`.
type TestOptions struct {
	Workload        string   `json:"workload"`
	Bin             string   `json:"bin"`
	Args            []string `json:"args"`
	Nodes           []string `json:"nodes"`
	Rate            float64  `json:"rate"`
	LatencyMS       int64    `json:"latency"`
	LatencyDist     string   `json:"latency-dist"`
	Nemesis         []string `json:"nemesis"`
	NemesisInterval float64  `json:"nemesis-interval"`
	Topology        string   `json:"topology"`
	Availability    string   `json:"availability,omitempty"`
	Models          []string `json:"consistency-models"`
	KeyCount        int      `json:"key-count,omitempty"`
	MaxTxnLength    int      `json:"max-txn-length"`
	MaxWritesPerKey int      `json:"max-writes-per-key"`
	TimeLimit       int64    `json:"time-limit"`
	Concurrency     int      `json:"concurrency"`
	TestCount       int      `json:"test-count"`
	LogStderr       bool     `json:"log-stderr"`
	LogNetSend      bool     `json:"log-net-send"`
	LogNetRecv      bool     `json:"log-net-recv"`
	Seed            uint64   `json:"seed"`
	SeedGiven       bool     `json:"-"`
}

var topologies = map[string]bool{"grid": true, "line": true, "total": true, "tree": true, "tree2": true, "tree3": true, "tree4": true}

// ParseTestArgs parses and validates `test`'s arguments.
func ParseTestArgs(args []string) (*TestOptions, error) {
	p, err := parseFlags(testFlags, args)
	if err != nil {
		return nil, err
	}
	o := &TestOptions{
		Workload: "lin-kv", Rate: 5, LatencyDist: network.Constant, NemesisInterval: 10,
		Topology: "grid", Models: []string{"strict-serializable"}, MaxTxnLength: 4,
		MaxWritesPerKey: 16, TimeLimit: 60, TestCount: 1,
	}
	o.Bin = p.last("bin")
	if p.has("workload") {
		o.Workload = p.last("workload")
	}
	o.Args = p.positional
	o.LogStderr = p.last("log-stderr") == "true"
	o.LogNetSend = p.last("log-net-send") == "true"
	o.LogNetRecv = p.last("log-net-recv") == "true"

	if o.Bin == "" {
		return nil, errors.New("expected a --bin BINARY to test")
	}
	w, ok := registry.Lookup(o.Workload)
	if !ok {
		return nil, fmt.Errorf("unknown workload %q (known: %s)", o.Workload, strings.Join(registry.Names(), ", "))
	}

	// Nodes: --node-count wins; else --nodes / --node / --nodes-file;
	// else Jepsen's default n1…n5.
	switch {
	case p.has("node-count"):
		n, err := positiveInt(p, "node-count")
		if err != nil {
			return nil, err
		}
		for i := 0; i < n; i++ {
			o.Nodes = append(o.Nodes, "n"+strconv.Itoa(i))
		}
	default:
		for _, list := range p.values["nodes"] {
			for _, n := range strings.Split(list, ",") {
				if n = strings.TrimSpace(n); n != "" {
					o.Nodes = append(o.Nodes, n)
				}
			}
		}
		o.Nodes = append(o.Nodes, p.values["node"]...)
		if f := p.last("nodes-file"); f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("--nodes-file: %w", err)
			}
			for _, line := range strings.Split(string(b), "\n") {
				if line = strings.TrimSpace(line); line != "" {
					o.Nodes = append(o.Nodes, line)
				}
			}
		}
		if len(o.Nodes) == 0 {
			o.Nodes = []string{"n1", "n2", "n3", "n4", "n5"}
		}
	}
	seen := map[string]bool{}
	for _, n := range o.Nodes {
		if seen[n] {
			return nil, fmt.Errorf("node %q listed twice", n)
		}
		seen[n] = true
		if network.IsClient(n) {
			return nil, fmt.Errorf("node name %q starts with \"c\", which the network reserves for clients", n)
		}
	}

	if p.has("rate") {
		r, err := strconv.ParseFloat(p.last("rate"), 64)
		if err != nil || r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
			return nil, fmt.Errorf("--rate %q: must be a non-negative number", p.last("rate"))
		}
		o.Rate = r
	}
	if p.has("latency") {
		l, err := strconv.ParseInt(p.last("latency"), 10, 64)
		if err != nil || l < 0 {
			return nil, fmt.Errorf("--latency %q: must be a non-negative integer (ms)", p.last("latency"))
		}
		o.LatencyMS = l
	}
	if p.has("latency-dist") {
		o.LatencyDist = p.last("latency-dist")
	}
	if err := (network.Config{Latency: time.Duration(o.LatencyMS) * time.Millisecond, Dist: o.LatencyDist}).Validate(); err != nil {
		return nil, err
	}
	if p.has("nemesis") {
		for _, f := range strings.Split(p.last("nemesis"), ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			if f != "partition" {
				return nil, fmt.Errorf("--nemesis %q: unknown fault %q (known: partition)", p.last("nemesis"), f)
			}
			o.Nemesis = append(o.Nemesis, f)
		}
	}
	if p.has("nemesis-interval") {
		v, err := strconv.ParseFloat(p.last("nemesis-interval"), 64)
		if err != nil || v <= 0 || math.IsInf(v, 0) {
			return nil, fmt.Errorf("--nemesis-interval %q: must be a positive number of seconds", p.last("nemesis-interval"))
		}
		o.NemesisInterval = v
	}
	if p.has("topology") {
		o.Topology = p.last("topology")
		if !topologies[o.Topology] {
			return nil, fmt.Errorf("--topology %q: unknown (known: grid, line, total, tree, tree2, tree3, tree4)", o.Topology)
		}
	}
	if p.has("availability") {
		a := p.last("availability")
		if a != "total" {
			v, err := strconv.ParseFloat(a, 64)
			if err != nil || v < 0 || v > 1 {
				return nil, fmt.Errorf("--availability %q: must be \"total\" or a number between 0 and 1", a)
			}
		}
		o.Availability = a
	}
	if p.has("consistency-models") {
		o.Models = nil
		for _, m := range strings.Split(p.last("consistency-models"), ",") {
			if m = strings.TrimSpace(m); m != "" {
				o.Models = append(o.Models, m)
			}
		}
		if len(o.Models) == 0 {
			return nil, errors.New("--consistency-models: no model given")
		}
	}
	for _, f := range []struct {
		name string
		dst  *int
	}{{"key-count", &o.KeyCount}, {"max-txn-length", &o.MaxTxnLength}, {"max-writes-per-key", &o.MaxWritesPerKey}, {"test-count", &o.TestCount}} {
		if p.has(f.name) {
			v, err := positiveInt(p, f.name)
			if err != nil {
				return nil, err
			}
			*f.dst = v
		}
	}
	if p.has("time-limit") {
		v, err := positiveInt(p, "time-limit")
		if err != nil {
			return nil, err
		}
		o.TimeLimit = int64(v)
	}
	conc := "1n"
	if p.has("concurrency") {
		conc = p.last("concurrency")
	}
	c, err := parseConcurrency(conc, len(o.Nodes))
	if err != nil {
		return nil, err
	}
	o.Concurrency = c
	if p.has("seed") {
		s, err := strconv.ParseUint(p.last("seed"), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--seed %q: must be a non-negative integer", p.last("seed"))
		}
		o.Seed, o.SeedGiven = s, true
	}
	if w.Validate != nil {
		if err := w.Validate(o.WorkloadOptions()); err != nil {
			return nil, fmt.Errorf("%s: %w", o.Workload, err)
		}
	}
	return o, nil
}

func positiveInt(p parsed, name string) (int, error) {
	v, err := strconv.Atoi(p.last(name))
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("--%s %q: must be a positive integer", name, p.last(name))
	}
	return v, nil
}

// parseConcurrency reads "N" or "Kn" (K per node).
func parseConcurrency(s string, nodes int) (int, error) {
	mult := 1
	num := s
	if strings.HasSuffix(s, "n") {
		mult, num = nodes, strings.TrimSuffix(s, "n")
	}
	k, err := strconv.Atoi(num)
	if err != nil || k <= 0 {
		return 0, fmt.Errorf("--concurrency %q: must be a positive integer, optionally followed by n (per node)", s)
	}
	return k * mult, nil
}

// WorkloadOptions converts the CLI options into what workloads read.
func (o *TestOptions) WorkloadOptions() workload.Options {
	return workload.Options{
		Nodes: o.Nodes, Concurrency: o.Concurrency, Rate: o.Rate,
		TimeLimit: time.Duration(o.TimeLimit) * time.Second,
		Latency:   time.Duration(o.LatencyMS) * time.Millisecond,
		Topology:  o.Topology, KeyCount: o.KeyCount, MaxTxnLength: o.MaxTxnLength,
		MaxWritesPerKey: o.MaxWritesPerKey, ConsistencyModels: o.Models,
		Availability: o.Availability, Nemesis: o.Nemesis,
	}
}

// looksLikeFlag spots positional arguments that were probably meant as
// options, e.g. "–-nemesis" typed with an en dash (as on Fly.io's 6c page).
func looksLikeFlag(a string) bool {
	for _, dash := range []string{"\u2013", "\u2014", "\u2212"} {
		if strings.HasPrefix(a, dash) {
			return true
		}
	}
	return false
}

func runTest(args []string, stdout, stderr io.Writer) int {
	o, err := ParseTestArgs(args)
	if err != nil {
		return badArgs(stderr, "%v", err)
	}
	for _, a := range args {
		if a == "-h" || a == "--help" {
			fmt.Fprintln(stdout, "usage: workbench test --bin FILE [options] [-- node args]")
			printFlags(stdout, testFlags)
			return ExitValid
		}
	}
	if st, err := os.Stat(o.Bin); err != nil {
		return badArgs(stderr, "--bin %s: %v", o.Bin, err)
	} else if st.IsDir() || st.Mode()&0o111 == 0 {
		return badArgs(stderr, "--bin %s: not an executable file", o.Bin)
	}
	for _, a := range o.Args {
		if looksLikeFlag(a) {
			fmt.Fprintf(stderr, "workbench: warning: argument %q looks like a mistyped option (not two ASCII dashes); it is passed to the node binary, as Maelstrom does\n", a)
		}
	}
	if !o.SeedGiven {
		o.Seed = uint64(time.Now().UnixNano())
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	code := ExitValid
	for i := 0; i < o.TestCount; i++ {
		seed := o.Seed + uint64(i)
		c := runOne(ctx, o, seed, stdout, stderr)
		if c > code {
			code = c
		}
		if ctx.Err() != nil {
			break
		}
	}
	return code
}

// runOne runs one test and stores it; it returns the exit code.
func runOne(ctx context.Context, o *TestOptions, seed uint64, stdout, stderr io.Writer) int {
	w, _ := registry.Lookup(o.Workload)
	start := time.Now()
	run, err := store.Create(StoreRoot, o.Workload, start)
	if err != nil {
		fmt.Fprintf(stderr, "workbench: %v\n", err)
		return ExitCrash
	}
	logFile, err := os.Create(run.Path("jepsen.log"))
	if err != nil {
		fmt.Fprintf(stderr, "workbench: %v\n", err)
		return ExitCrash
	}
	defer logFile.Close()
	progressOn := false
	if f, ok := stderr.(*os.File); ok && isTerminal(f) {
		progressOn = true
	}
	var console io.Writer = stderr
	if progressOn {
		console = lineClearer{stderr}
	}
	// The handler serialises writes; the log file is unbuffered so it is
	// complete even if the workbench is killed.
	log := slog.New(slog.NewTextHandler(io.MultiWriter(console, logFile), &slog.HandlerOptions{Level: slog.LevelInfo}))

	test := struct {
		*TestOptions
		Seed  uint64 `json:"seed"`
		Start string `json:"start"`
	}{o, seed, start.UTC().Format(time.RFC3339Nano)}
	if err := run.WriteJSON("test.json", test); err != nil {
		log.Error("write test.json", "err", err)
	}
	log.Info("starting test", "workload", o.Workload, "bin", o.Bin, "args", o.Args, "nodes", o.Nodes,
		"concurrency", o.Concurrency, "rate", o.Rate, "time-limit", o.TimeLimit, "seed", seed, "store", run.Dir)

	cfg := runner.Config{
		Workload: w, Opts: o.WorkloadOptions(), Bin: o.Bin, Args: o.Args, Seed: seed,
		LatencyDist:     o.LatencyDist,
		NemesisInterval: time.Duration(o.NemesisInterval * float64(time.Second)),
		NodeLog:         run.NodeLog,
		LogStderr:       o.LogStderr, LogNetSend: o.LogNetSend, LogNetRecv: o.LogNetRecv,
		Logger:   log,
		Services: registry.Services,
	}
	if progressOn {
		cfg.Progress = stderr
	}
	out, err := runner.Run(ctx, cfg)
	if err != nil {
		log.Error("test crashed", "err", err)
		fmt.Fprintf(stderr, "workbench: test crashed: %v\n", err)
		fmt.Fprintf(stderr, "workbench: seed %d; logs in %s\n", seed, run.Dir)
		return ExitCrash
	}
	if err := run.WriteHistory(out.History); err != nil {
		log.Error("write history", "err", err)
	}
	if err := run.WriteResults(out.Results); err != nil {
		log.Error("write results", "err", err)
	}
	if f, err := os.Create(run.Path("net-journal.json")); err != nil {
		log.Error("write journal", "err", err)
	} else {
		if err := network.WriteJournal(f, out.Journal); err != nil {
			log.Error("write journal", "err", err)
		}
		f.Close()
	}
	log.Info("wrote history and results")
	if err := runreport.Write(run.Dir, out.History, runreport.FromNetwork(out.Journal), out.Results); err != nil {
		// The verdict stands without the pictures.
		log.Error("write report", "err", err)
	}
	log.Info("wrote report")
	code := printVerdict(out, run, seed, stdout, stderr)
	printSummary(stdout, o, out, run)
	return code
}

// printVerdict prints the results and the verdict and returns the exit code.
func printVerdict(out *runner.Outcome, run *store.Run, seed uint64, stdout, stderr io.Writer) int {
	if b, err := edn.Marshal(map[string]any(out.Results)); err == nil {
		stdout.Write(b)
	}
	fmt.Fprintln(stdout)
	for _, e := range out.NodeErrors {
		fmt.Fprintf(stdout, "node error: %s\n", e)
	}
	for _, line := range runner.FirstErrors(out.Results) {
		fmt.Fprintln(stdout, line)
	}
	fmt.Fprintf(stdout, "seed %d; results in %s\n", seed, run.Dir)
	switch {
	case out.Interrupted:
		fmt.Fprintln(stdout, "Interrupted; the results above cover a partial run.")
		return ExitCrash
	case len(out.Crashes) > 0:
		for _, c := range out.Crashes {
			fmt.Fprintf(stderr, "workbench: %v\n", c)
		}
		fmt.Fprintln(stdout, "A node crashed before teardown; the test is void (Maelstrom aborts here too).")
		return ExitCrash
	}
	return announce(stdout, out.Valid)
}

// announce prints Maelstrom's closing line for a verdict and returns the
// exit status that goes with it (0 valid, 1 invalid, 2 unknown).
func announce(stdout io.Writer, v checker.Validity) int {
	switch v {
	case checker.Valid:
		fmt.Fprintln(stdout, "Everything looks good! ヽ(‘ー`)ノ")
		return ExitValid
	case checker.Invalid:
		fmt.Fprintln(stdout, "Analysis invalid! (ﾉಥ益ಥ）ﾉ ┻━┻")
		return ExitInvalid
	}
	fmt.Fprintln(stdout, "Errors occurred during analysis, but no anomalies found. ಠ~ಠ")
	return ExitUnknown
}

// lineClearer clears the live progress line before each log line.
type lineClearer struct{ w io.Writer }

func (l lineClearer) Write(p []byte) (int, error) {
	if _, err := io.WriteString(l.w, "\r\033[K"); err != nil {
		return 0, err
	}
	return l.w.Write(p)
}
