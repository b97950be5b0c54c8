package main

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

	"github.com/glomers/glomers/lib/node/nodetest"
)

// The test plays both Maelstrom's client and its seq-kv service: every
// message the node sends to seq-kv is answered by fakeKV, which keeps one
// current state (a lin-kv is a valid seq-kv: it just never serves stale
// reads). Each step checks the exact reply and the exact service calls.
func TestTranscript(t *testing.T) {
	n := newNode()
	// Short enough to show an unanswered service call quickly.
	n.RPCTimeout = 200 * time.Millisecond
	tr := nodetest.Start(t, n)
	tr.Init("n0", "n0", "n1")
	store := newFakeKV(t, "seq-kv")

	// Nothing added anywhere: the missing shares count as 0. The write
	// first is what keeps seq-kv from serving this node an old state.
	out := store.roundTrip(tr, "c1", "n0", map[string]any{"type": "read", "msg_id": 2})
	wantBody(t, out, "c1", `{"type":"read_ok","value":0,"in_reply_to":2}`)
	store.wantCalls(`write fresh-n0 "n0-1"`, "read counter-n0", "read counter-n1")

	// Adding 0 needs no service call.
	out = store.roundTrip(tr, "c1", "n0", map[string]any{"type": "add", "msg_id": 3, "delta": 0})
	wantBody(t, out, "c1", `{"type":"add_ok","in_reply_to":3}`)
	store.wantCalls()

	out = store.roundTrip(tr, "c1", "n0", map[string]any{"type": "add", "msg_id": 4, "delta": 5})
	wantBody(t, out, "c1", `{"type":"add_ok","in_reply_to":4}`)
	store.wantCalls("cas counter-n0 0 5 create")

	// n1's share is in the store too.
	store.data["counter-n1"] = json.RawMessage(`4`)
	out = store.roundTrip(tr, "c1", "n0", map[string]any{"type": "read", "msg_id": 5})
	wantBody(t, out, "c1", `{"type":"read_ok","value":9,"in_reply_to":5}`)
	store.wantCalls(`write fresh-n0 "n0-2"`, "read counter-n0", "read counter-n1")

	// An earlier add went through although its reply was lost, so the
	// node's cached share (5) is stale: the CAS fails with 22, the node
	// re-reads its own share and builds on that instead of losing the add.
	store.data["counter-n0"] = json.RawMessage(`8`)
	out = store.roundTrip(tr, "c1", "n0", map[string]any{"type": "add", "msg_id": 6, "delta": 2})
	wantBody(t, out, "c1", `{"type":"add_ok","in_reply_to":6}`)
	store.wantCalls("cas counter-n0 5 7 create", "read counter-n0", "cas counter-n0 8 10 create")
	out = store.roundTrip(tr, "c1", "n0", map[string]any{"type": "read", "msg_id": 7})
	wantBody(t, out, "c1", `{"type":"read_ok","value":14,"in_reply_to":7}`)
	store.wantCalls(`write fresh-n0 "n0-3"`, "read counter-n0", "read counter-n1")

	// seq-kv applies the CAS but its reply is lost: to the node the add may
	// or may not have happened, so the client must be told timeout (0,
	// indefinite), not a definite failure the checker would discard. The
	// node re-reads its share, so its next add builds on 11.
	store.drop["cas"] = true
	out = store.roundTrip(tr, "c1", "n0", map[string]any{"type": "add", "msg_id": 8, "delta": 1})
	if out.Type() != "error" || out.Int("code") != maelstrom.Timeout || out.Int("in_reply_to") != 8 {
		t.Fatalf("add with an unanswered cas: want error 0, got %s", out.Line)
	}
	store.wantCalls("cas counter-n0 10 11 create", "read counter-n0")
	delete(store.drop, "cas")

	// Maelstrom's error codes for what the node cannot serve.
	out = store.roundTrip(tr, "c1", "n0", map[string]any{"type": "cas", "msg_id": 9, "key": 1, "from": 1, "to": 2})
	wantError(t, out, maelstrom.NotSupported, 9)
	for i, bad := range []map[string]any{
		{"type": "add", "msg_id": 10},                 // no delta
		{"type": "add", "msg_id": 11, "delta": "one"}, // not an integer
		{"type": "add", "msg_id": 12, "delta": 1.5},   // not an integer
		{"msg_id": 13, "delta": 1},                    // no type
	} {
		out = store.roundTrip(tr, "c1", "n0", bad)
		wantError(t, out, maelstrom.MalformedRequest, 10+i)
	}
	store.wantCalls()
	tr.Send(`{"src":"c1","dest":"n0","body":{"type":"add","msg_id":14,`)
	tr.Quiet(20 * time.Millisecond)

	// Still serving, and the refused requests changed nothing.
	out = store.roundTrip(tr, "c1", "n0", map[string]any{"type": "add", "msg_id": 15, "delta": 3})
	wantBody(t, out, "c1", `{"type":"add_ok","in_reply_to":15}`)
	store.wantCalls("cas counter-n0 11 14 create")
	out = store.roundTrip(tr, "c1", "n0", map[string]any{"type": "read", "msg_id": 16})
	wantBody(t, out, "c1", `{"type":"read_ok","value":18,"in_reply_to":16}`)
	store.wantCalls(`write fresh-n0 "n0-4"`, "read counter-n0", "read counter-n1")

	if err := tr.Close(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// wantBody fails unless out goes to dest with exactly the body want (as
// JSON values: key order and number spelling aside).
func wantBody(t *testing.T, out nodetest.Output, dest, want string) {
	t.Helper()
	var got, exp any
	if err := json.Unmarshal(out.RawBody, &got); err != nil {
		t.Fatalf("reply body: %v (%s)", err, out.Line)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad expectation %s: %v", want, err)
	}
	if out.Dest != dest || !reflect.DeepEqual(got, exp) {
		t.Fatalf("want to %s body %s, got %s", dest, want, out.Line)
	}
}

// wantError fails unless out is an error reply with code to msgID that
// has exactly Maelstrom's error fields (type, code, text, in_reply_to).
func wantError(t *testing.T, out nodetest.Output, code, msgID int) {
	t.Helper()
	_, hasText := out.Body["text"]
	if out.Type() != "error" || out.Int("code") != code || out.Int("in_reply_to") != msgID ||
		!hasText || len(out.Body) != 4 {
		t.Fatalf("want error %d in reply to %d, got %s", code, msgID, out.Line)
	}
}

// fakeKV answers a node's key/value calls the way Maelstrom's kv services
// do (read, write, cas with create_if_not_exists; errors 20 and 22),
// against one current state.
type fakeKV struct {
	t       *testing.T
	service string
	data    map[string]json.RawMessage
	calls   []string        // one line per call since the last wantCalls
	drop    map[string]bool // request types to leave unanswered
}

func newFakeKV(t *testing.T, service string) *fakeKV {
	return &fakeKV{t: t, service: service, data: map[string]json.RawMessage{}, drop: map[string]bool{}}
}

// roundTrip sends body from client to the node and answers the node's
// service calls until it replies to client; it returns that reply.
func (f *fakeKV) roundTrip(tr *nodetest.Transcript, client, nodeID string, body map[string]any) nodetest.Output {
	f.t.Helper()
	tr.SendMsg(client, nodeID, body)
	for {
		out := tr.Next()
		switch out.Dest {
		case client:
			return out
		case f.service:
			if out.Src != nodeID {
				f.t.Fatalf("service call from %q, want %q: %s", out.Src, nodeID, out.Line)
			}
			f.serve(tr, out)
		default:
			f.t.Fatalf("message to neither %s nor %s: %s", client, f.service, out.Line)
		}
	}
}

// serve answers one service call, checking it carries exactly the fields
// the service reads.
func (f *fakeKV) serve(tr *nodetest.Transcript, out nodetest.Output) {
	f.t.Helper()
	var req map[string]json.RawMessage
	if err := json.Unmarshal(out.RawBody, &req); err != nil {
		f.t.Fatalf("service call body: %v (%s)", err, out.Line)
	}
	allowed := map[string][]string{
		"read":  {"key", "msg_id", "type"},
		"write": {"key", "msg_id", "type", "value"},
		"cas":   {"create_if_not_exists", "from", "key", "msg_id", "to", "type"},
	}[out.Type()]
	var keys []string
	for k := range req {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !contains(allowed, k) {
			f.t.Fatalf("unexpected field %q in %s call: %s", k, out.Type(), out.Line)
		}
	}
	var key string
	if err := json.Unmarshal(req["key"], &key); err != nil || out.Int("msg_id") < 0 {
		f.t.Fatalf("service call needs a string key and a msg_id: %s", out.Line)
	}
	reply := map[string]any{"in_reply_to": out.Int("msg_id")}
	cur, exists := f.data[key]
	switch out.Type() {
	case "read":
		f.calls = append(f.calls, "read "+key)
		if exists {
			reply["type"], reply["value"] = "read_ok", cur
		} else {
			reply["type"], reply["code"], reply["text"] = "error", maelstrom.KeyDoesNotExist, "key does not exist"
		}
	case "write":
		f.calls = append(f.calls, "write "+key+" "+string(req["value"]))
		f.data[key] = req["value"]
		reply["type"] = "write_ok"
	case "cas":
		var create bool
		_ = json.Unmarshal(req["create_if_not_exists"], &create)
		call := "cas " + key + " " + string(req["from"]) + " " + string(req["to"])
		if create {
			call += " create"
		}
		f.calls = append(f.calls, call)
		switch {
		case !exists && create:
			f.data[key] = req["to"]
			reply["type"] = "cas_ok"
		case !exists:
			reply["type"], reply["code"], reply["text"] = "error", maelstrom.KeyDoesNotExist, "key does not exist"
		case !sameJSON(cur, req["from"]):
			reply["type"], reply["code"], reply["text"] = "error", maelstrom.PreconditionFailed, "expected "+string(req["from"])+", had "+string(cur)
		default:
			f.data[key] = req["to"]
			reply["type"] = "cas_ok"
		}
	default:
		f.t.Fatalf("unknown service call: %s", out.Line)
	}
	if f.drop[out.Type()] {
		return
	}
	tr.SendMsg(f.service, out.Src, reply)
}

// wantCalls fails unless the service calls since the last check are
// exactly these, in order.
func (f *fakeKV) wantCalls(want ...string) {
	f.t.Helper()
	if strings.Join(f.calls, "\n") != strings.Join(want, "\n") {
		f.t.Fatalf("service calls:\n  %s\nwant:\n  %s", strings.Join(f.calls, "\n  "), strings.Join(want, "\n  "))
	}
	f.calls = nil
}

func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
