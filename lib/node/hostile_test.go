package node_test

// Hostile input: malformed msg_ids, floods before and after init, inter-
// node types from outsiders. Each case here was a silent drop or an
// unbounded pile-up before the runtime bounded it.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

	"github.com/glomers/glomers/lib/node"
	"github.com/glomers/glomers/lib/node/nodetest"
)

func TestMalformedMsgIDAnsweredWithMalformedRequest(t *testing.T) {
	tr := nodetest.Start(t, echoNode())
	tr.Init("n0", "n0")
	long := `"` + strings.Repeat("x", 100) + `"`
	for _, tc := range []struct {
		msgID, echoed, why string
	}{
		{`1.5`, `1.5`, "fraction"},
		{`"9"`, `"9"`, "string"},
		{`2.0`, `2.0`, "fraction"},
		{`1e30`, `1e30`, "exponent"},
		{`9223372036854775808`, `9223372036854775808`, "range"}, // 2^63
		{`-9223372036854775809`, `-9223372036854775809`, "range"},
		{`null`, `null`, "null"},
		{`true`, `true`, "not an integer"},
		{`[1]`, `[1]`, "not an integer"},
		{`{"a":1}`, `{"a":1}`, "not an integer"},
		{long, `null`, "string"}, // too long to echo
	} {
		tr.Send(`{"src":"c1","dest":"n0","body":{"type":"echo","echo":1,"msg_id":` + tc.msgID + `}}`)
		out := tr.Next()
		var got, want any
		_ = json.Unmarshal(out.RawBody, &got)
		_ = json.Unmarshal([]byte(`{"type":"error","code":12,"in_reply_to":`+tc.echoed+`}`), &want)
		text, _ := out.Body["text"].(string)
		delete(got.(map[string]any), "text")
		if out.Dest != "c1" || fmt.Sprint(got) != fmt.Sprint(want) || !strings.Contains(text, "msg_id") || !strings.Contains(text, tc.why) {
			t.Errorf("msg_id %s: want error 12 in reply to %s saying %q, got %s", tc.msgID, tc.echoed, tc.why, out.Line)
		}
	}
	// Integers, the largest included, are still fine.
	tr.Send(`{"src":"c1","dest":"n0","body":{"type":"echo","echo":1,"msg_id":9223372036854775807}}`)
	if out := tr.Next(); out.Type() != "echo_ok" || !strings.Contains(out.Line, `"in_reply_to":9223372036854775807`) {
		t.Fatalf("max int64 msg_id: %s", out.Line)
	}
	// A reply whose in_reply_to is unusable has no one to answer: dropped.
	tr.Send(`{"src":"n1","dest":"n0","body":{"type":"echo_ok","in_reply_to":1.5,"msg_id":3}}`)
	tr.Quiet(quiet)
}

func TestPeerTypesOnlyFromClusterMembers(t *testing.T) {
	n := node.New()
	n.HandlePeer("gossip", func(ctx context.Context, req node.Message) (any, error) {
		return map[string]any{"type": "gossip_ok"}, nil
	})
	tr := nodetest.Start(t, n)
	// Held before init, judged once init says who the members are.
	tr.SendMsg("c5", "n0", map[string]any{"type": "gossip", "msg_id": 1})
	tr.Init("n0", "n0", "n1")
	wantError(t, tr.Next(), 1, maelstrom.NotSupported)
	for i, src := range []string{"c5", "seq-kv", "n2", ""} {
		tr.SendMsg(src, "n0", map[string]any{"type": "gossip", "msg_id": 10 + i})
		if src == "" {
			continue // no src: not a message at all
		}
		wantError(t, tr.Next(), 10+i, maelstrom.NotSupported)
	}
	tr.SendMsg("n1", "n0", map[string]any{"type": "gossip", "msg_id": 20})
	if out := tr.Next(); out.Type() != "gossip_ok" || out.Dest != "n1" {
		t.Fatalf("member's gossip: %s", out.Line)
	}
	if !n.IsMember("n0") || !n.IsMember("n1") || n.IsMember("c5") {
		t.Fatal("IsMember disagrees with init's node_ids")
	}
}

