package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

	"github.com/glomers/glomers/lib/node"
	"github.com/glomers/glomers/lib/node/nodetest"
)

// quiet is how long a test waits to be sure the node sends nothing. The
// node answers in microseconds, so this is ample and keeps tests fast.
const quiet = 50 * time.Millisecond

func echoNode() *node.Node {
	n := node.New()
	n.Handle("echo", func(ctx context.Context, req node.Message) (any, error) {
		var body struct {
			Echo json.RawMessage `json:"echo"`
		}
		if err := node.Decode(req, &body); err != nil {
			return nil, err
		}
		return map[string]any{"type": "echo_ok", "echo": body.Echo}, nil
	})
	return n
}

func wantError(t *testing.T, o nodetest.Output, inReplyTo, code int) {
	t.Helper()
	if o.Type() != "error" || o.Int("in_reply_to") != inReplyTo || o.Int("code") != code {
		t.Fatalf("want error %d in reply to %d, got %s", code, inReplyTo, o.Line)
	}
}

func TestInitAndEcho(t *testing.T) {
	n := echoNode()
	tr := nodetest.Start(t, n)
	tr.Init("n1", "n0", "n1", "n2")
	if n.ID() != "n1" || strings.Join(n.NodeIDs(), ",") != "n0,n1,n2" {
		t.Fatalf("ID %q NodeIDs %v after init", n.ID(), n.NodeIDs())
	}
	tr.Send(`{"id":7,"src":"c3","dest":"n1","body":{"type":"echo","msg_id":5,"echo":"Please echo 12"}}`)
	out := tr.Next()
	if out.Src != "n1" || out.Dest != "c3" || out.Type() != "echo_ok" || out.Int("in_reply_to") != 5 || out.Body["echo"] != "Please echo 12" {
		t.Fatalf("unexpected echo reply %s", out.Line)
	}
	// The envelope must carry only src, dest and body: Maelstrom rejects others.
	var env map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out.Line), &env); err != nil || len(env) != 3 {
		t.Fatalf("envelope %s: want exactly src, dest, body", out.Line)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("Run returned %v at end of input, want nil", err)
	}
}

func TestUnknownTypeAnsweredWithNotSupported(t *testing.T) {
	tr := nodetest.Start(t, echoNode())
	tr.Init("n0", "n0")
	tr.SendMsg("c1", "n0", map[string]any{"type": "frobnicate", "msg_id": 2})
	wantError(t, tr.Next(), 2, maelstrom.NotSupported)
	// Without msg_id there is nobody to answer; the node just logs.
	tr.SendMsg("c1", "n0", map[string]any{"type": "frobnicate"})
	tr.Quiet(quiet)
	// Still alive.
	tr.SendMsg("c1", "n0", map[string]any{"type": "echo", "msg_id": 3, "echo": 1})
	if out := tr.Next(); out.Type() != "echo_ok" || out.Int("in_reply_to") != 3 {
		t.Fatalf("node stopped answering after unknown type: %s", out.Line)
	}
}

func TestMalformedInputKeepsRunning(t *testing.T) {
	tr := nodetest.Start(t, echoNode())
	tr.Init("n0", "n0")

	// Unanswerable: logged and skipped.
	for _, line := range []string{
		`this is not json`,
		`[1,2,3]`,
		`{"dest":"n0","body":{"type":"echo","msg_id":9,"echo":1}}`, // no src
		`{"src":7,"dest":"n0","body":{"type":"echo","msg_id":9}}`,  // src not a string
		`{"src":"c1","dest":"n0","body":"echo"}`,                   // body not an object
		`{"src":"c1","dest":"n0","body":{"type":"echo"`,            // truncated
	} {
		tr.Send(line)
	}
	tr.Quiet(quiet)
	if logs := tr.Logs(); strings.Count(logs, "dropping unusable input line") != 6 {
		t.Fatalf("want 6 unusable lines logged, log:\n%s", logs)
	}

	// Answerable but unusable bodies: error 12.
	tr.Send(`{"src":"c1","dest":"n0","body":{"msg_id":10}}`)
	wantError(t, tr.Next(), 10, maelstrom.MalformedRequest)
	tr.Send(`{"src":"c1","dest":"n0","body":{"type":42,"msg_id":11}}`)
	wantError(t, tr.Next(), 11, maelstrom.MalformedRequest)
	// A body the handler cannot decode: node.Decode yields error 12.
	tr.Send(`{"src":"c1","dest":"n0","body":{"type":"echo","msg_id":12,"echo":1,"type2":[}}`)
	tr.Quiet(quiet) // that one is not even JSON
	tr.Send(`{"src":"c1","dest":"n0","body":{"type":"echo","msg_id":13,"echo":{"a":1},"extra":true}}`)
	if out := tr.Next(); out.Type() != "echo_ok" || out.Int("in_reply_to") != 13 {
		t.Fatalf("unknown body keys must be ignored, got %s", out.Line)
	}

	tr.SendMsg("c1", "n0", map[string]any{"type": "echo", "msg_id": 14, "echo": "still here"})
	if out := tr.Next(); out.Body["echo"] != "still here" {
		t.Fatalf("node stopped answering after malformed input: %s", out.Line)
	}
}

