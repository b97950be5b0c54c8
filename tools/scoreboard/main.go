// Command scoreboard runs every challenge it has a binary for, through the
// workbench, with the table's command lines (tools/flyio: Fly.io's Gossip
// Glomers, then Maelstrom's own workloads), and prints a table per suite:
// verdict, operations, availability, servers msgs-per-op and latency next
// to Fly.io's targets. It also writes
// scoreboard.json and a static scoreboard.html that links every run's
// report and plots.
//
// Runs overlap under a CPU budget (--cpus; see scheduler): most of a run
// is waiting, so the board takes a third of the serial time, and the
// latency-sensitive 3d/3e runs never share the machine with busy ones.
// --serial runs one at a time, in Fly.io's order.
//
//	scoreboard --workbench PATH --bin echo=PATH --bin broadcast=PATH … [--only 3d,3e] [--quick] [--cpus N] [--serial] [--out DIR]
//
// It exits 0 when every challenge that ran passed (valid, and its numeric
// targets met), 1 otherwise, and 254 on bad arguments.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/glomers/glomers/tools/workbench/report"
)

const (
	exitOK      = 0
	exitFailed  = 1
	exitBadArgs = 254
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// listFlag collects a repeatable flag's values.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// options are the parsed command line.
type options struct {
	workbench string
	bins      map[string]string   // binary key → absolute path
	only      map[string]bool     // challenge ids; empty: all
	env       map[string][]string // challenge id → extra KEY=VALUE
	quick     bool
	out       string
	seed      string
	dryRun    bool
	cpus      float64 // CPU budget for runs side by side
	serial    bool
}

// defaultCPUs fits the 2-core machines the project runs on: the table's
// CPU figures are measured there, workbench and nodes together.
const defaultCPUs = 2.0

func parseOptions(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("scoreboard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var bins, envs listFlag
	var only string
	fs.StringVar(&o.workbench, "workbench", "", "path to the workbench binary (required)")
	fs.Var(&bins, "bin", "NAME=PATH of a challenge binary; NAME is one of "+strings.Join(Binaries(), ", ")+" (repeatable; challenges without a binary are skipped)")
	fs.StringVar(&only, "only", "", "comma-separated challenge ids to run, e.g. 3d,3e")
	fs.BoolVar(&o.quick, "quick", false, "shorter time limits (5-10 s instead of Fly.io's 10-30 s)")
	fs.StringVar(&o.out, "out", "scoreboard", "directory for scoreboard.json, scoreboard.html, the runs' store/ and console logs")
	fs.StringVar(&o.seed, "seed", "", "pass --seed to every run, for repeatable schedules")
	fs.Var(&envs, "env", "ID=KEY=VALUE: extra environment for one challenge's nodes, e.g. 5c=KAFKA_MODE=efficient (repeatable)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the commands without running them")
	fs.Float64Var(&o.cpus, "cpus", defaultCPUs, "CPU budget: runs go side by side while the cores they keep busy (tools/flyio's cpu figures) add up to at most this")
	fs.BoolVar(&o.serial, "serial", false, "one run at a time, in Fly.io's order")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.workbench == "" {
		return o, errors.New("--workbench is required")
	}
	if !(o.cpus > 0) {
		return o, fmt.Errorf("--cpus %v: must be a positive number of cores", o.cpus)
	}
	var err error
	if o.workbench, err = absPath(o.workbench); err != nil {
		return o, err
	}
	o.bins = map[string]string{}
	for _, b := range bins {
		name, path, ok := strings.Cut(b, "=")
		if !ok || path == "" {
			return o, fmt.Errorf("--bin %q: want NAME=PATH", b)
		}
		if !slices.Contains(Binaries(), name) {
			return o, fmt.Errorf("--bin %q: unknown binary %q (known: %s)", b, name, strings.Join(Binaries(), ", "))
		}
		if o.bins[name], err = absPath(path); err != nil {
			return o, err
		}
	}
	if len(o.bins) == 0 {
		return o, errors.New("no challenge binaries given (--bin NAME=PATH)")
	}
	o.only = map[string]bool{}
	for _, id := range strings.Split(only, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if !slices.ContainsFunc(Challenges, func(c Challenge) bool { return c.ID == id }) {
			return o, fmt.Errorf("--only: unknown challenge %q (known: %s)", id, strings.Join(challengeIDs(), ", "))
		}
		o.only[id] = true
	}
	o.env = map[string][]string{}
	for _, e := range envs {
		id, kv, ok := strings.Cut(e, "=")
		if !ok || !strings.Contains(kv, "=") {
			return o, fmt.Errorf("--env %q: want ID=KEY=VALUE", e)
		}
		o.env[id] = append(o.env[id], kv)
	}
	// Under `bazel run` the working directory is the runfiles tree; put
	// results where the user ran the command from.
	if !filepath.IsAbs(o.out) {
		base := os.Getenv("BUILD_WORKING_DIRECTORY")
		if base == "" {
			base, _ = os.Getwd()
		}
		o.out = filepath.Join(base, o.out)
	}
	return o, nil
}

// absPath makes a path absolute against the current directory, which is
// where Bazel's runfiles paths are relative to.
func absPath(p string) (string, error) {
	a, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("path %s: %w", p, err)
	}
	return a, nil
}

func challengeIDs() []string {
	var ids []string
	for _, c := range Challenges {
		ids = append(ids, c.ID)
	}
	return ids
}

// selected returns the challenges to run and those skipped for want of a
// binary (only among those --only asked for).
func (o options) selected() (run, skipped []Challenge) {
	for _, c := range Challenges {
		if len(o.only) > 0 && !o.only[c.ID] {
			continue
		}
		if o.bins[c.Binary] == "" {
			skipped = append(skipped, c)
			continue
		}
		run = append(run, c)
	}
	return run, skipped
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "scoreboard: %v\n", err)
		return exitBadArgs
	}
	todo, skipped := o.selected()
	if len(todo) == 0 {
		fmt.Fprintln(stderr, "scoreboard: none of the selected challenges has a binary (--bin NAME=PATH)")
		return exitBadArgs
	}
	expected := estimate(todo, o.cpus, o.serial, o.quick)
	how := "one at a time"
	if !o.serial {
		how = fmt.Sprintf("side by side within %s cores", strconv.FormatFloat(o.cpus, 'f', -1, 64))
	}
	fmt.Fprintf(stderr, "scoreboard: %d challenges, %s, about %s; output in %s\n", len(todo), how, time.Duration(expected)*time.Second, o.out)

	if o.dryRun {
		for _, c := range todo {
			fmt.Fprintf(stdout, "%s: %s%s\n", c.ID, envPrefix(append(c.EnvList(), o.env[c.ID]...)), shellJoin(append([]string{o.workbench}, c.CommandArgs(o.bins[c.Binary], o.quick, o.seed)...)))
		}
		return exitOK
	}
	if err := os.MkdirAll(filepath.Join(o.out, "logs"), 0o755); err != nil {
		fmt.Fprintf(stderr, "scoreboard: %v\n", err)
		return exitFailed
	}

	start := time.Now()
	rows := runAll(ctx, o, todo, stderr)
	for _, c := range skipped {
		rows = append(rows, Row{Suite: c.Suite, ID: c.ID, Name: c.Name, Workload: c.Workload, Status: StatusSkipped, LatencyKind: c.Latency,
			Reason: "skipped: no --bin " + c.Binary + "=PATH"})
	}
	sortRows(rows)

	board := Board{Generated: time.Now(), Quick: o.quick, WallSeconds: time.Since(start).Seconds(), OK: OK(rows) && ctx.Err() == nil, Rows: rows}
	fmt.Fprintln(stdout)
	if err := WriteTable(stdout, rows); err != nil {
		fmt.Fprintf(stderr, "scoreboard: %v\n", err)
	}
	fmt.Fprintf(stdout, "\nwall time %.0f s (estimated %d s), %s\n", board.WallSeconds, expected, how)
	for _, w := range []func() error{
		func() error { return WriteJSON(filepath.Join(o.out, "scoreboard.json"), board) },
		func() error { return WriteHTML(filepath.Join(o.out, "scoreboard.html"), board) },
	} {
		if err := w(); err != nil {
			fmt.Fprintf(stderr, "scoreboard: %v\n", err)
			return exitFailed
		}
	}
	fmt.Fprintf(stdout, "wrote %s and %s\n", filepath.Join(o.out, "scoreboard.json"), filepath.Join(o.out, "scoreboard.html"))
	if !board.OK {
		return exitFailed
	}
	return exitOK
}