// flood is a node on pipes whose replies are only counted, so a test can
// push 100k requests through it without reading each answer.
type flood struct {
	n     *node.Node
	stdin *io.PipeWriter
	done  chan error

	mu      sync.Mutex
	byType  map[string]int // reply body type → count ("error" split by code below)
	byCode  map[int]int
	initOK  bool
	replies int
}

func startFlood(t *testing.T, n *node.Node) *flood {
	t.Helper()
	r, w := io.Pipe()
	f := &flood{n: n, stdin: w, done: make(chan error, 1), byType: map[string]int{}, byCode: map[int]int{}}
	n.Stdin, n.Stdout = r, f
	n.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() { f.done <- n.Run() }()
	t.Cleanup(func() {
		_ = w.Close()
		select {
		case <-f.done:
		case <-time.After(10 * time.Second):
			t.Error("node did not stop")
		}
	})
	return f
}

func (f *flood) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimSpace(p), []byte{'\n'}) {
		var m struct {
			Body struct {
				Type string `json:"type"`
				Code int    `json:"code"`
			} `json:"body"`
		}
		_ = json.Unmarshal(line, &m)
		f.mu.Lock()
		f.replies++
		f.byType[m.Body.Type]++
		if m.Body.Type == "error" {
			f.byCode[m.Body.Code]++
		}
		f.mu.Unlock()
	}
	return len(p), nil
}

func (f *flood) send(t *testing.T, line string) {
	if _, err := io.WriteString(f.stdin, line+"\n"); err != nil {
		t.Fatalf("write stdin: %v", err)
	}
}

func (f *flood) counts() (byType map[string]int, byCode map[int]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	byType, byCode = map[string]int{}, map[int]int{}
	for k, v := range f.byType {
		byType[k] = v
	}
	for k, v := range f.byCode {
		byCode[k] = v
	}
	return byType, byCode
}

// waitFor polls cond for up to d; it reports whether cond came true.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cond()
}

// memMB is the live heap after a collection plus goroutine stacks, in MB.
func memMB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc+ms.StackInuse) / (1 << 20)
}

// The figures these tests log are the before/after numbers of the issue:
// run with -v to see them.
const (
	floodSize  = 100_000
	defaultCap = 1024 // node.DefaultMaxBacklog and node.DefaultMaxInFlight
	slack      = 64   // goroutines the test itself and the runtime may add
	// floodSources is how many clients a flood comes from, so that
	// 8 × node.DefaultMaxPerSource exceeds defaultCap.
	floodSources = 8
)

func TestBacklogBeforeInitIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("100k requests")
	}
	baseG, baseHeap := runtime.NumGoroutine(), memMB()
	f := startFlood(t, echoNode())
	// From eight clients, so that the backlog's total bound binds before
	// the per-source one (8 × MaxPerSource > MaxBacklog).
	for i := range floodSize {
		f.send(t, fmt.Sprintf(`{"src":"c%d","dest":"n0","body":{"type":"echo","msg_id":%d,"echo":%d}}`, 1+i%floodSources, i+2, i))
	}
	want := floodSize - defaultCap
	refusedAll := waitFor(5*time.Second, func() bool { _, c := f.counts(); return c[maelstrom.TemporarilyUnavailable] >= want })
	g, heap := runtime.NumGoroutine()-baseG, memMB()-baseHeap
	t.Logf("%d requests before init: +%d goroutines, +%.1f MB heap+stacks", floodSize, g, heap)
	if g > slack {
		t.Errorf("%d goroutines for requests waiting for init, want none per request (≤ %d)", g, slack)
	}
	if _, c := f.counts(); !refusedAll || c[maelstrom.TemporarilyUnavailable] != want {
		t.Fatalf("want %d requests over the backlog refused with error 11, got %v", want, c)
	}

	start := time.Now()
	f.send(t, `{"src":"c0","dest":"n0","body":{"type":"init","msg_id":1,"node_id":"n0","node_ids":["n0"]}}`)
	if !waitFor(10*time.Second, func() bool { ty, _ := f.counts(); return ty["echo_ok"] == defaultCap && ty["init_ok"] == 1 }) {
		ty, _ := f.counts()
		t.Fatalf("want init_ok and every held request answered after init, got %v", ty)
	}
	t.Logf("held requests answered %v after init", time.Since(start).Round(time.Millisecond))
	f.send(t, `{"src":"c1","dest":"n0","body":{"type":"echo","msg_id":1,"echo":"after"}}`)
	if !waitFor(5*time.Second, func() bool { ty, _ := f.counts(); return ty["echo_ok"] == defaultCap+1 }) {
		t.Fatal("node stopped answering after the flood")
	}
}

func TestFloodOfRequestsStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("100k requests")
	}
	for _, withMsgID := range []bool{true, false} {
		t.Run(fmt.Sprintf("msg_id=%v", withMsgID), func(t *testing.T) {
			// Handlers that cannot finish: a lock held by a protocol
			// waiting on a peer that never acknowledges.
			var stuck sync.Mutex
			stuck.Lock()
			n := node.New()
			n.Handle("broadcast", func(ctx context.Context, req node.Message) (any, error) {
				stuck.Lock()
				defer stuck.Unlock()
				return map[string]any{"type": "broadcast_ok"}, nil
			})
			baseG, baseHeap := runtime.NumGoroutine(), memMB()
			f := startFlood(t, n)
			f.send(t, `{"src":"c0","dest":"n0","body":{"type":"init","msg_id":1,"node_id":"n0","node_ids":["n0","n1"]}}`)
			if !waitFor(5*time.Second, func() bool { ty, _ := f.counts(); return ty["init_ok"] == 1 }) {
				t.Fatal("no init_ok")
			}

			var peakMu sync.Mutex
			peak := 0
			stop := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				for {
					select {
					case <-stop:
						return
					case <-time.After(time.Millisecond):
					}
					g := runtime.NumGoroutine() - baseG
					peakMu.Lock()
					peak = max(peak, g)
					peakMu.Unlock()
				}
			}()
			for i := range floodSize {
				id := ""
				if withMsgID {
					id = fmt.Sprintf(`,"msg_id":%d`, i+2)
				}
				// Eight sources: the total bound binds before the
				// per-source one (8 × MaxPerSource > MaxInFlight).
				f.send(t, fmt.Sprintf(`{"src":"c%d","dest":"n0","body":{"type":"broadcast","message":%d%s}}`, 1+i%floodSources, i, id))
			}
			want := floodSize - defaultCap
			if withMsgID {
				waitFor(5*time.Second, func() bool { _, c := f.counts(); return c[maelstrom.TemporarilyUnavailable] >= want })
			} else {
				time.Sleep(200 * time.Millisecond)
			}
			close(stop)
			<-sampled
			heap := memMB() - baseHeap
			t.Logf("%d requests on a stuck lock: peak +%d goroutines, +%.1f MB heap+stacks, %d in flight", floodSize, peak, heap, n.InFlight())
			if peak > defaultCap+slack {
				t.Errorf("peak %d goroutines for %d stuck requests, want ≤ %d", peak, floodSize, defaultCap+slack)
			}
			if withMsgID {
				if _, c := f.counts(); c[maelstrom.TemporarilyUnavailable] != want {
					t.Errorf("want %d requests over the limit refused with error 11, got %v", want, c)
				}
			} else if ty, _ := f.counts(); ty["error"] != 0 {
				t.Errorf("requests without msg_id must not be answered, got %v", ty)
			}

			stuck.Unlock() // the peer acknowledges at last
			wantOK := 0
			if withMsgID {
				wantOK = defaultCap
			}
			if !waitFor(5*time.Second, func() bool { return n.InFlight() == 0 }) {
				t.Fatalf("%d handlers still running after the lock was released", n.InFlight())
			}
			if ty, _ := f.counts(); ty["broadcast_ok"] != wantOK {
				t.Errorf("want the %d admitted requests answered, got %v", wantOK, ty)
			}
		})
	}
}

