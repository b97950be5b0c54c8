package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/runner"
	"github.com/glomers/glomers/tools/workbench/store"
	"github.com/glomers/glomers/tools/workbench/workload"
	"github.com/glomers/glomers/tools/workbench/workload/echo"
)

// testNode is the testdata node binary, built once by TestMain ("" when
// no Go toolchain is available, e.g. in a sandbox).
var testNode string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "workbench-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	StoreRoot = filepath.Join(dir, "store")
	if bin := os.Getenv("TESTNODE_BIN"); bin != "" {
		// A prebuilt test node: under Bazel a data dependency named by its
		// path from the runfiles root (the test itself runs in its package
		// directory, so a relative path is resolved against TEST_SRCDIR).
		if srcdir := os.Getenv("TEST_SRCDIR"); srcdir != "" && !filepath.IsAbs(bin) {
			bin = filepath.Join(srcdir, os.Getenv("TEST_WORKSPACE"), bin)
		}
		if abs, err := filepath.Abs(bin); err == nil {
			testNode = abs
		}
	} else if goBin, err := exec.LookPath("go"); err == nil {
		bin := filepath.Join(dir, "testnode")
		cmd := exec.Command(goBin, "build", "-o", bin, "./testdata/testnode")
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build testnode:", err)
			os.Exit(1)
		}
		testNode = bin
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func needNode(t *testing.T) {
	t.Helper()
	if testNode == "" {
		t.Skip("no go toolchain to build the test node")
	}
}

func TestParseTestArgs(t *testing.T) {
	o, err := ParseTestArgs([]string{"-w", "echo", "--bin", "x", "--node-count=3", "--rate", "0.5",
		"--concurrency", "2n", "--latency", "10", "--latency-dist", "uniform", "--nemesis", "partition",
		"--nemesis-interval", "2.5", "--availability", "total", "--log-stderr", "extra", "–-nemesis", "partition",
		"--seed", "42", "--username", "root", "--no-ssh", "--consistency-models", "read-committed"})
	if err != nil {
		t.Fatal(err)
	}
	want := &TestOptions{
		Workload: "echo", Bin: "x", Args: []string{"extra", "–-nemesis", "partition"},
		Nodes: []string{"n0", "n1", "n2"}, Rate: 0.5, LatencyMS: 10, LatencyDist: "uniform", Delivery: "maelstrom",
		Nemesis: []string{"partition"}, NemesisInterval: 2.5, Topology: "grid", Availability: "total",
		Models: []string{"read-committed"}, MaxTxnLength: 4, MaxWritesPerKey: 16, TimeLimit: 60,
		Concurrency: 6, TestCount: 1, LogStderr: true, Seed: 42, SeedGiven: true,
	}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("got  %+v\nwant %+v", o, want)
	}

	d, err := ParseTestArgs([]string{"--bin", "x", "-w", "unique-ids"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Rate != 5 || d.TimeLimit != 60 || d.Concurrency != 5 || len(d.Nodes) != 5 || d.Nodes[0] != "n1" || d.LatencyDist != "constant" {
		t.Errorf("defaults: %+v", d)
	}
	n, err := ParseTestArgs([]string{"--bin", "x", "-w", "echo", "--nodes", "a,b", "-n", "d", "--concurrency", "3"})
	if err != nil || !reflect.DeepEqual(n.Nodes, []string{"a", "b", "d"}) || n.Concurrency != 3 {
		t.Errorf("explicit nodes: %+v %v", n, err)
	}
	// The default workload is lin-kv, as in Maelstrom.
	if o, err := ParseTestArgs([]string{"--bin", "x", "--concurrency", "2n"}); err != nil || o.Workload != "lin-kv" {
		t.Errorf("default workload: %+v %v", o, err)
	}
}

func TestBadArgsExit254WithOneLine(t *testing.T) {
	bin := os.Args[0] // any existing executable
	for _, args := range [][]string{
		{"test", "-w", "echo"},                                                // no --bin
		{"test", "-w", "nope", "--bin", bin},                                  // unknown workload
		{"test", "-w", "echo", "--bin", bin, "--rate", "-1"},                  // negative rate
		{"test", "-w", "echo", "--bin", bin, "--rate", "fast"},                // not a number
		{"test", "-w", "echo", "--bin", bin, "--latency-dist", "exponential"}, // exponential needs latency
		{"test", "-w", "echo", "--bin", bin, "--latency-dist", "normal", "--latency", "5"},
		{"test", "-w", "echo", "--bin", bin, "--nemesis", "kill"},
		{"test", "-w", "echo", "--bin", bin, "--concurrency", "xn"},
		{"test", "-w", "echo", "--bin", bin, "--concurrency", "0"},
		{"test", "-w", "echo", "--bin", bin, "--node-count", "0"},
		{"test", "-w", "echo", "--bin", bin, "--time-limit", "1.5"},
		{"test", "-w", "echo", "--bin", bin, "--availability", "most"},
		{"test", "-w", "echo", "--bin", bin, "--topology", "star"},
		{"test", "-w", "echo", "--bin", bin, "--frobnicate"},
		{"test", "-w", "echo", "--bin", bin, "--time-limit"},
		{"test", "-w", "echo", "--bin", "/no/such/binary"},
		{"test", "-w", "echo", "--bin", t.TempDir()},
		{"test", "-w", "echo", "--bin", bin, "--nodes", "n1,c2"},
		{"frobnicate"},
	} {
		var out, errb bytes.Buffer
		code := Main(args, &out, &errb)
		if code != ExitBadArgs {
			t.Errorf("%q: exit %d, want %d", args, code, ExitBadArgs)
		}
		msg := errb.String()
		if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "workbench: ") {
			t.Errorf("%q: stderr %q, want one line starting workbench:", args, msg)
		}
	}
	var out, errb bytes.Buffer
	Main([]string{"test", "-w", "foo", "--bin", bin}, &out, &errb)
	if !strings.Contains(errb.String(), `unknown workload "foo" (known: `) || !strings.Contains(errb.String(), "echo") {
		t.Errorf("unknown workload message: %q", errb.String())
	}
}

