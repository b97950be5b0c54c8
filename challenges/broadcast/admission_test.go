package main

// Admission drivers: the broadcast node as a separate process (this test
// binary re-executed as the node), driven over its stdin and stdout the
// way the workbench drives it, by a flooding client and a normal one.
// Each driver prints its figures. They take about ten seconds and measure
// wall-clock latency, which a loaded machine (a parallel bazel test)
// stretches, so they run only when asked; the mechanisms they exercise
// have deterministic tests in lib/node (fair in-order admission, per-source
// bounds) and here (TestBroadcastTakesOnlySmallIntegers).
//
//	ADMISSION_TARGETS=loose go test -v -run Admission ./challenges/broadcast/
//	ADMISSION_TARGETS=strict go test -v -run Admission ./challenges/broadcast/
//
// The targets (a normal client's p99 ≤ 50 ms during a read flood, no
// stall over 100 ms after a refused 60 MB request, node RSS ≤ 64 MB) are
// asserted with ADMISSION_TARGETS=strict, on a machine with the cores to
// run the node and the driver. With loose the latencies are asserted
// against bounds ten times looser than the targets yet ten times below
// what the node did before (p99 5–9 s, stalls 8–15 s, RSS 1 GB), since
// on a machine whose load is many times its cores the driver's own
// goroutines wait for a CPU for tens of milliseconds; RSS is asserted at
// the target.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// childEnv makes this test binary run as the broadcast node.
const childEnv = "BROADCAST_ADMISSION_NODE"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// drivenNode is the node process with its pipes. Lines to its stdin are
// written whole under inMu, as the workbench's single stdin writer does.
type drivenNode struct {
	t    *testing.T
	cmd  *exec.Cmd
	inMu sync.Mutex
	in   io.WriteCloser

	mu      sync.Mutex
	waiting map[string]chan []byte // "client/msg_id" → the reply's body
	replies map[string]int         // replies per client, for the figures
	refused map[string]int         // error 11 replies per client
	// c3Written is when c3's last request was in the node's stdin pipe,
	// and stdinWaits how long each took to get there (behind the flood's
	// lines, which the node had not read yet).
	c3Written  time.Time
	stdinWaits []float64
}

func startDriven(t *testing.T, nodeIDs ...string) *drivenNode {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=1")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() {
		cmd.Stderr = io.Discard // the node's logs would drown the figures
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &drivenNode{t: t, cmd: cmd, in: in, waiting: map[string]chan []byte{}, replies: map[string]int{}, refused: map[string]int{}}
	go d.readReplies(out)
	t.Cleanup(func() {
		in.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	ids, _ := json.Marshal(nodeIDs)
	if body := d.call("c0", fmt.Sprintf(`{"type":"init","node_id":%q,"node_ids":%s`, nodeIDs[0], ids), 1); !bytes.Contains(body, []byte("init_ok")) {
		t.Fatalf("init: %s", body)
	}
	return d
}

// readReplies reads the node's stdout. Only replies someone waits for are
// parsed; the rest (the flood's read_ok, gossip to peers that do not
// exist) are only counted, so the driver stays cheaper than the node.
func (d *drivenNode) readReplies(out io.Reader) {
	r := bufio.NewReaderSize(out, 4<<20) // above any line the node writes
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		i := bytes.Index(line, []byte(`"dest":"`))
		if i < 0 {
			continue
		}
		dest := line[i+8:]
		dest = dest[:max(0, bytes.IndexByte(dest, '"'))]
		j := bytes.Index(line, []byte(`"in_reply_to":`))
		if j < 0 {
			continue
		}
		num := line[j+14:]
		k := 0
		for k < len(num) && num[k] >= '0' && num[k] <= '9' {
			k++
		}
		key := string(dest) + "/" + string(num[:k])
		d.mu.Lock()
		d.replies[string(dest)]++
		if bytes.Contains(line, []byte(`"code":11`)) {
			d.refused[string(dest)]++
		}
		ch := d.waiting[key]
		delete(d.waiting, key)
		d.mu.Unlock()
		if ch != nil {
			ch <- bytes.Clone(line)
		}
	}
}

// send writes one request; body is its JSON without the closing brace,
// to which msg_id is added.
func (d *drivenNode) send(client, body string, msgID int) {
	line := fmt.Sprintf(`{"src":%q,"dest":"n0","body":%s,"msg_id":%d}}`+"\n", client, body, msgID)
	d.write([]byte(line))
}

func (d *drivenNode) write(lines []byte) {
	d.inMu.Lock()
	defer d.inMu.Unlock()
	d.in.Write(lines)
}

// call sends a request and waits for its reply (nil after 30 s).
func (d *drivenNode) call(client, body string, msgID int) []byte {
	return d.callWithin(client, body, msgID, 30*time.Second)
}

// callWithin is call with another wait.
func (d *drivenNode) callWithin(client, body string, msgID int, wait time.Duration) []byte {
	ch := make(chan []byte, 1)
	d.mu.Lock()
	d.waiting[client+"/"+strconv.Itoa(msgID)] = ch
	d.mu.Unlock()
	d.send(client, body, msgID)
	if client == "c3" {
		d.mu.Lock()
		d.c3Written = time.Now()
		d.mu.Unlock()
	}
	select {
	case b := <-ch:
		return b
	case <-time.After(wait):
		return nil
	}
}

// peakRSS is the node's VmHWM in MB.
func (d *drivenNode) peakRSS() float64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(status), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return -1
}