// FuzzHostileLine feeds one arbitrary line to an initialised node and
// checks that the node answers it only with well-formed messages, answers
// every request that has a msg_id (echoing it in in_reply_to), and then
// still answers an ordinary request. The seeds are the hostile
// lines seen so far; `go test -fuzz FuzzHostileLine ./lib/node` looks for
// more.
func FuzzHostileLine(f *testing.F) {
	for _, seed := range []string{
		`{"src":"c1","dest":"n0","body":{"type":"echo","msg_id":1.5}}`,
		`{"src":"c1","dest":"n0","body":{"type":"echo","msg_id":"9"}}`,
		`{"src":"c1","dest":"n0","body":{"type":"echo","msg_id":null}}`,
		`{"src":"c1","dest":"n0","body":{"type":"echo","msg_id":1e30}}`,
		`{"src":"c1","dest":"n0","body":{"type":"echo","msg_id":9223372036854775808}}`,
		`{"src":"c1","dest":"n0","body":{"type":"echo","in_reply_to":-1}}`,
		`{"src":"c1","dest":"n0","body":{"type":"init","msg_id":5,"node_id":"n9","node_ids":[]}}`,
		`{"src":"c1","dest":"n0","body":{"type":7,"msg_id":3}}`,
		`{"src":"","body":{}}`,
		`{"src":"c1","body":{"type":"echo","msg_id":4,"echo":` + strings.Repeat("[", 10000) + `}}`,
		"\x00\xff{",
		`null`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\n\r") {
			t.Skip("one line at a time")
		}
		var probe any
		if err := json.Unmarshal([]byte(line), &probe); err != nil && strings.Contains(err.Error(), "exceeded max depth") {
			t.Skip("nested beyond encoding/json's limit: TestDeeplyNestedRequestAnsweredWithMalformedRequest and the envelopeScan tests cover it")
		}
		src, wantReplyTo, answerable := requestID(line)
		tr := nodetest.Start(t, echoNode())
		tr.Init("n0", "n0")
		tr.Send(line)
		tr.Send(`{"src":"c9","dest":"n0","body":{"type":"echo","msg_id":999,"echo":"alive"}}`)
		answered, alive := false, false
		for !alive || (answerable && !answered) {
			out := tr.Next()
			var body map[string]json.RawMessage
			if err := json.Unmarshal(out.RawBody, &body); err != nil {
				t.Fatalf("node wrote a line that is not a message: %q", out.Line)
			}
			replyTo, ok := body["in_reply_to"]
			if !ok {
				t.Fatalf("reply without in_reply_to: %s", out.Line)
			}
			switch {
			case out.Dest == "c9" && string(replyTo) == "999":
				nodetest.WantBody(t, out, "c9", `{"type":"echo_ok","echo":"alive","in_reply_to":999}`)
				alive = true
			case answerable && out.Dest == src && compactJSON(replyTo) == wantReplyTo:
				answered = true
			default:
				t.Fatalf("unexpected message %s (want in_reply_to %s to %q)", out.Line, wantReplyTo, src)
			}
		}
		if err := tr.Close(); err != nil {
			t.Fatalf("Run: %v", err)
		}
	})
}

// requestID says whether line is a request the node must answer (a JSON
// object with a string src and an object body that has a msg_id and no
// in_reply_to), and what in_reply_to the answer must carry: the msg_id
// as an integer, or as sent when it is not one (null when too long).
func requestID(line string) (src, replyTo string, ok bool) {
	// Maps, not a struct: struct fields would match keys regardless of
	// case, as the node does not.
	var env, body map[string]json.RawMessage
	if json.Unmarshal([]byte(line), &env) != nil || json.Unmarshal(env["src"], &src) != nil || src == "" ||
		json.Unmarshal(env["body"], &body) != nil || body == nil {
		return "", "", false
	}
	raw, has := body["msg_id"]
	if _, reply := body["in_reply_to"]; !has || reply {
		return "", "", false
	}
	var id int64
	if !strings.ContainsAny(string(raw), ".eE") && json.Unmarshal(raw, &id) == nil && string(bytes.TrimSpace(raw)) != "null" {
		return src, fmt.Sprint(id), true
	}
	if len(raw) > 64 {
		return src, "null", true
	}
	return src, compactJSON(raw), true
}

func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}
