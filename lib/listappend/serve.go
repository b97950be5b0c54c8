package listappend

import (
	"context"
	"fmt"
	"sync"
	"time"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

	"github.com/glomers/glomers/lib/node"
)

// server owns the replica; mu guards it and the fields below, because
// handlers and timer ticks run concurrently.
type server struct {
	n *node.Node
	// configure adjusts the replica's configuration (tests); nil keeps
	// DefaultConfig.
	configure func(*Config)

	mu      sync.Mutex
	rep     *Replica
	nextReq Request
	clients map[Request]node.Message // requests awaiting their reply
	timer   *time.Timer              // calls tick at the latest NextTick
	stopped bool
}

// NewNode is a Maelstrom node serving txn-list-append with a Replica
// (challenges/txn-list-append runs it as is). configure adjusts the
// configuration after DefaultConfig (nil: none); the fixture
// txn-apply-uncommitted sets ApplyOnAppend with it.
func NewNode(configure func(*Config)) *node.Node {
	n := node.New()
	// No handler waits: serve in arrival order.
	n.InOrder = true
	s := &server{n: n, configure: configure, clients: map[Request]node.Message{}}
	n.OnInit(func(context.Context) error {
		cfg := DefaultConfig(n.ID(), n.NodeIDs())
		if s.configure != nil {
			s.configure(&cfg)
		}
		rep, err := NewReplica(cfg, time.Now())
		if err != nil {
			return fmt.Errorf("start replica: %w", err)
		}
		s.mu.Lock()
		s.rep = rep
		s.timer = time.AfterFunc(time.Hour, s.tick)
		s.mu.Unlock()
		s.run(func(now time.Time) Ready { return rep.Tick(now) })
		n.Go(s.stopAtShutdown)
		return nil
	})
	n.Handle("txn", s.txn)
	for _, typ := range PeerTypes {
		n.HandlePeer(typ, s.peer)
	}
	n.Every(5*time.Second, s.logStats)
	return n
}

func (s *server) txn(_ context.Context, req node.Message) (any, error) {
	var body struct {
		Txn Txn `json:"txn"`
	}
	if err := node.Decode(req, &body); err != nil {
		return nil, err
	}
	if len(body.Txn) == 0 {
		return nil, node.Errorf(maelstrom.MalformedRequest, "txn needs a non-empty list of micro-ops")
	}
	s.run(func(now time.Time) Ready {
		s.nextReq++
		s.clients[s.nextReq] = req
		return s.rep.Submit(now, s.nextReq, body.Txn)
	})
	return nil, nil
}

func (s *server) peer(_ context.Context, req node.Message) (any, error) {
	s.run(func(now time.Time) Ready { return s.rep.Receive(now, req.Src, req.Body) })
	return nil, nil
}

func (s *server) tick() {
	s.run(func(now time.Time) Ready { return s.rep.Tick(now) })
}

type txnOK struct {
	Type string `json:"type"`
	Txn  Txn    `json:"txn"`
}

// run takes one replica step under the lock, schedules the next tick,
// then sends its messages and answers its clients.
func (s *server) run(step func(now time.Time) Ready) {
	s.mu.Lock()
	now := time.Now()
	rd := step(now)
	if !s.stopped && !rd.NextTick.IsZero() {
		s.timer.Reset(rd.NextTick.Sub(now))
	}
	answers := make([]node.Message, len(rd.Replies))
	for i, r := range rd.Replies {
		answers[i] = s.clients[r.Request]
		delete(s.clients, r.Request)
	}
	s.mu.Unlock()

	for _, o := range rd.Messages {
		if err := s.n.Send(o.To, o.Body); err != nil {
			s.n.Logger.Error("send", "to", o.To, "err", err)
		}
	}
	for i, r := range rd.Replies {
		req := answers[i]
		var body any = txnOK{Type: "txn_ok", Txn: r.Txn}
		if r.Code != 0 {
			body = map[string]any{"type": "error", "code": r.Code, "text": r.Text}
		}
		if err := s.n.Reply(req, body); err != nil {
			s.n.Logger.Error("answer txn", "src", req.Src, "err", err)
		}
	}
}

func (s *server) stopAtShutdown(ctx context.Context) {
	<-ctx.Done()
	s.mu.Lock()
	s.stopped = true
	s.timer.Stop()
	s.mu.Unlock()
}

func (s *server) logStats(context.Context) {
	s.mu.Lock()
	if s.rep == nil {
		s.mu.Unlock()
		return
	}
	st, leader, applied := s.rep.Stats, s.rep.Leader(), s.rep.Applied()
	s.mu.Unlock()
	s.n.Logger.Info("replica stats", "leader", leader, "applied", applied, "proposed", st.Proposed, "forwarded", st.Forwarded,
		"resent", st.Resent, "txns", st.Applied, "duplicates", st.Duplicates, "reads", st.ReadIndexes, "malformed", st.Malformed)
}