// sortRows keeps the table's order (Fly.io's, then Maelstrom's) whatever order rows
// were produced in.
func sortRows(rows []Row) {
	order := map[string]int{}
	for i, c := range Challenges {
		order[c.ID] = i
	}
	slices.SortStableFunc(rows, func(a, b Row) int { return order[a.ID] - order[b.ID] })
}

// runAll runs the challenges as the scheduler lets them and returns their
// rows (in the order they finished).
func runAll(ctx context.Context, o options, todo []Challenge, stderr io.Writer) []Row {
	s := newScheduler(todo, o.cpus, o.serial, o.quick)
	type result struct {
		c   Challenge
		row Row
	}
	done := make(chan result)
	var rows []Row
	running, started := 0, 0
	for {
		if ctx.Err() == nil {
			for _, c := range s.next() {
				started++
				running++
				fmt.Fprintf(stderr, "[%d/%d] %s %s started (about %d s)…\n", started, len(todo), c.ID, c.Name, c.expectedSeconds(o.quick))
				go func(c Challenge) { done <- result{c, runChallenge(ctx, o, c)} }(c)
			}
		}
		if running == 0 {
			break
		}
		r := <-done
		running--
		s.done(r.c)
		fmt.Fprintf(stderr, "[%d/%d done] %s %s in %.1f s (%.1f CPU s)\n", len(rows)+1, len(todo), r.c.ID, r.row.Status, r.row.WallSeconds, r.row.CPUSeconds)
		rows = append(rows, r.row)
	}
	return rows
}

