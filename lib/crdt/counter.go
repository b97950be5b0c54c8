package crdt

import (
	"encoding/json"
	"time"

	"github.com/glomers/glomers/lib/gossip"
)

// Counter is one node's replica of a PN-counter (Maelstrom's pn-counter
// workload; with non-negative deltas, g-counter). Its state is a
// PNCounter. It disseminates delta-states: every Add that changes this
// node's component hands the new version of that component to gossip as
// a value, {"node":"n1","p":12,"n":5}, and every replica merges every
// version it learns by maximum. A version is immutable and distinct from
// every other (P or N grew), so gossip's value-deduplication is exact,
// and a version that arrives late or twice merges to nothing. gossip's
// retransmission makes every version reach every node, so a partition
// only delays convergence; merge by maximum would even tolerate losing
// all but a node's latest version.
//
// Cost: one gossip value per Add with a non-zero delta, the same messages
// as a broadcast of one value (the star batches them; see lib/gossip).
type Counter struct {
	self    string
	g       *gossip.Gossip
	state   PNCounter
	applied int // gossip values merged into state so far
	// Rejected counts values that were not valid components (a broken or
	// hostile peer); they are ignored.
	Rejected int
}

// NewCounter makes node self's replica in a cluster of nodes (every node
// must be given the same list in the same order).
func NewCounter(self string, nodes []string, cfg gossip.Config, now time.Time) (*Counter, error) {
	g, err := gossip.New(self, nodes, cfg, now)
	if err != nil {
		return nil, err
	}
	return &Counter{self: self, g: g}, nil
}

// Add applies a client's delta at this node. The new value is readable
// (Value) when Add returns.
func (c *Counter) Add(delta int64, now time.Time) gossip.Ready {
	if delta == 0 {
		return c.g.Tick(now)
	}
	x := c.state.Add(c.self, delta)
	text, _ := json.Marshal(x) // a struct of a string and two ints always marshals
	r := c.g.Broadcast(gossip.Value(text), now)
	c.absorb()
	return r
}

// Receive merges a peer's gossip message.
func (c *Counter) Receive(from string, m gossip.Message, now time.Time) gossip.Ready {
	r := c.g.Receive(from, m, now)
	c.absorb()
	return r
}

// Tick lets time pass; call it at Ready.NextTick.
func (c *Counter) Tick(now time.Time) gossip.Ready { return c.g.Tick(now) }

// Value is what a read returns: the counter's total as this replica knows
// it.
func (c *Counter) Value() int64 { return c.state.Value() }

// State is the replica's PN-counter state (for tests and logs; the caller
// must not modify it).
func (c *Counter) State() *PNCounter { return &c.state }

// Stats are the gossip's counters.
func (c *Counter) Stats() gossip.Stats { return c.g.Stats() }

// absorb merges the gossip values learned since the last step. gossip
// keeps its values in the order it learned them and never drops one, so
// the ones not merged yet are a suffix.
func (c *Counter) absorb() {
	vals := c.g.Values()
	for _, v := range vals[c.applied:] {
		x, err := decodeComponent([]byte(v))
		if err == nil {
			_, err = c.state.Merge(x)
		}
		if err != nil {
			c.Rejected++
		}
	}
	c.applied = len(vals)
}