func TestDecodeFailureIsMalformedRequest(t *testing.T) {
	n := node.New()
	n.Handle("add", func(ctx context.Context, req node.Message) (any, error) {
		var body struct {
			Delta int `json:"delta"`
		}
		if err := node.Decode(req, &body); err != nil {
			return nil, err
		}
		return map[string]any{"type": "add_ok"}, nil
	})
	tr := nodetest.Start(t, n)
	tr.Init("n0", "n0")
	tr.SendMsg("c1", "n0", map[string]any{"type": "add", "msg_id": 4, "delta": "three"})
	wantError(t, tr.Next(), 4, maelstrom.MalformedRequest)
}

func TestOneMebibyteLine(t *testing.T) {
	tr := nodetest.Start(t, echoNode())
	tr.Init("n0", "n0")
	payload := strings.Repeat("x", 1<<20)
	tr.SendMsg("c1", "n0", map[string]any{"type": "echo", "msg_id": 2, "echo": payload})
	if out := tr.Next(); out.Body["echo"] != payload {
		t.Fatalf("1 MiB echo came back with %d bytes", len(out.Line))
	}
}

// A line over MaxLineBytes is not held, yet its sender is answered: the
// runtime reads its src and msg_id as the line streams past.
func TestLineOverLimitAnsweredWithoutBeingHeld(t *testing.T) {
	n := echoNode()
	n.MaxLineBytes = 4096
	tr := nodetest.Start(t, n)
	tr.Init("n0", "n0")
	// msg_id after the long value, as Maelstrom's clients write it.
	tr.Send(`{"src":"c1","dest":"n0","body":{"type":"echo","echo":"` + strings.Repeat("y", 10000) + `","msg_id":2}}`)
	wantError(t, tr.Next(), 2, maelstrom.MalformedRequest)
	if !strings.Contains(tr.Logs(), "over the limit") {
		t.Fatalf("over-long line not logged:\n%s", tr.Logs())
	}
	// Without a msg_id, or a reply: nothing to answer.
	tr.Send(`{"src":"c1","dest":"n0","body":{"type":"echo","echo":"` + strings.Repeat("y", 10000) + `"}}`)
	tr.Send(`{"src":"n1","dest":"n0","body":{"type":"echo_ok","in_reply_to":7,"msg_id":3,"echo":"` + strings.Repeat("y", 10000) + `"}}`)
	tr.Quiet(quiet)
	tr.SendMsg("c1", "n0", map[string]any{"type": "echo", "msg_id": 3, "echo": "short"})
	if out := tr.Next(); out.Body["echo"] != "short" || out.Int("in_reply_to") != 3 {
		t.Fatalf("node lost sync after an over-long line: %s", out.Line)
	}
}

// A request nested deeper than encoding/json reads (10,000 levels) is
// answered with error 12 when its msg_id is readable, wherever it is.
func TestDeeplyNestedRequestAnsweredWithMalformedRequest(t *testing.T) {
	tr := nodetest.Start(t, echoNode())
	tr.Init("n0", "n0")
	deep := strings.Repeat(`{"a":[`, 50000) + strings.Repeat(`]}`, 50000) // 100,000 levels
	tr.Send(`{"src":"c1","dest":"n0","body":{"type":"echo","msg_id":5,"echo":` + deep + `}}`)
	wantError(t, tr.Next(), 5, maelstrom.MalformedRequest)
	tr.Send(`{"src":"c1","dest":"n0","body":{"type":"echo","echo":` + deep + `,"msg_id":6}}`)
	wantError(t, tr.Next(), 6, maelstrom.MalformedRequest)
	// Unbalanced: not a request whose msg_id can be trusted.
	tr.Send(`{"src":"c1","dest":"n0","body":{"type":"echo","msg_id":7,"echo":` + deep[:len(deep)-2] + `}}`)
	tr.Quiet(quiet)
	tr.SendMsg("c1", "n0", map[string]any{"type": "echo", "msg_id": 8, "echo": "still here"})
	if out := tr.Next(); out.Body["echo"] != "still here" {
		t.Fatalf("node stopped answering after a deep request: %s", out.Line)
	}
}

