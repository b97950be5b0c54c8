package listappend

import (
	"encoding/json"
	"testing"
	"time"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

	"github.com/glomers/glomers/lib/node/nodetest"
)

// A single node elects itself, then serves transactions: an appending one
// through its log, a read-only one through ReadIndex. Replies carry
// exactly type, in_reply_to and txn; junk gets Maelstrom's error codes and
// the node keeps going.
func TestNodeTranscript(t *testing.T) {
	tr := nodetest.Start(t, NewNode(nil))
	tr.Init("n0", "n0")

	// Until it has elected itself the node has no leader; a transaction
	// waits for one (NoLeader, 1 s) rather than failing.
	tr.SendMsg("c1", "n0", map[string]any{"type": "txn", "msg_id": 1, "txn": []any{[]any{"append", 1, 5}, []any{"r", 1, nil}}})
	out, ok := tr.NextWithin(3 * time.Second)
	if !ok || out.Type() != "txn_ok" || out.Int("in_reply_to") != 1 {
		t.Fatalf("append: %s", out.Line)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(out.RawBody, &body); err != nil || len(body) != 3 || string(body["txn"]) != `[["append",1,5],["r",1,[5]]]` {
		t.Fatalf("append reply %s", out.RawBody)
	}
	tr.SendMsg("c1", "n0", map[string]any{"type": "txn", "msg_id": 2, "txn": []any{[]any{"r", 1, nil}, []any{"r", 2, nil}}})
	if out, ok := tr.NextWithin(3 * time.Second); !ok || out.Type() != "txn_ok" || string(mustField(t, out.RawBody, "txn")) != `[["r",1,[5]],["r",2,null]]` {
		t.Fatalf("read-only: %s", out.Line)
	}

	for i, bad := range []any{nil, []any{}, []any{[]any{"w", 1, 2}}, "txn"} {
		tr.SendMsg("c1", "n0", map[string]any{"type": "txn", "msg_id": 10 + i, "txn": bad})
		if out := tr.Next(); out.Type() != "error" || out.Int("code") != maelstrom.MalformedRequest {
			t.Fatalf("txn %v: %s", bad, out.Line)
		}
	}
	tr.SendMsg("c1", "n0", map[string]any{"type": "read", "msg_id": 20})
	if out := tr.Next(); out.Type() != "error" || out.Int("code") != maelstrom.NotSupported {
		t.Fatalf("unknown type: %s", out.Line)
	}
	// Peers' junk is dropped without an answer.
	tr.SendMsg("n1", "n0", map[string]any{"type": "txn_forward", "id": "x"})
	tr.SendMsg("c1", "n0", map[string]any{"type": "txn", "msg_id": 21, "txn": []any{[]any{"append", 1, 6}}})
	if out, ok := tr.NextWithin(3 * time.Second); !ok || out.Type() != "txn_ok" || out.Int("in_reply_to") != 21 {
		t.Fatalf("after junk: %s", out.Line)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func mustField(t *testing.T, raw json.RawMessage, key string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return m[key]
}
