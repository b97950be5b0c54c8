package main

import (
	"encoding/json"
	"testing"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

	"github.com/glomers/glomers/lib/node/nodetest"
)

// A cluster of one: the node elects itself and serves every request from
// its own log, with Maelstrom's lin-kv semantics and error codes.
func TestTranscriptSingleNode(t *testing.T) {
	tr := nodetest.Start(t, newNode())
	tr.Init("n0", "n0")
	steps := []struct {
		req  map[string]any
		want string // body, or "" for an error
		code int
	}{
		// Held until the node has elected itself, then answered.
		{map[string]any{"type": "read", "key": 1}, "", maelstrom.KeyDoesNotExist},
		{map[string]any{"type": "cas", "key": 1, "from": 1, "to": 2}, "", maelstrom.KeyDoesNotExist},
		{map[string]any{"type": "write", "key": 1, "value": 1}, `{"type":"write_ok"}`, 0},
		{map[string]any{"type": "read", "key": 1}, `{"type":"read_ok","value":1}`, 0},
		{map[string]any{"type": "cas", "key": 1, "from": 3, "to": 4}, "", maelstrom.PreconditionFailed},
		{map[string]any{"type": "cas", "key": 1, "from": 1, "to": 4}, `{"type":"cas_ok"}`, 0},
		{map[string]any{"type": "read", "key": 1}, `{"type":"read_ok","value":4}`, 0},
		// Keys and values are any JSON, compared by value.
		{map[string]any{"type": "write", "key": "k", "value": []any{1, "a"}}, `{"type":"write_ok"}`, 0},
		{map[string]any{"type": "cas", "key": "k", "from": json.RawMessage(`[1, "a"]`), "to": nil}, `{"type":"cas_ok"}`, 0},
		{map[string]any{"type": "read", "key": "k"}, `{"type":"read_ok","value":null}`, 0},
		// Malformed requests: error 12, and the node keeps serving.
		{map[string]any{"type": "write", "key": 1}, "", maelstrom.MalformedRequest},
		{map[string]any{"type": "cas", "key": 1, "to": 1}, "", maelstrom.MalformedRequest},
		{map[string]any{"type": "read", "key": 1}, `{"type":"read_ok","value":4}`, 0},
	}
	for i, st := range steps {
		id := i + 2
		st.req["msg_id"] = id
		tr.SendMsg("c1", "n0", st.req)
		out := tr.Next()
		if st.want == "" {
			nodetest.WantError(t, out, "c1", st.code, id)
			continue
		}
		var body map[string]any
		_ = json.Unmarshal([]byte(st.want), &body)
		body["in_reply_to"] = id
		want, _ := json.Marshal(body)
		nodetest.WantBody(t, out, "c1", string(want))
	}
}

func TestUnknownTypeAndClientRaftMessage(t *testing.T) {
	tr := nodetest.Start(t, newNode())
	tr.Init("n0", "n0", "n1", "n2")
	tr.SendMsg("c1", "n0", map[string]any{"type": "frobnicate", "msg_id": 2})
	nodetest.WantError(t, tr.Next(), "c1", maelstrom.NotSupported, 2)
	// A client cannot inject replication.
	tr.SendMsg("c1", "n0", map[string]any{"type": "raft", "msg_id": 3, "kind": "append", "term": 99})
	nodetest.WantError(t, tr.Next(), "c1", maelstrom.NotSupported, 3)
}
