// Command counter is Gossip Glomers challenge 4, a grow-only counter on
// Maelstrom's seq-kv: add {delta} → add_ok, read → read_ok {value}. The
// nodes keep no state of their own beyond a cache; lib/counter explains
// how every read stays fresh despite seq-kv's stale reads.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/glomers/glomers/lib/counter"
	"github.com/glomers/glomers/lib/kv"
	"github.com/glomers/glomers/lib/node"
)

func main() {
	if err := newNode().Run(); err != nil {
		slog.Error("counter node failed", "err", err)
		os.Exit(1)
	}
}

type addOK struct {
	Type string `json:"type"`
}

type readOK struct {
	Type  string `json:"type"`
	Value int    `json:"value"`
}

func newNode() *node.Node {
	n := node.New()
	var c *counter.Counter
	n.OnInit(func(context.Context) (err error) {
		c, err = counter.New(kv.New(n, kv.SeqKV), n.ID(), n.NodeIDs())
		return err
	})
	n.Handle("add", func(ctx context.Context, req node.Message) (any, error) {
		var body struct {
			Delta *int `json:"delta"`
		}
		if err := node.Decode(req, &body); err != nil {
			return nil, err
		}
		if body.Delta == nil {
			return nil, node.Errorf(node.MalformedRequest, "add needs an integer delta")
		}
		if err := c.Add(ctx, *body.Delta); err != nil {
			return nil, err
		}
		return addOK{Type: "add_ok"}, nil
	})
	n.Handle("read", func(ctx context.Context, _ node.Message) (any, error) {
		v, err := c.Read(ctx)
		if err != nil {
			return nil, err
		}
		return readOK{Type: "read_ok", Value: v}, nil
	})
	return n
}
