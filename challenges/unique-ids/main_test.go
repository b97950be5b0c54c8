package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/glomers/glomers/lib/node"
	"github.com/glomers/glomers/lib/node/nodetest"
)

func TestTranscript(t *testing.T) {
	nodes := []string{"n0", "n1", "n2"}
	seen := map[string]string{}
	for _, id := range nodes {
		tr := nodetest.Start(t, newNode())
		tr.Init(id, nodes...)
		for i := range 200 {
			tr.SendMsg("c7", id, map[string]any{"type": "generate", "msg_id": i + 2})
			out := tr.Next()
			if out.Type() != "generate_ok" || out.Int("in_reply_to") != i+2 || len(out.Body) != 3 {
				t.Fatalf("%s: want generate_ok with type, id, in_reply_to, got %s", id, out.Line)
			}
			// Numbers decode as json.Number, so the key is the exact text.
			key := fmt.Sprint(out.Body["id"])
			if out.Int("id") < 0 {
				t.Fatalf("%s: id %s is not a non-negative integer", id, key)
			}
			if prev, dup := seen[key]; dup {
				t.Fatalf("id %s issued by %s and %s", key, prev, id)
			}
			seen[key] = id
		}

		tr.SendMsg("c7", id, map[string]any{"type": "echo", "msg_id": 500, "echo": 1})
		if out := tr.Next(); out.Type() != "error" || out.Int("code") != node.NotSupported {
			t.Fatalf("%s: unknown type: want error 10, got %s", id, out.Line)
		}
		tr.Send(`{"src":"c7","dest":"` + id + `","body":{"msg_id":501}}`)
		if out := tr.Next(); out.Type() != "error" || out.Int("code") != node.MalformedRequest || out.Int("in_reply_to") != 501 {
			t.Fatalf("%s: body without type: want error 12, got %s", id, out.Line)
		}
		tr.Send(`{not json`)
		tr.Quiet(20 * time.Millisecond)
		tr.SendMsg("c7", id, map[string]any{"type": "generate", "msg_id": 502})
		if out := tr.Next(); out.Type() != "generate_ok" {
			t.Fatalf("%s: node stopped answering: %s", id, out.Line)
		}
		if err := tr.Close(); err != nil {
			t.Fatalf("%s: Run: %v", id, err)
		}
	}
	if len(seen) != 600 {
		t.Fatalf("got %d distinct ids, want 600", len(seen))
	}
}
