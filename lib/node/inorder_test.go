package node_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

	"github.com/glomers/glomers/lib/node"
	"github.com/glomers/glomers/lib/node/nodetest"
)

// storeNode keeps one value: "put" (a peer's message, slow to apply, as
// a large gossip batch is to decode) sets it, "get" returns it. Both take
// the same mutex, as the broadcast node's handlers do.
func storeNode(inOrder bool) *node.Node {
	n := node.New()
	n.InOrder = inOrder
	var mu sync.Mutex
	value := "unset"
	n.HandlePeer("put", func(_ context.Context, req node.Message) (any, error) {
		var body struct {
			Value string `json:"value"`
		}
		if err := node.Decode(req, &body); err != nil {
			return nil, err
		}
		time.Sleep(20 * time.Millisecond) // decoding a big batch
		mu.Lock()
		value = body.Value
		mu.Unlock()
		return nil, nil
	})
	n.Handle("get", func(context.Context, node.Message) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		return map[string]any{"type": "get_ok", "value": value}, nil
	})
	return n
}

// The read that follows a gossip message reflects it. Served in a
// goroutine each (InOrder false), "get" answers "unset" here.
func TestInOrderLaterRequestSeesEarlierOnesEffect(t *testing.T) {
	tr := nodetest.Start(t, storeNode(true))
	tr.Init("n0", "n0", "n1")
	for i, v := range []string{"a", "b", "c"} {
		tr.SendMsg("n1", "n0", map[string]any{"type": "put", "value": v})
		tr.SendMsg("c1", "n0", map[string]any{"type": "get", "msg_id": i + 1})
		if out := tr.Next(); out.Type() != "get_ok" || out.Body["value"] != v {
			t.Fatalf("get after put %q: %s", v, out.Line)
		}
	}
}

// Requests held for init keep their order ahead of later ones.
func TestInOrderBacklogKeepsItsPlace(t *testing.T) {
	tr := nodetest.Start(t, storeNode(true))
	tr.SendMsg("n1", "n0", map[string]any{"type": "put", "value": "early"})
	tr.SendMsg("c1", "n0", map[string]any{"type": "get", "msg_id": 1})
	tr.Quiet(quiet)
	tr.Init("n0", "n0", "n1")
	tr.SendMsg("n1", "n0", map[string]any{"type": "put", "value": "late"})
	tr.SendMsg("c1", "n0", map[string]any{"type": "get", "msg_id": 2})
	want := map[int]string{1: "early", 2: "late"}
	for range 2 {
		out := tr.Next()
		if out.Type() == "init_ok" {
			out = tr.Next()
		}
		if id := out.Int("in_reply_to"); out.Type() != "get_ok" || out.Body["value"] != want[id] {
			t.Fatalf("want get_ok %q for msg_id %d, got %s", want[id], id, out.Line)
		}
	}
}

// An in-order handler may not wait on an RPC; it gets an error saying why
// instead of stalling the node.
func TestInOrderHandlerCannotRPC(t *testing.T) {
	n := node.New()
	n.InOrder = true
	n.Handle("ask", func(ctx context.Context, _ node.Message) (any, error) {
		_, err := n.RPC(ctx, "n1", map[string]any{"type": "question"})
		return nil, err
	})
	tr := nodetest.Start(t, n)
	tr.Init("n0", "n0", "n1")
	tr.SendMsg("c1", "n0", map[string]any{"type": "ask", "msg_id": 1})
	out := tr.Next()
	wantError(t, out, 1, maelstrom.Crash)
	if text, _ := out.Body["text"].(string); !strings.Contains(text, "in-order handler") {
		t.Fatalf("error text %q does not say why", text)
	}
}