// store broadcasts values 0..n-1 from c1, pipelined, and waits for the
// last reply.
func (d *drivenNode) store(n int) {
	var batch bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&batch, `{"src":"c1","dest":"n0","body":{"type":"broadcast","message":%d,"msg_id":%d}}`+"\n", i, i+1)
		if batch.Len() > 32<<10 || i == n-1 {
			d.write(batch.Bytes())
			batch.Reset()
		}
	}
	if d.call("c1", `{"type":"read"`, n+1) == nil {
		d.t.Fatal("no reply to the read after storing the values")
	}
}

// measure has c3 send a read every 10 ms until stop closes, one at a
// time, and returns each one's latency in ms; a reply that never comes
// counts as 30 s.
func (d *drivenNode) measure(stop <-chan struct{}) []float64 {
	var lat []float64
	for id := 1; ; id++ {
		select {
		case <-stop:
			return lat
		default:
		}
		start := time.Now()
		d.call("c3", `{"type":"read"`, id)
		d.mu.Lock()
		d.stdinWaits = append(d.stdinWaits, float64(d.c3Written.Sub(start).Microseconds())/1000)
		d.mu.Unlock()
		lat = append(lat, float64(time.Since(start).Microseconds())/1000)
		time.Sleep(10 * time.Millisecond)
	}
}

// skipUnlessAsked skips a load driver unless ADMISSION_TARGETS asks for it.
func skipUnlessAsked(t *testing.T) {
	if testing.Short() || os.Getenv("ADMISSION_TARGETS") == "" {
		t.Skip("a wall-clock load driver: run with ADMISSION_TARGETS=loose or strict")
	}
}

// latencyBound is the bound asserted for a latency whose target is
// target (see the file comment).
func latencyBound(target float64) float64 {
	if os.Getenv("ADMISSION_TARGETS") == "strict" {
		return target
	}
	return 10 * target
}

// summary is Jepsen's quantiles of ms latencies, as text.
func summary(lat []float64) (p50, p99, worst float64) {
	s := slices.Clone(lat)
	slices.Sort(s)
	q := func(p float64) float64 { return s[min(len(s)-1, int(float64(len(s))*p))] }
	return q(0.5), q(0.99), s[len(s)-1]
}

