package main

import (
	"encoding/json"
	"testing"
	"time"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

	"github.com/glomers/glomers/lib/gossip"
	"github.com/glomers/glomers/lib/node/nodetest"
)

// keys returns the body's keys, to hold replies to Maelstrom's closed
// schemas.
func keys(t *testing.T, raw json.RawMessage) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("body %s: %v", raw, err)
	}
	return m
}

func TestTranscript(t *testing.T) {
	tr := nodetest.Start(t, newNode(gossip.Latency))
	tr.Init("n1", "n0", "n1", "n2")

	// A leaf answers add_ok (exactly type and in_reply_to), then hands the
	// element to the hub at once under the latency preset.
	tr.SendMsg("c2", "n1", map[string]any{"type": "add", "msg_id": 2, "element": 7})
	out := tr.Next()
	if out.Dest != "c2" || out.Type() != "add_ok" || out.Int("in_reply_to") != 2 || len(keys(t, out.RawBody)) != 2 {
		t.Fatalf("add reply: %s", out.Line)
	}
	if out = tr.Next(); out.Dest != "n0" || out.Type() != "gossip" || string(keys(t, out.RawBody)["values"]) != "[7]" {
		t.Fatalf("want gossip [7] to the hub n0, got %s", out.Line)
	}

	// Elements from peers are merged (union) and read back under "value".
	tr.SendMsg("n0", "n1", map[string]any{"type": "gossip", "seq": 0, "values": []any{8, 7}, "ack": 1})
	tr.Quiet(20 * time.Millisecond)
	tr.SendMsg("c2", "n1", map[string]any{"type": "read", "msg_id": 3})
	out = tr.Next()
	if body := keys(t, out.RawBody); out.Type() != "read_ok" || len(body) != 3 || string(body["value"]) != "[7,8]" {
		t.Fatalf("read: %s", out.Line)
	}

	// Junk never stops the node.
	tr.SendMsg("c2", "n1", map[string]any{"type": "add", "msg_id": 4})
	if out := tr.Next(); out.Type() != "error" || out.Int("code") != maelstrom.MalformedRequest {
		t.Fatalf("add without element: %s", out.Line)
	}
	tr.SendMsg("c2", "n1", map[string]any{"type": "cas", "msg_id": 5})
	if out := tr.Next(); out.Type() != "error" || out.Int("code") != maelstrom.NotSupported {
		t.Fatalf("unknown type: %s", out.Line)
	}
	tr.SendMsg("n2", "n1", map[string]any{"type": "gossip", "seq": "x"})
	tr.SendMsg("c2", "n1", map[string]any{"type": "read", "msg_id": 6})
	if out := tr.Next(); out.Type() != "read_ok" {
		t.Fatalf("node stopped answering: %s", out.Line)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}
