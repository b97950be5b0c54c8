package node_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

	"github.com/glomers/glomers/lib/node"
	"github.com/glomers/glomers/lib/node/nodetest"
)

// slowNode answers "work" after d, as a read of many values costs time to
// write out; in order or in a goroutine each.
func slowNode(inOrder bool, d time.Duration) *node.Node {
	n := node.New()
	n.InOrder = inOrder
	n.Handle("work", func(context.Context, node.Message) (any, error) {
		time.Sleep(d)
		return map[string]any{"type": "work_ok"}, nil
	})
	return n
}

// An in-order node serves sources in turns: c2's one request, sent after
// 100 of c1's, is served within a request or two of arriving instead of
// after all of c1's. Served strictly in arrival order, it came 101st.
func TestInOrderFloodingSourceDoesNotStarveOthers(t *testing.T) {
	tr := nodetest.Start(t, slowNode(true, 2*time.Millisecond))
	tr.Init("n0", "n0")
	var lines strings.Builder
	for i := 1; i <= 100; i++ {
		fmt.Fprintf(&lines, `{"src":"c1","dest":"n0","body":{"type":"work","msg_id":%d}}`+"\n", i)
	}
	lines.WriteString(`{"src":"c2","dest":"n0","body":{"type":"work","msg_id":1}}`)
	tr.Send(lines.String())
	for pos := 1; ; pos++ {
		out := tr.Next()
		if out.Dest == "c2" {
			if pos > 5 {
				t.Errorf("c2's request was answered %dth, behind %d of c1's", pos, pos-1)
			}
			break
		}
	}
}

// A source's requests are served in the order it sent them, and requests
// keep arrival order across sources while the node keeps up.
func TestInOrderKeepsEachSourcesOrder(t *testing.T) {
	n := node.New()
	n.InOrder = true
	var mu sync.Mutex
	var served []string
	n.Handle("work", func(_ context.Context, req node.Message) (any, error) {
		var body struct {
			N int `json:"n"`
		}
		node.Decode(req, &body)
		mu.Lock()
		served = append(served, fmt.Sprintf("%s:%d", req.Src, body.N))
		mu.Unlock()
		time.Sleep(time.Millisecond)
		return map[string]any{"type": "work_ok"}, nil
	})
	tr := nodetest.Start(t, n)
	tr.Init("n0", "n0")
	var lines strings.Builder
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&lines, `{"src":"c%d","dest":"n0","body":{"type":"work","msg_id":%d,"n":%d}}`+"\n", 1+i%3, i+1, i)
	}
	tr.Send(strings.TrimSpace(lines.String()))
	for range 60 {
		tr.Next()
	}
	mu.Lock()
	defer mu.Unlock()
	last := map[string]int{}
	for _, s := range served {
		var src string
		var i int
		fmt.Sscanf(strings.Replace(s, ":", " ", 1), "%s %d", &src, &i)
		if prev, ok := last[src]; ok && i < prev {
			t.Fatalf("%s served after %s:%d: %v", s, src, prev, served)
		}
		last[src] = i
	}
}

// One source's requests beyond MaxPerSource are refused with error 11,
// while another source's request is still admitted: in order, and in a
// goroutine each.
func TestFloodingSourceLeavesRoomForOthers(t *testing.T) {
	for _, inOrder := range []bool{true, false} {
		t.Run(fmt.Sprintf("InOrder=%v", inOrder), func(t *testing.T) {
			var stuck sync.Mutex
			stuck.Lock()
			n := node.New()
			n.InOrder = inOrder
			n.MaxPerSource = 8
			entered := make(chan struct{}, 100)
			n.Handle("work", func(context.Context, node.Message) (any, error) {
				entered <- struct{}{}
				stuck.Lock()
				defer stuck.Unlock()
				return map[string]any{"type": "work_ok"}, nil
			})
			tr := nodetest.Start(t, n)
			tr.Init("n0", "n0")
			// The first request is in its handler before the rest arrive,
			// so what is admitted does not depend on scheduling.
			tr.SendMsg("c1", "n0", map[string]any{"type": "work", "msg_id": 1})
			<-entered
			var lines strings.Builder
			for i := 2; i <= 30; i++ {
				fmt.Fprintf(&lines, `{"src":"c1","dest":"n0","body":{"type":"work","msg_id":%d}}`+"\n", i)
			}
			tr.Send(strings.TrimSpace(lines.String()))
			// In order, one runs and 8 wait; else 8 run.
			admitted := 8
			if inOrder {
				admitted = 9
			}
			for i := admitted + 1; i <= 30; i++ {
				out := tr.Next()
				if out.Type() != "error" || out.Int("code") != maelstrom.TemporarilyUnavailable || out.Dest != "c1" {
					t.Fatalf("want error 11 for c1's requests over the bound, got %s", out.Line)
				}
			}
			tr.SendMsg("c2", "n0", map[string]any{"type": "work", "msg_id": 1})
			tr.Quiet(quiet) // c2's request is admitted, not refused
			stuck.Unlock()
			got := map[string]int{}
			for range admitted + 1 {
				out := tr.Next()
				if out.Type() != "work_ok" {
					t.Fatalf("want the admitted requests answered, got %s", out.Line)
				}
				got[out.Dest]++
			}
			if got["c1"] != admitted || got["c2"] != 1 {
				t.Errorf("answered %v, want c1 %d and c2 1", got, admitted)
			}
		})
	}
}

