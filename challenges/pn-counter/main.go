// Command pn-counter is Maelstrom's pn-counter workload as its CRDT chapter
// builds it: a counter that needs no service. add {delta} → add_ok, read →
// read_ok {value}. Each node holds a lib/crdt Counter replica (per-node P
// and N counters merged by maximum); this node's new component versions
// travel to every node over lib/gossip's star with retransmission, so
// every node answers at once, partitioned or not, and a partition only
// delays convergence. (challenges/counter serves the same workload on
// seq-kv, Fly.io's way.) The gossip preset comes from GOSSIP_PRESET:
// "messages" (default: only the message count is judged here) or
// "latency".
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"time"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

	"github.com/glomers/glomers/lib/crdt"
	"github.com/glomers/glomers/lib/gossip"
	"github.com/glomers/glomers/lib/node"
)

func main() {
	cfg, err := gossip.Preset(presetName())
	if err != nil {
		fmt.Fprintln(os.Stderr, "pn-counter: GOSSIP_PRESET:", err)
		os.Exit(2)
	}
	if err := newNode(cfg).Run(); err != nil {
		slog.Error("pn-counter node failed", "err", err)
		os.Exit(1)
	}
}

func presetName() string {
	if name := os.Getenv("GOSSIP_PRESET"); name != "" {
		return name
	}
	return "messages"
}

// server wires one crdt.Counter replica to the node. steps serialises the
// replica's steps and ticks it; counter is only touched in a step or under
// steps.Locked, because handlers and ticks run concurrently.
type server struct {
	n       *node.Node
	steps   *node.Stepper[gossip.Ready] // set by init, before any handler or tick runs
	counter *crdt.Counter
}

func newNode(cfg gossip.Config) *node.Node {
	n := node.New()
	// No handler waits on anything: serve in arrival order, so a read
	// delivered after a gossip message counts its updates.
	n.InOrder = true
	s := &server{n: n}
	n.OnInit(func(context.Context) error {
		c, err := crdt.NewCounter(n.ID(), n.NodeIDs(), cfg, time.Now())
		if err != nil {
			return fmt.Errorf("start pn-counter: %w", err)
		}
		s.counter = c
		s.steps = node.NewStepper(n, c.Tick, func(r gossip.Ready) time.Time { return r.NextTick }, s.send)
		return nil
	})
	n.Handle("add", s.add)
	n.Handle("read", s.read)
	n.HandlePeer(gossip.MessageType, s.gossip)
	return n
}

type typeOnly struct {
	Type string `json:"type"`
}

// add applies the delta and answers at once; spreading it is gossip's
// business, not the client's wait.
func (s *server) add(_ context.Context, req node.Message) (any, error) {
	var body struct {
		Delta *int64 `json:"delta"`
	}
	if err := node.Decode(req, &body); err != nil {
		return nil, err
	}
	if body.Delta == nil {
		return nil, node.Errorf(maelstrom.MalformedRequest, "add needs an integer delta")
	}
	r := s.steps.Step(func(now time.Time) gossip.Ready { return s.counter.Add(*body.Delta, now) })
	return node.ReplyThen(typeOnly{Type: "add_ok"}, func() { s.send(r) }), nil
}

type readOK struct {
	Type  string `json:"type"`
	Value int64  `json:"value"`
}

func (s *server) read(context.Context, node.Message) (any, error) {
	var v int64
	s.steps.Locked(func() { v = s.counter.Value() })
	return readOK{Type: "read_ok", Value: v}, nil
}

// gossip merges a peer's message; it is never answered.
func (s *server) gossip(_ context.Context, req node.Message) (any, error) {
	var m gossip.Message
	if err := json.Unmarshal(req.Body, &m); err != nil {
		s.n.Logger.Warn("dropping malformed gossip", "src", req.Src, "err", err)
		return nil, nil
	}
	s.send(s.steps.Step(func(now time.Time) gossip.Ready { return s.counter.Receive(req.Src, m, now) }))
	return nil, nil
}

// send carries out a step's Ready: its messages. A failed send is only
// logged; gossip resends what is not acknowledged.
func (s *server) send(r gossip.Ready) {
	for _, o := range r.Messages {
		if err := s.n.Send(o.To, o.Body); err != nil {
			s.n.Logger.Error("send gossip", "to", o.To, "err", err)
		}
	}
}
