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
	"time"

	"github.com/glomers/glomers/lib/node"
	"github.com/glomers/glomers/lib/txn"
)

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

// server wires one txn.Store to the node. steps serialises the store's
// steps, as lib/ protocol types expect, and ticks it (flushes and
// resends; nothing runs while nothing waits to be replicated).
type server struct {
	n     *node.Node
	steps *node.Stepper[txn.Ready] // set by init, before any handler or tick runs
	store *txn.Store
}

func newNode() *node.Node {
	s := &server{n: node.New()}
	// No handler waits on anything, so serve messages in arrival order: a
	// txn delivered after a replicate message reads what it carried.
	s.n.InOrder = true
	s.n.OnInit(s.init)
	s.n.Handle("txn", s.txn)
	s.n.HandlePeer(txn.TypeReplicate, s.replicate)
	s.n.HandlePeer(txn.TypeAck, s.ack)
	return s.n
}

func (s *server) init(context.Context) error {
	st, err := txn.New(s.n.ID(), s.n.NodeIDs(), txn.DefaultConfig, time.Now())
	if err != nil {
		return err
	}
	s.store = st
	s.steps = node.NewStepper(s.n, st.Tick, func(r txn.Ready) time.Time { return r.NextTick }, s.send)
	return nil
}

func (s *server) txn(_ context.Context, req node.Message) (any, error) {
	var body struct {
		Txn []txn.Mop `json:"txn"`
	}
	if err := node.Decode(req, &body); err != nil {
		return nil, err
	}
	if body.Txn == nil {
		return nil, node.Errorf(node.MalformedRequest, "txn request has no txn list")
	}
	var done []txn.Mop
	var err error
	r := s.steps.Step(func(now time.Time) txn.Ready {
		var rd txn.Ready
		done, rd, err = s.store.Commit(body.Txn, now)
		return rd
	})
	if err != nil {
		// Nothing was applied: a definite failure.
		return nil, node.Errorf(node.TemporarilyUnavailable, "%v", err)
	}
	return node.ReplyThen(txnOK{Type: "txn_ok", Txn: done}, func() { s.send(r) }), nil
}

func (s *server) replicate(_ context.Context, req node.Message) (any, error) {
	var body txn.Replicate
	if err := node.Decode(req, &body); err != nil {
		return nil, err
	}
	var err error
	r := s.steps.Step(func(now time.Time) txn.Ready {
		var rd txn.Ready
		rd, err = s.store.HandleReplicate(req.Src, body, now)
		return rd
	})
	if err != nil {
		// Replication carries no msg_id, so this is logged, not answered.
		return nil, node.Errorf(node.MalformedRequest, "%v", err)
	}
	s.send(r)
	return nil, nil
}

func (s *server) ack(_ context.Context, req node.Message) (any, error) {
	var body txn.Ack
	if err := node.Decode(req, &body); err != nil {
		return nil, err
	}
	s.send(s.steps.Step(func(now time.Time) txn.Ready { return s.store.HandleAck(req.Src, body, now) }))
	return nil, nil
}

// send carries out a step's Ready: its messages. A failed send is only
// logged; the store resends until acknowledged.
func (s *server) send(r txn.Ready) {
	for _, o := range r.Messages {
		if err := s.n.Send(o.To, o.Body); err != nil {
			slog.Warn("send replication", "to", o.To, "err", err)
		}
	}
}
