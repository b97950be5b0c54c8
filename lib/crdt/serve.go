package crdt

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/glomers/glomers/lib/gossip"
	"github.com/glomers/glomers/lib/node"
)

// Replica is what GSet and Counter share and Served needs: the gossip
// steps that merge a peer's message and resend this node's updates.
type Replica interface {
	Receive(from string, m gossip.Message, now time.Time) gossip.Ready
	Tick(now time.Time) gossip.Ready
}

// Served is one replica wired to a Maelstrom node: the wiring g-set and
// pn-counter share, while their client requests (what an add carries,
// what a read answers) stay in their main.go and reach the replica
// through Update and Read.
type Served[R Replica] struct {
	n     *node.Node
	steps *node.Stepper[gossip.Ready] // set by init, before any handler or tick runs
	rep   R                           // only touched in a step or under steps.Locked
}

// Serve wires to n the replica that start makes at init (once n knows its
// id and the cluster's), and takes the replicas' gossip from peers. n
// serves messages in arrival order, since no handler waits on anything:
// a read delivered after a gossip message sees what it carried.
func Serve[R Replica](n *node.Node, start func(self string, nodes []string, now time.Time) (R, error)) *Served[R] {
	n.InOrder = true
	s := &Served[R]{n: n}
	n.OnInit(func(context.Context) error {
		rep, err := start(n.ID(), n.NodeIDs(), time.Now())
		if err != nil {
			return fmt.Errorf("start replica: %w", err)
		}
		s.rep = rep
		s.steps = node.NewStepper(n, rep.Tick, func(r gossip.Ready) time.Time { return r.NextTick }, s.send)
		return nil
	})
	n.HandlePeer(gossip.MessageType, s.gossip)
	return s
}

// Update runs update, one step of the replica, and returns reply for the
// handler to return: the client is answered at once, and the step's
// gossip goes out after the answer; spreading the update is gossip's
// business, not the client's wait.
func (s *Served[R]) Update(update func(rep R, now time.Time) gossip.Ready, reply any) any {
	r := s.steps.Step(func(now time.Time) gossip.Ready { return update(s.rep, now) })
	return node.ReplyThen(reply, func() { s.send(r) })
}

// Read runs read on the replica under the lock; read must copy out what
// it keeps.
func (s *Served[R]) Read(read func(rep R)) {
	s.steps.Locked(func() { read(s.rep) })
}

// gossip merges a peer's message; it is never answered.
func (s *Served[R]) gossip(_ context.Context, req node.Message) (any, error) {
	var m gossip.Message
	if err := json.Unmarshal(req.Body, &m); err != nil {
		s.n.Logger.Warn("dropping malformed gossip", "src", req.Src, "err", err)
		return nil, nil
	}
	s.send(s.steps.Step(func(now time.Time) gossip.Ready { return s.rep.Receive(req.Src, m, now) }))
	return nil, nil
}

// send carries out a step's Ready: its messages. A failed send is only
// logged; gossip resends what is not acknowledged.
func (s *Served[R]) send(r gossip.Ready) {
	for _, o := range r.Messages {
		if err := s.n.Send(o.To, o.Body); err != nil {
			s.n.Logger.Error("send gossip", "to", o.To, "err", err)
		}
	}
}
