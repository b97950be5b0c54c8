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
// steps, as lib/ protocol types expect, and guards timer and stopped; no
// call holds it across I/O.
type server struct {
	n     *node.Node
	mu    sync.Mutex
	store *txn.Store // set by init, before any handler or tick runs
	// timer calls tick at the latest Ready.NextTick; nothing runs while
	// nothing waits to be replicated.
	timer   *time.Timer
	stopped bool // the node is shutting down: no more ticks
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
	s.mu.Lock()
	s.store = st
	s.timer = time.AfterFunc(time.Hour, s.tick)
	s.timer.Stop()
	s.mu.Unlock()
	s.n.Go(s.stopAtShutdown)
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
	out := s.step(func(now time.Time) txn.Ready {
		var r txn.Ready
		done, r, err = s.store.Commit(body.Txn, now)
		return r
	})
	if err != nil {
		// Nothing was applied: a definite failure.
		return nil, node.Errorf(node.TemporarilyUnavailable, "%v", err)
	}
	return node.ReplyThen(txnOK{Type: "txn_ok", Txn: done}, func() { s.send(out) }), nil
}

func (s *server) replicate(_ context.Context, req node.Message) (any, error) {
	var body txn.Replicate
	if err := node.Decode(req, &body); err != nil {
		return nil, err
	}
	var err error
	out := s.step(func(now time.Time) txn.Ready {
		var r txn.Ready
		r, err = s.store.HandleReplicate(req.Src, body, now)
		return r
	})
	if err != nil {
		// Replication carries no msg_id, so this is logged, not answered.
		return nil, node.Errorf(node.MalformedRequest, "%v", err)
	}
	s.send(out)
	return nil, nil
}

func (s *server) ack(_ context.Context, req node.Message) (any, error) {
	var body txn.Ack
	if err := node.Decode(req, &body); err != nil {
		return nil, err
	}
	s.send(s.step(func(now time.Time) txn.Ready { return s.store.HandleAck(req.Src, body, now) }))
	return nil, nil
}

// step runs one store step and schedules the next tick in the same
// critical section, so a later step's NextTick is never overwritten by an
// earlier one's, and returns the messages to send.
func (s *server) step(fn func(now time.Time) txn.Ready) []txn.Outbound {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	r := fn(now)
	switch {
	case s.stopped:
	case r.NextTick.IsZero():
		s.timer.Stop()
	default:
		s.timer.Reset(r.NextTick.Sub(now))
	}
	return r.Messages
}

func (s *server) send(out []txn.Outbound) {
	for _, o := range out {
		if err := s.n.Send(o.To, o.Body); err != nil {
			slog.Warn("send replication", "to", o.To, "err", err)
		}
	}
}

// tick gives the store the time: flushes and resends. It runs on the
// timer's own goroutine; one that fires early only finds nothing due.
func (s *server) tick() { s.send(s.step(s.store.Tick)) }

// stopAtShutdown stops the ticks once stdin has ended.
func (s *server) stopAtShutdown(ctx context.Context) {
	<-ctx.Done()
	s.mu.Lock()
	s.stopped = true
	s.timer.Stop()
	s.mu.Unlock()
}