// runChallenge runs one challenge through the workbench and reads the
// run it stored. Each challenge runs in its own directory under runs/, so
// that runs side by side never share a store.
func runChallenge(ctx context.Context, o options, c Challenge) (row Row) {
	env := append(c.EnvList(), o.env[c.ID]...)
	args := c.CommandArgs(o.bins[c.Binary], o.quick, o.seed)
	row = Row{Suite: c.Suite, ID: c.ID, Name: c.Name, Workload: c.Workload, LatencyKind: c.Latency, Env: env,
		Command: envPrefix(env) + shellJoin(append([]string{"workbench"}, args...))}
	start := time.Now()
	defer func() { row.WallSeconds = time.Since(start).Seconds() }()

	dir := filepath.Join(o.out, "runs", c.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		row.Status, row.Reason = StatusError, err.Error()
		return row
	}
	latest := filepath.Join(dir, "store", c.Workload, "latest")
	before, _ := filepath.EvalSymlinks(latest)

	logPath := filepath.Join(o.out, "logs", c.ID+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		row.Status, row.Reason = StatusError, err.Error()
		return row
	}
	defer logFile.Close()
	var tail tailBuffer
	out := io.MultiWriter(logFile, &tail)

	// A generous bound: a stuck run must not stall the whole board.
	limit := time.Duration(c.expectedSeconds(o.quick)+120) * time.Second
	runCtx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(runCtx, o.workbench, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	// SIGTERM, not SIGKILL, so the workbench can kill its nodes.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 20 * time.Second
	err = cmd.Run()
	if cmd.ProcessState == nil {
		row.Status, row.Reason = StatusError, fmt.Sprintf("run workbench: %v", err)
		return row
	}
	row.ExitCode = cmd.ProcessState.ExitCode()
	// The workbench waits for its nodes, so its rusage counts theirs too.
	row.CPUSeconds = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		row.Status, row.Reason = StatusError, fmt.Sprintf("run workbench: %v", err)
		return row
	}

	after, err := filepath.EvalSymlinks(latest)
	if err != nil || after == before {
		row.Status = StatusError
		row.Reason = fmt.Sprintf("%v (exit %d): %s", errNoRun, row.ExitCode, tail.lastLine())
		row.Links = []Link{{Name: "console", Href: relHref(o.out, logPath)}}
		return row
	}
	// A workbench that does not draw reports itself still gets them, so
	// that the board can link every run's plots.
	if _, err := os.Stat(filepath.Join(after, report.IndexFile)); errors.Is(err, os.ErrNotExist) {
		if err := report.WriteStored(after); err != nil {
			slog.Warn("could not draw the run's report", "challenge", c.ID, "dir", after, "err", err)
		}
	}
	fillRow(&row, c, after)
	if row.Status == StatusError && row.Reason != "" {
		row.Reason += fmt.Sprintf(" (exit %d): %s", row.ExitCode, tail.lastLine())
	}
	row.RunDir = relHref(o.out, after)
	row.Links = append(runLinks(o.out, after), Link{Name: "console", Href: relHref(o.out, logPath)})
	return row
}

// tailBuffer keeps the last few KiB of the console, to quote in errors.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 8192 {
		t.b = t.b[len(t.b)-8192:]
	}
	return len(p), nil
}

func (t *tailBuffer) lastLine() string {
	lines := strings.Split(strings.TrimSpace(string(t.b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func envPrefix(env []string) string {
	if len(env) == 0 {
		return ""
	}
	return strings.Join(env, " ") + " "
}

// shellJoin quotes arguments that need it, for copy-pasting.
func shellJoin(args []string) string {
	var b bytes.Buffer
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~") {
			b.WriteString(a)
			continue
		}
		b.WriteString("'" + strings.ReplaceAll(a, "'", `'\''`) + "'")
	}
	return b.String()
}
