// Package idgen generates IDs that are unique across a cluster without
// any coordination, so a node can answer every request even when it is
// cut off from all the others (the unique-ids challenge demands total
// availability under partitions).
//
// Layout: node i of N (its position in Maelstrom's node_ids list, which
// is the same ordered list on every node) hands out i, i+N, i+2N, … — the
// residue classes modulo N never meet, so no two nodes can produce the
// same number, and within a node an atomic counter makes every call
// distinct. The IDs are plain JSON integers, dense (N nodes issuing k IDs
// each cover roughly 0…N·k), and stay below 2^53 for any realistic run,
// so JSON readers that use doubles read them exactly.
//
// What it does not survive: a node restarting (its counter starts again
// at 0) or two nodes that disagree on the node list. Maelstrom never
// restarts nodes and sends every node the same list.
package idgen

import (
	"fmt"
	"slices"
	"sync/atomic"
)

// Generator hands out this node's IDs. It is safe for concurrent use
// without a lock: it has one counter, sends nothing and needs no clock,
// so an atomic add is all the state machine there is, and handlers call
// it without serialising through the caller's mutex.
type Generator struct {
	index uint64 // this node's position in the node list
	count uint64 // number of nodes
	next  atomic.Uint64
}

// New returns the generator for node self among nodes (the init message's
// node_id and node_ids).
func New(self string, nodes []string) (*Generator, error) {
	i := slices.Index(nodes, self)
	if i < 0 {
		return nil, fmt.Errorf("idgen: node %q is not in the node list %v", self, nodes)
	}
	return &Generator{index: uint64(i), count: uint64(len(nodes))}, nil
}

// Next returns an ID no other call on any node's generator returns.
func (g *Generator) Next() uint64 {
	seq := g.next.Add(1) - 1
	return seq*g.count + g.index
}