// proxyNode answers "proxy" by asking n1 for a "ping" and reporting what
// came back (or the error code).
func proxyNode(timeout time.Duration) *node.Node {
	n := node.New()
	n.Handle("proxy", func(ctx context.Context, req node.Message) (any, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		reply, err := n.RPC(ctx, "n1", map[string]any{"type": "ping", "big": 1 << 60})
		if err != nil {
			if code := maelstrom.ErrorCode(err); code >= 0 {
				return map[string]any{"type": "proxy_ok", "error_code": code}, nil
			}
			return nil, err
		}
		var body struct {
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(reply.Body, &body); err != nil {
			return nil, err
		}
		return map[string]any{"type": "proxy_ok", "value": body.Value}, nil
	})
	return n
}

func TestRPCReplyRouting(t *testing.T) {
	n := proxyNode(time.Minute)
	tr := nodetest.Start(t, n)
	tr.Init("n0", "n0", "n1")
	tr.SendMsg("c1", "n0", map[string]any{"type": "proxy", "msg_id": 1})
	tr.SendMsg("c2", "n0", map[string]any{"type": "proxy", "msg_id": 1})
	// Two RPCs out, answered in the opposite order: each reply must reach
	// the handler that sent its request.
	p1, p2 := tr.Next(), tr.Next()
	for _, p := range []nodetest.Output{p1, p2} {
		if p.Type() != "ping" || p.Dest != "n1" || p.Int("msg_id") < 1 || p.Body["big"] != json.Number("1152921504606846976") {
			t.Fatalf("unexpected RPC request %s", p.Line)
		}
	}
	if n.PendingRPCs() != 2 {
		t.Fatalf("PendingRPCs = %d, want 2", n.PendingRPCs())
	}
	tr.SendMsg("n1", "n0", map[string]any{"type": "pong", "in_reply_to": p2.Int("msg_id"), "value": "second"})
	tr.SendMsg("n1", "n0", map[string]any{"type": "pong", "in_reply_to": p1.Int("msg_id"), "value": "first"})
	got := map[string]bool{}
	for range 2 {
		got[tr.Next().Line] = true
	}
	// Which client sent p1 is not fixed (handlers run concurrently), so
	// check that each client got one distinct value.
	var values []string
	for line := range got {
		var m struct {
			Dest string
			Body struct{ Value string }
		}
		_ = json.Unmarshal([]byte(line), &m)
		values = append(values, m.Dest+"="+m.Body.Value)
	}
	if len(values) != 2 || !(strings.Contains(strings.Join(values, " "), "=first") && strings.Contains(strings.Join(values, " "), "=second")) {
		t.Fatalf("replies not routed: %v", values)
	}
	if n.PendingRPCs() != 0 {
		t.Fatalf("PendingRPCs = %d after replies, want 0", n.PendingRPCs())
	}
}

func TestRPCTimeoutLeavesNothingBehind(t *testing.T) {
	n := proxyNode(20 * time.Millisecond)
	tr := nodetest.Start(t, n)
	tr.Init("n0", "n0", "n1")
	for i := 1; i <= 5; i++ {
		tr.SendMsg("c1", "n0", map[string]any{"type": "proxy", "msg_id": i})
	}
	var pings []nodetest.Output
	errs := 0
	for len(pings) < 5 || errs < 5 {
		o := tr.Next()
		switch o.Type() {
		case "ping":
			pings = append(pings, o)
		case "error":
			if o.Int("code") != maelstrom.Timeout {
				t.Fatalf("want timeout (0) error after RPC deadline, got %s", o.Line)
			}
			errs++
		default:
			t.Fatalf("unexpected %s", o.Line)
		}
	}
	if n.PendingRPCs() != 0 {
		t.Fatalf("PendingRPCs = %d after timeouts, want 0", n.PendingRPCs())
	}
	// Late replies are dropped quietly and do not disturb the node.
	for _, p := range pings {
		tr.SendMsg("n1", "n0", map[string]any{"type": "pong", "in_reply_to": p.Int("msg_id"), "value": 1})
	}
	tr.Quiet(quiet)
	if !strings.Contains(tr.Logs(), "dropping reply nobody waits for") {
		t.Fatalf("late reply not logged:\n%s", tr.Logs())
	}
	if n.PendingRPCs() != 0 {
		t.Fatalf("PendingRPCs = %d after late replies, want 0", n.PendingRPCs())
	}
}

func TestRPCErrorReplyCodeZeroIsAnError(t *testing.T) {
	n := proxyNode(time.Minute)
	tr := nodetest.Start(t, n)
	tr.Init("n0", "n0", "n1")
	for i, body := range []map[string]any{
		{"type": "error", "code": 0, "text": "timed out"},
		{"type": "error", "code": 22, "text": "cas mismatch"},
		{"type": "error", "text": "no code"},
	} {
		tr.SendMsg("c1", "n0", map[string]any{"type": "proxy", "msg_id": i + 1})
		ping := tr.Next()
		body["in_reply_to"] = ping.Int("msg_id")
		tr.SendMsg("n1", "n0", body)
		out := tr.Next()
		want := []int{maelstrom.Timeout, maelstrom.PreconditionFailed, maelstrom.Crash}[i]
		if out.Type() != "proxy_ok" || out.Int("error_code") != want {
			t.Fatalf("error reply %v: want RPC error code %d, got %s", body, want, out.Line)
		}
	}
}

func TestRPCWithoutDeadlineUsesDefault(t *testing.T) {
	n := node.New()
	n.RPCTimeout = 10 * time.Millisecond
	errc := make(chan error, 1)
	n.Handle("go", func(ctx context.Context, req node.Message) (any, error) {
		_, err := n.RPC(context.Background(), "n1", map[string]any{"type": "ping"})
		errc <- err
		return nil, nil
	})
	tr := nodetest.Start(t, n)
	tr.Init("n0", "n0", "n1")
	tr.SendMsg("c1", "n0", map[string]any{"type": "go"})
	tr.Next() // the ping
	select {
	case err := <-errc:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("want DeadlineExceeded, got %v", err)
		}
	case <-time.After(nodetest.Wait):
		t.Fatal("RPC without deadline never returned")
	}
	if n.PendingRPCs() != 0 {
		t.Fatalf("PendingRPCs = %d, want 0", n.PendingRPCs())
	}
}

