package process

import (
	"context"
	"fmt"
	"github.com/glomers/glomers/tools/workbench/store"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/network"

	"github.com/glomers/glomers/tools/workbench/process/hostiletest"
)

// hostileNode is testdata/hostile, built once by TestMain ("" when there
// is no Go toolchain and no prebuilt binary).
var hostileNode string

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		runHelper()
		return
	}
	os.Exit(hostiletest.Main(m, "./testdata/hostile", &hostileNode))
}

func needHostile(t *testing.T) {
	t.Helper()
	if hostileNode == "" {
		t.Skip("no go toolchain to build the hostile node")
	}
}

// startHostile starts the hostile node as n0 in the given mode and sends
// it init from c0.
func startHostile(t *testing.T, net *network.Network, args ...string) *Node {
	t.Helper()
	c0 := net.Join("c0")
	n, err := Start(Config{ID: "n0", Bin: hostileNode, Args: args, Net: net})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop() })
	if _, err := net.Send("c0", "n0", []byte(`{"type":"init","msg_id":1,"node_id":"n0","node_ids":["n0"]}`)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if msg, err := c0.Recv(ctx); err != nil || !strings.Contains(string(msg.Body), "init_ok") {
		t.Fatalf("no init_ok from the hostile node: %s %v", msg.Body, err)
	}
	return n
}

// waitFor polls cond every 10 ms until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

func TestOverlongLineCostsOnlyTheLimit(t *testing.T) {
	needHostile(t)
	net := network.New(network.Config{})
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	n := startHostile(t, net, "longline", "100")
	if !waitFor(20*time.Second, func() bool { return len(n.Errors()) > 0 }) {
		t.Fatal("no error for a 100 MiB line")
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	// Everything allocated while the line was read, garbage included: a
	// copy of the line (or its preview string) would be 100 MiB.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 3*maxLine {
		t.Errorf("reading a 100 MiB line allocated %d MiB, want at most %d", alloc>>20, 3*maxLine>>20)
	}
	errs := n.Errors()
	if !strings.Contains(errs[0], "longer than") || !strings.Contains(errs[0], "104857") || len(errs[0]) > 2000 {
		t.Errorf("error %.300q…, want a short one naming the line's length", errs[0])
	}
	n.Stop()
	for _, l := range n.stdoutBuf.lines() {
		if len(l) > previewLen+100 {
			t.Errorf("crash report keeps a %d-byte line", len(l))
		}
	}
}

// sleepers counts live processes whose command line carries token.
func sleepers(token string) (pids []int) {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmd, err := os.ReadFile(d + "/cmdline")
		if err != nil || !strings.Contains(string(cmd), "\x00"+token) {
			continue
		}
		if st, _ := os.ReadFile(d + "/stat"); strings.Contains(string(st), ") Z ") {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(d))
		pids = append(pids, pid)
	}
	return pids
}

func killAll(pids []int) {
	for _, p := range pids {
		syscall.Kill(p, syscall.SIGKILL)
	}
}

func TestSetsidGrandchildrenDieWithTheNode(t *testing.T) {
	needHostile(t)
	token := fmt.Sprintf("tok%d-%d", os.Getpid(), time.Now().UnixNano())
	net := network.New(network.Config{})
	n := startHostile(t, net, "setsid", token)
	if n.Containment() == containPgroup {
		t.Skip("the kernel grants no PID namespace here: a setsid grandchild escapes the process group (the documented limit)")
	}
	// The node itself, its setsid child and the double-forked daemon.
	if !waitFor(5*time.Second, func() bool { return len(sleepers(token)) >= 3 }) {
		t.Fatalf("hostile node started %d processes, want 3", len(sleepers(token)))
	}
	n.Stop()
	if !waitFor(2*time.Second, func() bool { return len(sleepers(token)) == 0 }) {
		left := sleepers(token)
		killAll(left)
		t.Fatalf("%d processes of the node's tree survived its teardown (%v)", len(left), left)
	}
}

// helperEnv makes the test binary a stand-in workbench that starts the
// hostile node and waits to be killed.
const helperEnv = "PROCESS_TEST_HELPER"

func runHelper() {
	net := network.New(network.Config{})
	if n, err := Start(Config{ID: "n0", Bin: os.Getenv("HOSTILE"), Args: []string{"setsid", os.Getenv(helperEnv)}, Net: net}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	} else if n.Containment() == containPgroup {
		os.Exit(3) // the test skips: no namespace to hold the tree
	}
	time.Sleep(time.Hour)
}

func TestNodeTreeDiesWithAKilledWorkbench(t *testing.T) {
	needHostile(t)
	token := fmt.Sprintf("tok%d-%d", os.Getpid(), time.Now().UnixNano())
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), helperEnv+"="+token, "HOSTILE="+hostileNode)
	helper.Stderr = os.Stderr
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- helper.Wait() }()
	if !waitFor(5*time.Second, func() bool { return len(sleepers(token)) >= 3 }) {
		helper.Process.Kill()
		if err := <-exited; err != nil && strings.Contains(err.Error(), "exit status 3") {
			killAll(sleepers(token))
			t.Skip("the kernel grants no PID namespace here: a SIGKILLed workbench leaves the node's setsid grandchildren behind (the documented limit)")
		}
		t.Fatalf("hostile node started %d processes, want 3", len(sleepers(token)))
	}
	// SIGKILL: the workbench gets no chance to tear anything down.
	helper.Process.Kill()
	<-exited
	if !waitFor(2*time.Second, func() bool { return len(sleepers(token)) == 0 }) {
		left := sleepers(token)
		killAll(left)
		t.Fatalf("%d processes of the node's tree survived a SIGKILLed workbench (%v)", len(left), left)
	}
}

