package crdt

import (
	"time"

	"github.com/glomers/glomers/lib/gossip"
)

// GSet is one node's replica of a grow-only set. Its state is the set of
// elements; merge is union. An element added here is disseminated as a
// gossip value: gossip's links deliver every value to every node at least
// once, across partitions, and union makes the duplicates harmless, so
// every replica converges to the union of all adds.
//
// lib/gossip already is a grow-only set of values (it deduplicates what it
// learns and never forgets), so GSet is that set under its CRDT name; it
// exists so that the challenge reads as a set, not as a broadcast.
type GSet struct {
	g *gossip.Gossip
}

// NewGSet makes node self's replica in a cluster of nodes (every node must
// be given the same list in the same order). cfg is the gossip
// configuration; now starts its clocks.
func NewGSet(self string, nodes []string, cfg gossip.Config, now time.Time) (*GSet, error) {
	g, err := gossip.New(self, nodes, cfg, now)
	if err != nil {
		return nil, err
	}
	return &GSet{g: g}, nil
}

// Add puts an element (any JSON, compact) into the set. It is readable
// (Elements) when Add returns.
func (s *GSet) Add(element gossip.Value, now time.Time) gossip.Ready {
	return s.g.Broadcast(element, now)
}

// Receive merges a peer's gossip message.
func (s *GSet) Receive(from string, m gossip.Message, now time.Time) gossip.Ready {
	return s.g.Receive(from, m, now)
}

// Tick lets time pass (flushes, retransmissions); call it at
// Ready.NextTick.
func (s *GSet) Tick(now time.Time) gossip.Ready { return s.g.Tick(now) }

// Elements is what a read returns: every element this replica holds, in
// the order it learned them. The caller must not modify the slice.
func (s *GSet) Elements() []gossip.Value { return s.g.Values() }

// Has reports whether the replica holds element.
func (s *GSet) Has(element gossip.Value) bool { return s.g.Has(element) }

// Stats are the gossip's counters.
func (s *GSet) Stats() gossip.Stats { return s.g.Stats() }