func TestHandlerErrorsAndPanics(t *testing.T) {
	n := node.New()
	n.Handle("read", func(ctx context.Context, req node.Message) (any, error) {
		return nil, node.Errorf(maelstrom.KeyDoesNotExist, "no key %d", 7)
	})
	n.Handle("boom", func(ctx context.Context, req node.Message) (any, error) {
		panic("kaboom")
	})
	n.Handle("oops", func(ctx context.Context, req node.Message) (any, error) {
		return nil, errors.New("plain failure")
	})
	n.Handle("gossip", func(ctx context.Context, req node.Message) (any, error) {
		return nil, nil // fire and forget: no reply
	})
	tr := nodetest.Start(t, n)
	tr.Init("n0", "n0")
	tr.SendMsg("c1", "n0", map[string]any{"type": "read", "msg_id": 1})
	out := tr.Next()
	wantError(t, out, 1, maelstrom.KeyDoesNotExist)
	if out.Body["text"] != "no key 7" {
		t.Fatalf("error text lost: %s", out.Line)
	}
	tr.SendMsg("c1", "n0", map[string]any{"type": "boom", "msg_id": 2})
	wantError(t, tr.Next(), 2, maelstrom.Crash)
	tr.SendMsg("c1", "n0", map[string]any{"type": "oops", "msg_id": 3})
	wantError(t, tr.Next(), 3, maelstrom.Crash)
	tr.SendMsg("n1", "n0", map[string]any{"type": "gossip", "msg_id": 4})
	tr.Quiet(quiet)
}

func TestRequestsBeforeInitWait(t *testing.T) {
	n := echoNode()
	var hookSawID atomic.Value
	n.OnInit(func(ctx context.Context) error {
		hookSawID.Store(n.ID())
		return nil
	})
	tr := nodetest.Start(t, n)
	// A peer may talk to us before Maelstrom's init reaches us.
	tr.SendMsg("n1", "n0", map[string]any{"type": "echo", "msg_id": 1, "echo": "early"})
	tr.Quiet(quiet)
	tr.Init("n0", "n0", "n1")
	if out := tr.Next(); out.Src != "n0" || out.Body["echo"] != "early" {
		t.Fatalf("early request: %s", out.Line)
	}
	if hookSawID.Load() != "n0" {
		t.Fatalf("OnInit saw ID %v, want n0", hookSawID.Load())
	}
}

