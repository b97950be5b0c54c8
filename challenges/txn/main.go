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
	"sync"
	"time"

	"github.com/glomers/glomers/lib/node"
	"github.com/glomers/glomers/lib/txn"
)

// replicateEvery is how often the node ticks its store; the store's own
// FlushEvery decides what a tick sends.
var replicateEvery = txn.DefaultConfig.FlushEvery

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

// server wires one txn.Store to the node. mu serialises the store's
// events, as lib/ protocol types expect; no call holds it across I/O.
type server struct {
	n     *node.Node
	mu    sync.Mutex
	store *txn.Store // set by init, before any handler or tick runs
}

func newNode() *node.Node {
	s := &server{n: node.New()}
	s.n.OnInit(s.init)
	s.n.Handle("txn", s.txn)
	s.n.HandlePeer(txn.TypeReplicate, s.replicate)
	s.n.HandlePeer(txn.TypeAck, s.ack)
	s.n.Every(replicateEvery, s.tick)
	return s.n
}

func (s *server) init(context.Context) error {
	st, err := txn.New(s.n.ID(), s.n.NodeIDs(), txn.DefaultConfig, time.Now())
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.store = st
	s.mu.Unlock()
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
	s.mu.Lock()
	done, err := s.store.Commit(body.Txn)
	s.mu.Unlock()
	if err != nil {
		// Nothing was applied: a definite failure.
		return nil, node.Errorf(node.TemporarilyUnavailable, "%v", err)
	}
	return txnOK{Type: "txn_ok", Txn: done}, nil
}

func (s *server) replicate(_ context.Context, req node.Message) (any, error) {
	var body txn.Replicate
	if err := node.Decode(req, &body); err != nil {
		return nil, err
	}
	s.mu.Lock()
	ack, err := s.store.HandleReplicate(req.Src, body)
	s.mu.Unlock()
	if err != nil {
		// Replication carries no msg_id, so this is logged, not answered.
		return nil, node.Errorf(node.MalformedRequest, "%v", err)
	}
	if err := s.n.Send(req.Src, ack); err != nil {
		slog.Warn("send replication ack", "to", req.Src, "err", err)
	}
	return nil, nil
}

func (s *server) ack(_ context.Context, req node.Message) (any, error) {
	var body txn.Ack
	if err := node.Decode(req, &body); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.store.HandleAck(req.Src, body)
	s.mu.Unlock()
	return nil, nil
}

func (s *server) tick(context.Context) {
	s.mu.Lock()
	out := s.store.Tick(time.Now())
	s.mu.Unlock()
	for _, o := range out {
		if err := s.n.Send(o.To, o.Body); err != nil {
			slog.Warn("send replication", "to", o.To, "err", err)
		}
	}
}
