package node_test

import (
	"context"
	"encoding/json"
	"log"
	"sync"
	"time"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

	"github.com/glomers/glomers/lib/kv"
	"github.com/glomers/glomers/lib/node"
)

// A node with a request handler, a service call and a periodic task. The
// protocol state lives in one struct behind one mutex, because handlers
// and ticks run concurrently.
func Example() {
	n := node.New()
	store := kv.New(n, kv.SeqKV)

	var mu sync.Mutex
	seen := map[int]bool{}

	n.Handle("add", func(ctx context.Context, req node.Message) (any, error) {
		var body struct {
			Element int `json:"element"`
		}
		if err := node.Decode(req, &body); err != nil {
			return nil, err // error 12 to the sender
		}
		mu.Lock()
		seen[body.Element] = true
		mu.Unlock()
		return map[string]any{"type": "add_ok"}, nil
	})
	n.Handle("total", func(ctx context.Context, req node.Message) (any, error) {
		total, err := store.ReadInt(ctx, "total") // RPC with the default deadline
		if kv.IsKeyMissing(err) {
			total, err = 0, nil
		}
		if err != nil {
			return nil, err // the service's error code, or 0 on timeout
		}
		return map[string]any{"type": "total_ok", "value": total}, nil
	})
	n.Every(500*time.Millisecond, func(ctx context.Context) {
		mu.Lock()
		snapshot, _ := json.Marshal(seen)
		mu.Unlock()
		for _, peer := range n.NodeIDs() {
			if peer != n.ID() {
				_ = n.Send(peer, map[string]any{"type": "gossip", "seen": json.RawMessage(snapshot)})
			}
		}
	})
	n.Handle("gossip", func(ctx context.Context, req node.Message) (any, error) {
		return nil, nil // merge …; no reply to fire-and-forget messages
	})
	_ = maelstrom.NotSupported // unknown types are answered with this code by the runtime

	if err := n.Run(); err != nil {
		log.Fatal(err)
	}
}
