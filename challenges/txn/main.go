// Command txn is Gossip Glomers challenges 6a–6c: a totally available,
// read-committed key/value store for transactions over integer registers.
// Every node answers every txn from its own replica (lib/txn) and ships
// committed write sets to the other nodes on a timer, resending until they
// acknowledge, so partitions only delay replication.
package main

import (
	"context"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

	"github.com/glomers/glomers/lib/node"
	"github.com/glomers/glomers/lib/txn"
)

// replicateEvery trades visibility lag for messages: one replication
// message per peer per tick whatever the request rate.
const replicateEvery = 100 * time.Millisecond

func main() {
	if err := newNode().Run(); err != nil {
		slog.Error("txn node failed", "err", err)
		os.Exit(1)
	}
}

type txnOK struct {
	Type string    `json:"type"`
	Txn  []txn.Mop `json:"txn"`
}

func newNode() *node.Node {
	n := node.New()
	var store atomic.Pointer[txn.Store] // set once init tells us who we are
	n.OnInit(func(context.Context) error {
		store.Store(txn.New(n.ID(), n.NodeIDs(), txn.DefaultConfig))
		return nil
	})
	n.Handle("txn", func(_ context.Context, req node.Message) (any, error) {
		var body struct {
			Txn []txn.Mop `json:"txn"`
		}
		if err := node.Decode(req, &body); err != nil {
			return nil, err
		}
		if body.Txn == nil {
			return nil, node.Errorf(maelstrom.MalformedRequest, "txn request has no txn list")
		}
		return txnOK{Type: "txn_ok", Txn: store.Load().Commit(body.Txn)}, nil
	})
	n.Handle(txn.TypeReplicate, func(_ context.Context, req node.Message) (any, error) {
		var body txn.Replicate
		if err := node.Decode(req, &body); err != nil {
			return nil, err
		}
		ack := store.Load().HandleReplicate(body)
		if err := n.Send(req.Src, ack); err != nil {
			slog.Warn("send replication ack", "to", req.Src, "err", err)
		}
		return nil, nil
	})
	n.Handle(txn.TypeAck, func(_ context.Context, req node.Message) (any, error) {
		var body txn.Ack
		if err := node.Decode(req, &body); err != nil {
			return nil, err
		}
		store.Load().HandleAck(req.Src, body)
		return nil, nil
	})
	n.Every(replicateEvery, func(context.Context) {
		s := store.Load()
		if s == nil {
			return
		}
		for _, o := range s.Tick() {
			if err := n.Send(o.Dest, o.Body); err != nil {
				slog.Warn("send replication", "to", o.Dest, "err", err)
			}
		}
	})
	return n
}
