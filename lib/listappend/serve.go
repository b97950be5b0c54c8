package listappend

import (
	"context"
	"fmt"
	"time"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

	"github.com/glomers/glomers/lib/node"
)

// server wires one Replica to the node. steps serialises the replica's
// steps and ticks it; rep and the fields below are only touched in a step
// or under steps.Locked, because handlers and ticks run concurrently.
type server struct {
	n *node.Node
	// configure adjusts the replica's configuration (tests); nil keeps
	// DefaultConfig.
	configure func(*Config)

	steps   *node.Stepper[served] // set by init, before any handler or tick runs
	rep     *Replica
	nextReq Request
	clients map[Request]node.Message // requests awaiting their reply
}

// served is a step's Ready with the request each of its Replies answers,
// matched in the step, under the lock that guards clients.
type served struct {
	Ready
	answers []node.Message
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
		s.rep = rep
		s.steps = node.NewStepper(n, s.tick, func(sv served) time.Time { return sv.NextTick }, s.deliver)
		s.run(rep.Tick) // schedules the first tick
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

// tick is the replica's Tick as a step of the Stepper.
func (s *server) tick(now time.Time) served { return s.matched(s.rep.Tick(now)) }

type txnOK struct {
	Type string `json:"type"`
	Txn  Txn    `json:"txn"`
}

// run takes one replica step and carries it out.
func (s *server) run(step func(now time.Time) Ready) {
	s.deliver(s.steps.Step(func(now time.Time) served { return s.matched(step(now)) }))
}

// matched pairs each of rd's Replies with the request it answers. It runs
// in the step, under the lock.
func (s *server) matched(rd Ready) served {
	answers := make([]node.Message, len(rd.Replies))
	for i, r := range rd.Replies {
		answers[i] = s.clients[r.Request]
		delete(s.clients, r.Request)
	}
	return served{Ready: rd, answers: answers}
}

// deliver sends a step's messages, then answers its clients.
func (s *server) deliver(sv served) {
	for _, o := range sv.Messages {
		if err := s.n.Send(o.To, o.Body); err != nil {
			s.n.Logger.Error("send", "to", o.To, "err", err)
		}
	}
	for i, r := range sv.Replies {
		req := sv.answers[i]
		var body any = txnOK{Type: "txn_ok", Txn: r.Txn}
		if r.Code != 0 {
			body = map[string]any{"type": "error", "code": r.Code, "text": r.Text}
		}
		if err := s.n.Reply(req, body); err != nil {
			s.n.Logger.Error("answer txn", "src", req.Src, "err", err)
		}
	}
}

func (s *server) logStats(context.Context) {
	if s.steps == nil { // init failed
		return
	}
	var st Stats
	var leader string
	var applied uint64
	s.steps.Locked(func() { st, leader, applied = s.rep.Stats, s.rep.Leader(), s.rep.Applied() })
	s.n.Logger.Info("replica stats", "leader", leader, "applied", applied, "proposed", st.Proposed, "forwarded", st.Forwarded,
		"resent", st.Resent, "txns", st.Applied, "duplicates", st.Duplicates, "reads", st.ReadIndexes, "malformed", st.Malformed)
}