func TestInitHookFailureAnswersError(t *testing.T) {
	n := node.New()
	n.OnInit(func(ctx context.Context) error { return errors.New("no disk") })
	tr := nodetest.Start(t, n)
	tr.SendMsg("c0", "n0", map[string]any{"type": "init", "msg_id": 1, "node_id": "n0", "node_ids": []string{"n0"}})
	wantError(t, tr.Next(), 1, maelstrom.Crash)
}

func TestEveryTicksAfterInitAndStopsAtShutdown(t *testing.T) {
	n := node.New()
	var ticks atomic.Int64
	reached := make(chan struct{})
	n.Every(time.Millisecond, func(ctx context.Context) {
		if ticks.Add(1) == 3 {
			close(reached)
		}
	})
	tr := nodetest.Start(t, n)
	time.Sleep(5 * time.Millisecond)
	if ticks.Load() != 0 {
		t.Fatalf("ticked %d times before init", ticks.Load())
	}
	tr.Init("n0", "n0")
	select {
	case <-reached:
	case <-time.After(nodetest.Wait):
		t.Fatal("ticker never reached 3 ticks")
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	after := ticks.Load()
	time.Sleep(10 * time.Millisecond)
	if ticks.Load() != after {
		t.Fatalf("ticker kept running after Run returned: %d → %d", after, ticks.Load())
	}
}

func TestShutdownWaitsForHandlersButIsBounded(t *testing.T) {
	n := node.New()
	n.ShutdownTimeout = 30 * time.Millisecond
	finished := make(chan struct{})
	n.Handle("slow", func(ctx context.Context, req node.Message) (any, error) {
		<-ctx.Done() // shutdown cancels handler contexts
		close(finished)
		return nil, nil
	})
	n.Handle("stuck", func(ctx context.Context, req node.Message) (any, error) {
		select {} // ignores its context
	})
	tr := nodetest.Start(t, n)
	tr.Init("n0", "n0")
	tr.SendMsg("c1", "n0", map[string]any{"type": "slow", "msg_id": 2})
	tr.SendMsg("c1", "n0", map[string]any{"type": "stuck", "msg_id": 3})
	start := time.Now()
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-finished:
	default:
		t.Fatal("Run returned before the cancellable handler finished")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("shutdown took %v with a stuck handler, want about ShutdownTimeout", d)
	}
	if !strings.Contains(tr.Logs(), "still running after timeout") {
		t.Fatalf("stuck handler not logged:\n%s", tr.Logs())
	}
}

func TestSendAndReplyLater(t *testing.T) {
	n := node.New()
	held := make(chan node.Message, 1)
	n.Handle("hold", func(ctx context.Context, req node.Message) (any, error) {
		held <- req
		return nil, nil
	})
	tr := nodetest.Start(t, n)
	tr.Init("n0", "n0", "n1")
	tr.SendMsg("c1", "n0", map[string]any{"type": "hold", "msg_id": 8})
	req := <-held
	if err := n.Send("n1", map[string]any{"type": "note", "n": 1}); err != nil {
		t.Fatal(err)
	}
	if out := tr.Next(); out.Type() != "note" || out.Dest != "n1" || out.Body["msg_id"] != nil {
		t.Fatalf("Send wrote %s; want a note to n1 without msg_id", out.Line)
	}
	if err := n.Reply(req, map[string]any{"type": "hold_ok"}); err != nil {
		t.Fatal(err)
	}
	if out := tr.Next(); out.Type() != "hold_ok" || out.Int("in_reply_to") != 8 || out.Dest != "c1" {
		t.Fatalf("Reply wrote %s", out.Line)
	}
	if err := n.Send("n1", []int{1}); err == nil {
		t.Fatal("Send of a non-object body succeeded")
	}
}

// Run over a plain reader: the last line needs no newline, and Run returns
// only after every handler has answered.
func TestRunToEndOfInput(t *testing.T) {
	n := echoNode()
	n.Stdin = strings.NewReader(
		`{"src":"c0","dest":"n0","body":{"type":"init","msg_id":1,"node_id":"n0","node_ids":["n0"]}}` + "\n" +
			`{"src":"c1","dest":"n0","body":{"type":"echo","msg_id":2,"echo":"last"}}`)
	var out strings.Builder
	n.Stdout = &out
	n.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := n.Run(); err != nil {
		t.Fatal(err)
	}
	want := `{"src":"n0","dest":"c0","body":{"in_reply_to":1,"type":"init_ok"}}` + "\n" +
		`{"src":"n0","dest":"c1","body":{"echo":"last","in_reply_to":2,"type":"echo_ok"}}` + "\n"
	if out.String() != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}