// A handler may reply and then send what its step produced: the reply
// goes out first; without a msg_id, the step's messages still go.
func TestReplyThenRepliesBeforeTheStepsMessages(t *testing.T) {
	n := node.New()
	n.InOrder = true
	n.Handle("add", func(context.Context, node.Message) (any, error) {
		return node.ReplyThen(map[string]any{"type": "add_ok"}, func() {
			n.Send("n1", map[string]any{"type": "spread"})
		}), nil
	})
	tr := nodetest.Start(t, n)
	tr.Init("n0", "n0", "n1")
	tr.SendMsg("c1", "n0", map[string]any{"type": "add", "msg_id": 1})
	nodetest.WantBody(t, tr.Next(), "c1", `{"type":"add_ok","in_reply_to":1}`)
	nodetest.WantBody(t, tr.Next(), "n1", `{"type":"spread"}`)
	tr.SendMsg("c1", "n0", map[string]any{"type": "add"})
	nodetest.WantBody(t, tr.Next(), "n1", `{"type":"spread"}`)
}

// An Encoded body goes out as it is, with in_reply_to or msg_id spliced in.
func TestEncodedBody(t *testing.T) {
	n := node.New()
	n.Handle("read", func(context.Context, node.Message) (any, error) {
		return node.Encoded(`{"type":"read_ok","messages":[1,2,3]}`), nil
	})
	n.Handle("empty", func(context.Context, node.Message) (any, error) {
		return node.Encoded(`{}`), nil
	})
	n.Handle("bad", func(context.Context, node.Message) (any, error) {
		return node.Encoded(`[1]`), nil
	})
	tr := nodetest.Start(t, n)
	tr.Init("n0", "n0")
	tr.SendMsg("c1", "n0", map[string]any{"type": "read", "msg_id": 1})
	if out := tr.Next(); out.Line != `{"src":"n0","dest":"c1","body":{"in_reply_to":1,"type":"read_ok","messages":[1,2,3]}}` {
		t.Errorf("got %s", out.Line)
	}
	tr.SendMsg("c1", "n0", map[string]any{"type": "empty", "msg_id": 2})
	if out := tr.Next(); out.Line != `{"src":"n0","dest":"c1","body":{"in_reply_to":2}}` {
		t.Errorf("got %s", out.Line)
	}
	tr.SendMsg("c1", "n0", map[string]any{"type": "bad", "msg_id": 3})
	tr.Quiet(quiet) // not an object: logged, not sent
	if !strings.Contains(tr.Logs(), "not a JSON object") {
		t.Errorf("a bad Encoded body was not logged:\n%s", tr.Logs())
	}
}

// The error codes challenges use are node's own names for Maelstrom's.
func TestErrorCodes(t *testing.T) {
	for _, c := range []struct{ ours, theirs int }{
		{node.Timeout, 0}, {node.NodeNotFound, 1}, {node.NotSupported, 10}, {node.TemporarilyUnavailable, 11},
		{node.MalformedRequest, 12}, {node.Crash, 13}, {node.Abort, 14}, {node.KeyDoesNotExist, 20},
		{node.KeyAlreadyExists, 21}, {node.PreconditionFailed, 22}, {node.TxnConflict, 30},
	} {
		if c.ours != c.theirs {
			t.Errorf("code %d, want %d (doc/protocol.md)", c.ours, c.theirs)
		}
	}
	if got := node.ErrorCode(fmt.Errorf("wrapped: %w", node.Errorf(node.Abort, "x"))); got != node.Abort {
		t.Errorf("ErrorCode %d, want %d", got, node.Abort)
	}
	if got := node.ErrorCode(fmt.Errorf("plain")); got != -1 {
		t.Errorf("ErrorCode of a plain error %d, want -1", got)
	}
}