func TestDoneClosesWhenTheNodeExits(t *testing.T) {
	needHostile(t)
	net := network.New(network.Config{})
	start := time.Now()
	n := startHostile(t, net, "die", "0.3")
	select {
	case <-n.Done():
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Done closed %v after start, the node died at 0.3 s", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed 5 s after the node died")
	}
	var crash *CrashError
	if err := n.Stop(); err == nil || !asCrash(err, &crash) || !strings.Contains(crash.Error(), "dying on purpose") {
		t.Errorf("Stop = %v, want a crash report with the node's last stderr", err)
	}
}

func asCrash(err error, target **CrashError) bool {
	c, ok := err.(*CrashError)
	*target = c
	return ok
}

func TestAFloodingNodeCostsBoundedMemory(t *testing.T) {
	needHostile(t)
	net := network.New(network.Config{})
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	// 200k messages of ~250 bytes to itself, and it never reads them.
	n := startHostile(t, net, "flood-deaf", "200000")
	flooded := func() bool {
		for _, e := range n.Errors() {
			if strings.Contains(e, "flooded") {
				return true
			}
		}
		return false
	}
	waitFor(30*time.Second, flooded)   // slow under -race on a busy machine
	time.Sleep(200 * time.Millisecond) // let the reader finish the flood
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	// Unbounded, the queue holds 200k messages: ~100 MB.
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 40<<20 {
		t.Errorf("the flood holds %d MiB of heap, want under 40", grown>>20)
	}
	if !flooded() {
		t.Errorf("errors %q, want one reporting the discarded flood", n.Errors())
	}
}

func TestWithoutNamespacesANodeStillRunsInItsOwnGroup(t *testing.T) {
	needHostile(t)
	containMu.Lock()
	saved := containFrom
	containFrom = len(containModes) - 1
	containMu.Unlock()
	defer func() {
		containMu.Lock()
		containFrom = saved
		containMu.Unlock()
	}()
	n := startHostile(t, network.New(network.Config{}), "ok")
	if n.Containment() != containPgroup {
		t.Errorf("containment %q, want the process-group fallback", n.Containment())
	}
	if pgid, err := syscall.Getpgid(n.Pid()); err != nil || pgid != n.Pid() {
		t.Errorf("node's process group %d (%v), want its own (%d)", pgid, err, n.Pid())
	}
	if err := n.Stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
}

// A node sending 7 MiB lines to a peer that stopped reading (here itself)
// took the workbench to 1.3 GB and wrote 352 MB of journal for 48
// messages, because the queue bound counted messages only. Bounded in
// bytes, the queue holds at most maxBacklogBytes and the journal keeps a
// preview of each huge body.
func TestHugeLinesToADeafPeerCostBoundedMemoryAndJournal(t *testing.T) {
	needHostile(t)
	const mib, count = 7, 30 // 210 MiB in all: far over either bound
	dir := t.TempDir()
	journal, err := store.CreateJournal(dir, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer journal.Close()
	net := network.New(network.Config{Journal: journal})

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	peak := make(chan uint64)
	stop := make(chan struct{})
	go func() {
		var top uint64
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			top = max(top, m.HeapInuse)
			select {
			case <-stop:
				peak <- top
				return
			case <-tick.C:
			}
		}
	}()

	n := startHostile(t, net, "bigflood", fmt.Sprintf("%dx%d", mib, count))
	// The node tells c0 once it has written the whole flood; its stdout
	// reader has routed (or discarded) every huge line before this one.
	c0 := net.Join("c0") // startHostile's c0, replaced: init is done
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if msg, err := c0.Recv(ctx); err != nil || !strings.Contains(string(msg.Body), "flood_done") {
		t.Fatalf("no flood_done from the node: %s %v", msg.Body, err)
	}
	close(stop)
	grown := int64(<-peak) - int64(before.HeapInuse)
	if err := journal.Flush(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, store.JournalName))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("peak heap growth %d MiB, journal %d KiB, queued %d MiB", grown>>20, st.Size()>>10, net.QueuedBytes()>>20)

	// Unbounded, the inbox holds all 210 MiB and the heap peaked at 366
	// MiB; bounded, the inbox holds under 32 MiB, plus the message being
	// written and the garbage of parsing 7 MiB lines (peak ~105 MiB).
	if grown > 160<<20 {
		t.Errorf("the flood grew the heap by %d MiB at its peak, want at most 160", grown>>20)
	}
	if q := net.QueuedBytes(); q > maxBacklogBytes {
		t.Errorf("%d bytes queued, want at most maxBacklogBytes (%d)", q, maxBacklogBytes)
	}
	// Whole, every send of a 7 MiB body is 7 MiB of journal.
	if st.Size() > 1<<20 {
		t.Errorf("journal of %d KiB, want at most 1 MiB: huge bodies must be kept as previews", st.Size()>>10)
	}
	var flooded string
	for _, e := range n.Errors() {
		if strings.Contains(e, "flooded") {
			flooded = e
		}
	}
	if !strings.Contains(flooded, "bytes queued") {
		t.Errorf("errors %q, want one reporting the flood discarded over the byte bound", n.Errors())
	}
}
