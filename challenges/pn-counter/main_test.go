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

	// add_ok first, then this node's new component goes to the hub.
	tr.SendMsg("c2", "n1", map[string]any{"type": "add", "msg_id": 2, "delta": -3})
	out := tr.Next()
	if out.Dest != "c2" || out.Type() != "add_ok" || len(keys(t, out.RawBody)) != 2 {
		t.Fatalf("add reply: %s", out.Line)
	}
	if out = tr.Next(); out.Dest != "n0" || string(keys(t, out.RawBody)["values"]) != `[{"node":"n1","p":0,"n":3}]` {
		t.Fatalf("want n1's component to the hub n0, got %s", out.Line)
	}

	// Peers' components merge by maximum: an old version of n0's changes
	// nothing.
	tr.SendMsg("n0", "n1", map[string]any{"type": "gossip", "seq": 0, "ack": 1, "values": []any{
		map[string]any{"node": "n0", "p": 10, "n": 1}, map[string]any{"node": "n0", "p": 4, "n": 0},
	}})
	tr.Quiet(20 * time.Millisecond)
	tr.SendMsg("c2", "n1", map[string]any{"type": "read", "msg_id": 3})
	out = tr.Next()
	if body := keys(t, out.RawBody); out.Type() != "read_ok" || len(body) != 3 || string(body["value"]) != "6" {
		t.Fatalf("read: %s, want 10-1-3 = 6", out.Line)
	}

	for _, bad := range []map[string]any{
		{"type": "add", "msg_id": 4},
		{"type": "add", "msg_id": 5, "delta": "three"},
		{"type": "add", "msg_id": 6, "delta": 1.5},
	} {
		tr.SendMsg("c2", "n1", bad)
		if out := tr.Next(); out.Type() != "error" || out.Int("code") != maelstrom.MalformedRequest {
			t.Fatalf("%v: %s", bad, out.Line)
		}
	}
	tr.SendMsg("c2", "n1", map[string]any{"type": "read", "msg_id": 7})
	if out := tr.Next(); out.Type() != "read_ok" || string(keys(t, out.RawBody)["value"]) != "6" {
		t.Fatalf("after junk: %s", out.Line)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}
