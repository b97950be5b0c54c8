package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/glomers/glomers/tools/workbench/analysis"
	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/edn"
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
	// Help comes before any validation: a newcomer asking for it has no
	// --bin yet.
	if p, err := parseFlags(testSpecs(), args); err == nil && p.last("help") == "true" {
		testUsage(stdout)
		return ExitValid
	}
	o, err := ParseTestArgs(args)
	if err != nil {
		return badArgs(stderr, "%v", err)
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
	o.Command = append([]string{"workbench", "test"}, args...)
	if o.BinSHA256, err = fileSHA256(o.Bin); err != nil {
		return badArgs(stderr, "--bin %s: %v", o.Bin, err)
	}
	o.Env = recordedEnv(os.Environ(), o.NodeEnv)
	restore, err := setNodeEnv(o.NodeEnv)
	if err != nil {
		return badArgs(stderr, "%v", err)
	}
	defer restore()

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
	logFile, err := os.Create(run.Path(store.LogName))
	if err != nil {
		fmt.Fprintf(stderr, "workbench: %v\n", err)
		return ExitCrash
	}
	defer logFile.Close()
	progressOn := false
	if f, ok := stderr.(*os.File); ok && isTerminal(f) {
		progressOn = true
	}
	var console io.Writer = cappedLines{stderr, run.Path(store.LogName)}
	if progressOn {
		console = lineClearer{console}
	}
	// The handler serialises writes; the log file is unbuffered so it is
	// complete even if the workbench is killed.
	log := slog.New(slog.NewTextHandler(io.MultiWriter(console, logFile), &slog.HandlerOptions{Level: slog.LevelInfo}))

	test := struct {
		*TestOptions
		Seed  uint64 `json:"seed"`
		Start string `json:"start"`
	}{o, seed, start.UTC().Format(time.RFC3339Nano)}
	if err := run.WriteJSON(store.TestName, test); err != nil {
		log.Error("write "+store.TestName, "err", err)
	}
	log.Info("starting test", "workload", o.Workload, "bin", o.Bin, "args", o.Args, "nodes", o.Nodes,
		"concurrency", o.Concurrency, "rate", o.Rate, "time-limit", o.TimeLimit, "seed", seed, "store", run.Dir,
		"node-env", o.Env)

	cfg := runner.Config{
		Workload: w, Opts: o.WorkloadOptions(), Bin: o.Bin, Args: o.Args, Seed: seed,
		LatencyDist:     o.LatencyDist,
		Delivery:        o.Delivery,
		NemesisInterval: time.Duration(o.NemesisInterval * float64(time.Second)),
		NodeLog:         run.NodeLog,
		LogStderr:       o.LogStderr, LogNetSend: o.LogNetSend, LogNetRecv: o.LogNetRecv,
		Logger:   log,
		Services: registry.Services,
		Dir:      run.Dir, // history and journal stream there
	}
	if progressOn {
		cfg.Progress = stderr
	} else if _, ok := stderr.(*os.File); ok {
		// A pipe or a file: a whole status line every 5 s instead.
		cfg.Progress, cfg.ProgressLines = stderr, true
	}
	out, err := runner.Run(ctx, cfg)
	if err != nil {
		log.Error("test crashed", "err", err)
		fmt.Fprintf(stderr, "workbench: test crashed: %v\n", err)
		fmt.Fprintf(stderr, "workbench: seed %d; logs in %s\n", seed, run.Dir)
		return ExitCrash
	}
	if err := run.WriteResults(out.Results); err != nil {
		log.Error("write results", "err", err)
	}
	log.Info("wrote history and results")
	if path, err := writeLinearizability(run.Dir, o.Workload, out.History, out.Results); err != nil {
		log.Error("write linearizability view", "err", err)
	} else if path != "" {
		log.Info("porcupine's view of the keys that cannot be linearized", "file", path)
	}
	if err := runreport.Write(run.Dir, out.History, runreport.FromNetwork(out.Journal), out.Results); err != nil {
		// The verdict stands without the pictures.
		log.Error("write report", "err", err)
	}
	log.Info("wrote report")
	code := printVerdict(out, w, run, seed, stdout, stderr)
	printSummary(stdout, o, out, run)
	return code
}

// printVerdict prints the results and the verdict and returns the exit code.
func printVerdict(out *runner.Outcome, w *workload.Workload, run *store.Run, seed uint64, stdout, stderr io.Writer) int {
	colour := colourOn(stdout)
	if b, err := edn.Marshal(map[string]any(out.Results)); err == nil {
		io.WriteString(stdout, capLines(string(b), run.Path(store.ResultsEDNName)))
	}
	fmt.Fprintln(stdout)
	for _, e := range out.NodeErrors {
		fmt.Fprintln(stdout, paint(colour, colourRed, capLines("node error: "+e, run.Path(store.ResultsEDNName))))
	}
	for _, line := range analysis.FirstErrors(out.Results) {
		for _, part := range wrapLine(line, 120) {
			fmt.Fprintln(stdout, paint(colour, colourRed, part))
		}
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
	return announce(stdout, out.Results, w)
}

// announce prints Maelstrom's closing line for a run's verdict and returns
// the exit status that goes with it (0 valid, 1 invalid, 2 unknown). A run
// that is invalid only by w's strict checks keeps exit 1 (the workbench's
// verdict; --maelstrom-verdicts turns those checks off) and is told so in
// words: Maelstrom would accept it, what is still wrong, and how to get
// Maelstrom's verdict. On a terminal the verdict is in colour.
func announce(stdout io.Writer, res checker.Result, w *workload.Workload) int {
	colour := colourOn(stdout)
	switch res.Valid() {
	case checker.Valid:
		fmt.Fprintln(stdout, paint(colour, colourGreen, "Everything looks good! ヽ(‘ー`)ノ"))
		if _, notJudged := analysis.StrictFailures(res); len(notJudged) > 0 {
			fmt.Fprintf(stdout, "(--maelstrom-verdicts: the workbench's strict checks also found %s, left out of the verdict as Maelstrom does)\n",
				strings.Join(notJudged, ", "))
		}
		return ExitValid
	case checker.Invalid:
		fmt.Fprintln(stdout, paint(colour, colourRed, "Analysis invalid! (ﾉಥ益ಥ）ﾉ ┻━┻"))
		var strict []workload.StrictCheck
		if w != nil {
			strict = w.Strict
		}
		for _, line := range analysis.StrictNote(res, strict) {
			fmt.Fprintln(stdout, line)
		}
		return ExitInvalid
	}
	fmt.Fprintln(stdout, paint(colour, colourYellow, "Errors occurred during analysis, but no anomalies found. ಠ~ಠ"))
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
