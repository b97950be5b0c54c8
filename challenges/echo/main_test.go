package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/glomers/glomers/lib/node"
	"github.com/glomers/glomers/lib/node/nodetest"
)

func TestTranscript(t *testing.T) {
	tr := nodetest.Start(t, newNode())
	tr.Init("n0", "n0")

	// Payloads come back exactly, whatever their JSON type.
	for i, payload := range []string{`"Please echo 42"`, `12345678901234567890`, `{"b":[1,2.50,null],"a":true}`} {
		msgID := i + 2
		tr.Send(`{"id":3,"src":"c4","dest":"n0","body":{"type":"echo","msg_id":` + itoa(msgID) + `,"echo":` + payload + `}}`)
		out := tr.Next()
		if out.Src != "n0" || out.Dest != "c4" || out.Type() != "echo_ok" || out.Int("in_reply_to") != msgID {
			t.Fatalf("echo %s: got %s", payload, out.Line)
		}
		var body map[string]json.RawMessage
		if err := json.Unmarshal(out.RawBody, &body); err != nil {
			t.Fatalf("reply body: %v (%s)", err, out.Line)
		}
		if string(body["echo"]) != payload {
			t.Fatalf("echo %s came back as %s", payload, body["echo"])
		}
		// Exactly the keys Maelstrom's reply schema allows.
		if len(body) != 3 {
			t.Fatalf("echo_ok has keys beyond type, echo, in_reply_to: %s", out.Line)
		}
	}

	tr.SendMsg("c4", "n0", map[string]any{"type": "generate", "msg_id": 9})
	if out := tr.Next(); out.Type() != "error" || out.Int("code") != node.NotSupported || out.Int("in_reply_to") != 9 {
		t.Fatalf("unknown type: want error 10, got %s", out.Line)
	}
	tr.SendMsg("c4", "n0", map[string]any{"type": "echo", "msg_id": 10})
	if out := tr.Next(); out.Type() != "error" || out.Int("code") != node.MalformedRequest {
		t.Fatalf("echo without payload: want error 12, got %s", out.Line)
	}
	tr.Send(`{"src":"c4","dest":"n0","body":{"type":"echo","msg_id":11,`)
	tr.Quiet(20 * time.Millisecond)

	tr.SendMsg("c4", "n0", map[string]any{"type": "echo", "msg_id": 12, "echo": "after"})
	if out := tr.Next(); out.Body["echo"] != "after" {
		t.Fatalf("node stopped answering: %s", out.Line)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }
