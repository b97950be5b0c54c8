package main

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/glomers/glomers/lib/kv"
	"github.com/glomers/glomers/lib/kv/kvtest"
	"github.com/glomers/glomers/lib/node"
	"github.com/glomers/glomers/lib/node/nodetest"
)

// The test plays both Maelstrom's client and its seq-kv service: every
// message the node sends to seq-kv is answered by kvtest, which keeps one
// current state (a lin-kv is a valid seq-kv: it just never serves stale
// reads). Each step checks the exact reply and the exact service calls.
func TestTranscript(t *testing.T) {
	n := newNode()
	// Short enough to show an unanswered service call quickly.
	n.RPCTimeout = 200 * time.Millisecond
	tr := nodetest.Start(t, n)
	tr.Init("n0", "n0", "n1")
	store := kvtest.New(t, kv.SeqKV)

	// Nothing added anywhere: the missing shares count as 0. The write
	// first is what keeps seq-kv from serving this node an old state.
	out := store.RoundTrip(tr, "c1", "n0", map[string]any{"type": "read", "msg_id": 2})
	nodetest.WantBody(t, out, "c1", `{"type":"read_ok","value":0,"in_reply_to":2}`)
	store.WantCalls(`write fresh-n0 "n0-1"`, "read counter-n0", "read counter-n1")

	// Adding 0 needs no service call.
	out = store.RoundTrip(tr, "c1", "n0", map[string]any{"type": "add", "msg_id": 3, "delta": 0})
	nodetest.WantBody(t, out, "c1", `{"type":"add_ok","in_reply_to":3}`)
	store.WantCalls()

	out = store.RoundTrip(tr, "c1", "n0", map[string]any{"type": "add", "msg_id": 4, "delta": 5})
	nodetest.WantBody(t, out, "c1", `{"type":"add_ok","in_reply_to":4}`)
	store.WantCalls("cas counter-n0 0 5 create")

	// n1's share is in the store too.
	store.Data["counter-n1"] = json.RawMessage(`4`)
	out = store.RoundTrip(tr, "c1", "n0", map[string]any{"type": "read", "msg_id": 5})
	nodetest.WantBody(t, out, "c1", `{"type":"read_ok","value":9,"in_reply_to":5}`)
	store.WantCalls(`write fresh-n0 "n0-2"`, "read counter-n0", "read counter-n1")

	// An earlier add went through although its reply was lost, so the
	// node's cached share (5) is stale: the CAS fails with 22, the node
	// re-reads its own share and builds on that instead of losing the add.
	store.Data["counter-n0"] = json.RawMessage(`8`)
	out = store.RoundTrip(tr, "c1", "n0", map[string]any{"type": "add", "msg_id": 6, "delta": 2})
	nodetest.WantBody(t, out, "c1", `{"type":"add_ok","in_reply_to":6}`)
	store.WantCalls("cas counter-n0 5 7 create", "read counter-n0", "cas counter-n0 8 10 create")
	out = store.RoundTrip(tr, "c1", "n0", map[string]any{"type": "read", "msg_id": 7})
	nodetest.WantBody(t, out, "c1", `{"type":"read_ok","value":14,"in_reply_to":7}`)
	store.WantCalls(`write fresh-n0 "n0-3"`, "read counter-n0", "read counter-n1")

	// seq-kv applies the CAS but its reply is lost: to the node the add may
	// or may not have happened, so the client must be told timeout (0,
	// indefinite), not a definite failure the checker would discard. The
	// node re-reads its share, so its next add builds on 11.
	store.Drop["cas"] = true
	out = store.RoundTrip(tr, "c1", "n0", map[string]any{"type": "add", "msg_id": 8, "delta": 1})
	if out.Type() != "error" || out.Int("code") != node.Timeout || out.Int("in_reply_to") != 8 {
		t.Fatalf("add with an unanswered cas: want error 0, got %s", out.Line)
	}
	store.WantCalls("cas counter-n0 10 11 create", "read counter-n0")
	delete(store.Drop, "cas")

	// Maelstrom's error codes for what the node cannot serve.
	out = store.RoundTrip(tr, "c1", "n0", map[string]any{"type": "cas", "msg_id": 9, "key": 1, "from": 1, "to": 2})
	nodetest.WantError(t, out, "c1", node.NotSupported, 9)
	for i, bad := range []map[string]any{
		{"type": "add", "msg_id": 10},                 // no delta
		{"type": "add", "msg_id": 11, "delta": "one"}, // not an integer
		{"type": "add", "msg_id": 12, "delta": 1.5},   // not an integer
		{"msg_id": 13, "delta": 1},                    // no type
		{"type": "add", "msg_id": 14, "delta": -1},    // grow-only
		{"type": "add", "msg_id": 15, "delta": math.MinInt64},
		{"type": "add", "msg_id": 16, "delta": math.MaxInt64}, // the share would overflow
		{"type": "add", "msg_id": 17, "delta": json.RawMessage(`9223372036854775808`)},
	} {
		out = store.RoundTrip(tr, "c1", "n0", bad)
		nodetest.WantError(t, out, "c1", node.MalformedRequest, 10+i)
	}
	store.WantCalls()
	tr.Send(`{"src":"c1","dest":"n0","body":{"type":"add","msg_id":14,`)
	tr.Quiet(20 * time.Millisecond)

	// Still serving, and the refused requests changed nothing.
	out = store.RoundTrip(tr, "c1", "n0", map[string]any{"type": "add", "msg_id": 15, "delta": 3})
	nodetest.WantBody(t, out, "c1", `{"type":"add_ok","in_reply_to":15}`)
	store.WantCalls("cas counter-n0 11 14 create")
	out = store.RoundTrip(tr, "c1", "n0", map[string]any{"type": "read", "msg_id": 16})
	nodetest.WantBody(t, out, "c1", `{"type":"read_ok","value":18,"in_reply_to":16}`)
	store.WantCalls(`write fresh-n0 "n0-4"`, "read counter-n0", "read counter-n1")

	if err := tr.Close(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}