// TestAdmissionReadFloodDoesNotStarveOthers: while c2 floods reads against
// 10k stored values, c3's reads stay quick.
func TestAdmissionReadFloodDoesNotStarveOthers(t *testing.T) {
	skipUnlessAsked(t)
	d := startDriven(t, "n0", "n1")
	d.store(10000)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // c2: reads as fast as the node's stdin takes them
		defer wg.Done()
		var batch bytes.Buffer
		for id := 1; ; {
			select {
			case <-stop:
				return
			default:
			}
			batch.Reset()
			for k := 0; k < 64; k, id = k+1, id+1 {
				fmt.Fprintf(&batch, `{"src":"c2","dest":"n0","body":{"type":"read","msg_id":%d}}`+"\n", id)
			}
			d.write(batch.Bytes())
		}
	}()
	time.AfterFunc(3*time.Second, func() { close(stop) })
	lat := d.measure(stop)
	wg.Wait()
	p50, p99, worst := summary(lat)
	d.mu.Lock()
	flood, refused := d.replies["c2"], d.refused["c2"]
	d.mu.Unlock()
	rss := d.peakRSS()
	d.mu.Lock()
	w50, w99, _ := summary(d.stdinWaits)
	d.mu.Unlock()
	t.Logf("read flood: c3 %d reads p50 %.1f ms p99 %.1f ms max %.1f ms (of which getting into the node's stdin pipe: p50 %.1f ms p99 %.1f ms); c2 got %d replies (%d refused with 11); node peak RSS %.0f MB",
		len(lat), p50, p99, worst, w50, w99, flood, refused, rss)
	if bound := latencyBound(50); p99 > bound {
		t.Errorf("c3's p99 %.1f ms during the flood, want at most %.0f (target 50)", p99, bound)
	}
	if rss > 64 {
		t.Errorf("node peak RSS %.0f MB, want at most 64", rss)
	}
}

// TestAdmissionHugeBroadcastIsRefusedCheaply: a 60 MB broadcast is refused
// and stalls nobody, then or later (retransmission of a stored huge value
// used to stall the node every few seconds).
func TestAdmissionHugeBroadcastIsRefusedCheaply(t *testing.T) {
	skipUnlessAsked(t)
	d := startDriven(t, "n0", "n1")
	d.store(100)
	// Built before measuring: making 60 MB stalls the driver's own
	// goroutines (a 365 ms stall, all of it before the line was sent).
	var huge bytes.Buffer
	huge.Grow(60<<20 + 100)
	huge.WriteString(`{"src":"c2","dest":"n0","body":{"type":"broadcast","message":"`)
	for range 60 {
		huge.WriteString(strings.Repeat("x", 1<<20))
	}
	huge.WriteString(`","msg_id":1}}` + "\n")
	runtime.GC()
	stop := make(chan struct{})
	result := make(chan []float64)
	go func() { result <- d.measure(stop) }()
	time.Sleep(100 * time.Millisecond)
	replied := make(chan []byte, 1)
	d.mu.Lock()
	d.waiting["c2/1"] = replied
	d.mu.Unlock()
	d.write(huge.Bytes())
	var reply []byte
	select {
	case reply = <-replied:
	case <-time.After(5 * time.Second):
	}
	time.Sleep(6 * time.Second) // two retransmission timeouts
	close(stop)
	lat := <-result
	p50, p99, worst := summary(lat)
	rss := d.peakRSS()
	t.Logf("60 MB broadcast: reply %.120s; c3 %d reads p50 %.1f ms p99 %.1f ms max %.1f ms; node peak RSS %.0f MB",
		reply, len(lat), p50, p99, worst, rss)
	if bound := latencyBound(100); worst > bound {
		t.Errorf("c3 stalled %.1f ms, want no stall over %.0f ms (target 100)", worst, bound)
	}
	if !bytes.Contains(reply, []byte(`"code":12`)) {
		t.Errorf("the 60 MB broadcast was answered %.200s, want error 12", reply)
	}
	if rss > 64 {
		t.Errorf("node peak RSS %.0f MB, want at most 64", rss)
	}
}