// runCLI runs the test command and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(append([]string{"test"}, args...), &out, &errb)
	return code, out.String() + errb.String()
}

// latestRun loads the newest stored run of a workload.
func latestRun(t *testing.T, out string) *store.Loaded {
	t.Helper()
	i := strings.Index(out, "results in ")
	if i < 0 {
		t.Fatalf("no results line in output:\n%s", out)
	}
	dir := strings.TrimSpace(strings.SplitN(out[i+len("results in "):], "\n", 2)[0])
	l, err := store.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestEchoEndToEnd(t *testing.T) {
	needNode(t)
	t.Parallel()
	start := time.Now()
	code, out := runCLI(t, "-w", "echo", "--bin", testNode, "--node-count", "1", "--time-limit", "2", "--rate", "20")
	if code != ExitValid {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("a 2 s run took %v", d)
	}
	if !strings.Contains(out, "Everything looks good!") {
		t.Errorf("no success line:\n%s", out)
	}
	l := latestRun(t, out)
	if len(l.History) < 10 {
		t.Errorf("only %d history entries for 2 s at rate 20", len(l.History))
	}
	for _, f := range []string{"results.edn", "results.json", "history.txt", "history.json", "jepsen.log", "test.json", "node-logs/n0.log"} {
		if _, err := os.Stat(filepath.Join(l.Dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	edn, _ := os.ReadFile(filepath.Join(l.Dir, "results.edn"))
	for _, want := range []string{":msgs-per-op", ":valid? true", ":stats", ":availability", ":workload"} {
		if !strings.Contains(string(edn), want) {
			t.Errorf("results.edn lacks %s", want)
		}
	}
	// Worker clients come after the init client (c0) and the setup client (c1).
	for _, op := range l.History {
		if op.Process != 0 {
			t.Fatalf("one thread should only use process 0 when nothing fails: %+v", op)
		}
	}
	logs, _ := os.ReadFile(filepath.Join(l.Dir, "node-logs", "n0.log"))
	if !strings.Contains(string(logs), `"src":"c0"`) || !strings.Contains(string(logs), `"src":"c2"`) {
		t.Errorf("node log should show init from c0 and work from c2:\n%.400s", logs)
	}
}

func TestBrokenNodesAreInvalid(t *testing.T) {
	needNode(t)
	for _, tc := range []struct {
		mode, workload, want string
		nodes                string
	}{
		{"wrong-echo", "echo", "Expected a message with :echo", "1"},
		{"extra-key", "echo", "malformed RPC response", "1"},
		{"malformed", "echo", "wrote an invalid line to stdout", "1"},
		{"silent", "echo", "no echo operation succeeded", "1"},
		{"dup-ids", "unique-ids", "already returned by", "3"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			code, out := runCLI(t, "-w", tc.workload, "--bin", testNode, "--node-count", tc.nodes, "--time-limit", "1", "--rate", "20", tc.mode)
			if code != ExitInvalid {
				t.Fatalf("exit %d, want 1:\n%s", code, out)
			}
			if !strings.Contains(out, tc.want) || !strings.Contains(out, "Analysis invalid!") {
				t.Errorf("output lacks %q:\n%s", tc.want, out)
			}
		})
	}
}

func TestUniqueIDsUnderPartitionIsValidAndRecordsNemesis(t *testing.T) {
	needNode(t)
	t.Parallel()
	code, out := runCLI(t, "-w", "unique-ids", "--bin", testNode, "--node-count", "3", "--time-limit", "2",
		"--rate", "200", "--availability", "total", "--nemesis", "partition", "--nemesis-interval", "0.3")
	if code != ExitValid {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	l := latestRun(t, out)
	starts := 0
	for _, op := range l.History {
		if !op.IsClient() && op.F == "start-partition" {
			starts++
		}
	}
	if starts < 2 {
		t.Errorf("only %d start-partition entries with a 0.3 s interval over 2 s", starts)
	}
	if l.History[0].IsClient() || l.History[0].F != "start-partition" {
		// Jepsen's stagger issues the first nemesis op at once; clients
		// race it, so only check it is near the start.
		found := false
		for _, op := range l.History[:5] {
			found = found || !op.IsClient()
		}
		if !found {
			t.Errorf("first nemesis op not near the start of the history")
		}
	}
}

func TestSameSeedSameOps(t *testing.T) {
	needNode(t)
	t.Parallel()
	values := func() []any {
		code, out := runCLI(t, "-w", "echo", "--bin", testNode, "--node-count", "1", "--time-limit", "1", "--rate", "30", "--seed", "1234")
		if code != ExitValid {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		var v []any
		for _, op := range latestRun(t, out).History {
			if op.Type == history.Invoke {
				v = append(v, op.Value)
			}
		}
		return v
	}
	a, b := values(), values()
	n := min(len(a), len(b))
	if n < 10 || !reflect.DeepEqual(a[:n], b[:n]) {
		t.Errorf("same seed, different ops:\n%v\n%v", a, b)
	}
}

func TestNoOrphansAfterRun(t *testing.T) {
	needNode(t)
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	code, out := runCLI(t, "-w", "echo", "--bin", testNode, "--node-count", "2", "--time-limit", "1", "spawn", pidFile)
	if code != ExitValid {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(string(b))
	// The grandchild was killed with the node: gone, or at most a zombie
	// waiting for a reaper. The node may run in its own PID namespace, so
	// the pid it wrote is the child's pid there: find the child by the last
	// field of NSpid (the innermost pid; the only one without a namespace).
	deadline := time.Now().Add(2 * time.Second)
	for {
		hostPid, st := liveSleeper(pid)
		if hostPid == 0 {
			return
		}
		if time.Now().After(deadline) {
			syscall.Kill(hostPid, syscall.SIGKILL)
			t.Fatalf("child %d of the node still running after the run: %s", hostPid, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// liveSleeper finds a running "sleep 1000" whose innermost pid is nsPid.
func liveSleeper(nsPid int) (int, string) {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmd, err := os.ReadFile(d + "/cmdline")
		if err != nil || string(cmd) != "sleep\x001000\x00" {
			continue
		}
		status, _ := os.ReadFile(d + "/status")
		for _, line := range strings.Split(string(status), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 || f[0] != "NSpid:" || f[len(f)-1] != strconv.Itoa(nsPid) {
				continue
			}
			st, _ := os.ReadFile(d + "/stat")
			if strings.Contains(string(st), ") Z ") {
				continue
			}
			hostPid, _ := strconv.Atoi(filepath.Base(d))
			return hostPid, string(st)
		}
	}
	return 0, ""
}

// shortEcho is the echo workload with a short RPC timeout, so runs against
// unresponsive nodes stay fast.
func shortEcho() *workload.Workload {
	w := *echo.Workload
	w.RPCTimeout = func(workload.Options) time.Duration { return 300 * time.Millisecond }
	return &w
}

func runnerConfig(mode string, nodes ...string) runner.Config {
	return runner.Config{
		Workload: shortEcho(), Bin: testNode, Args: []string{mode}, Seed: 1,
		Opts:        workload.Options{Nodes: nodes, Concurrency: len(nodes), Rate: 20, TimeLimit: time.Second},
		InitTimeout: 300 * time.Millisecond,
	}
}

func TestInitFailureAborts(t *testing.T) {
	needNode(t)
	t.Parallel()
	_, err := runner.Run(context.Background(), runnerConfig("no-init", "n0", "n1"))
	var setup *runner.SetupError
	if err == nil || !errorsAs(err, &setup) || !strings.Contains(err.Error(), "node n0 did not reply to init") {
		t.Fatalf("err = %v, want a setup error naming n0", err)
	}
}

func TestCrashedNodeIsReported(t *testing.T) {
	needNode(t)
	t.Parallel()
	out, err := runner.Run(context.Background(), runnerConfig("crash", "n0"))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Crashes) != 1 || !strings.Contains(out.Crashes[0].Error(), "crashing on purpose") {
		t.Errorf("crashes = %v, want n0's crash with its last stderr", out.Crashes)
	}
}

func TestInterruptTearsDown(t *testing.T) {
	needNode(t)
	t.Parallel()
	cfg := runnerConfig("ok", "n0")
	cfg.Opts.TimeLimit = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	out, err := runner.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Interrupted || time.Since(start) > 3*time.Second {
		t.Errorf("interrupted=%v after %v", out.Interrupted, time.Since(start))
	}
	if out.Results.Valid() == checker.Invalid && len(out.History) == 0 {
		t.Error("no history recorded before the interrupt")
	}
}

func errorsAs(err error, target **runner.SetupError) bool {
	se, ok := err.(*runner.SetupError)
	if ok {
		*target = se
	}
	return ok
}

func TestSendToUnknownNodeSilencesTheNode(t *testing.T) {
	needNode(t)
	t.Parallel()
	// Maelstrom's net/send! assertion on n99 ends the node's stdout
	// reader, so the echo reply that follows is never delivered: every
	// op times out and the echo checker fails.
	out, err := runner.Run(context.Background(), runnerConfig("stray", "n0"))
	if err != nil {
		t.Fatal(err)
	}
	if out.Valid != checker.Invalid {
		t.Errorf("verdict %v, want invalid", out.Valid)
	}
	if len(out.NodeErrors) != 1 || !strings.Contains(out.NodeErrors[0], `unknown destination "n99"`) {
		t.Errorf("node errors %q, want one naming n99", out.NodeErrors)
	}
	for _, op := range out.History {
		if op.Type == history.OK {
			t.Fatalf("an op succeeded after the node's output was cut: %+v", op)
		}
	}
}

func TestTrailingJunkAfterAMessageIsIgnored(t *testing.T) {
	needNode(t)
	t.Parallel()
	// Maelstrom's JSON parser reads the first value of a line and stops.
	out, err := runner.Run(context.Background(), runnerConfig("trailing", "n0"))
	if err != nil {
		t.Fatal(err)
	}
	if out.Valid != checker.Valid || len(out.NodeErrors) != 0 {
		t.Errorf("verdict %v, node errors %q; want valid and none", out.Valid, out.NodeErrors)
	}
}
