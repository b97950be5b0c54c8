// Package crdt holds the conflict-free replicated data types of Maelstrom's
// CRDT chapter as plain types in the manner of lib/gossip: a grow-only set
// (GSet) and a counter with increments and decrements (Counter, on the
// PNCounter state). Each is one node's replica. Updates are made at any
// node without coordination, travel to every other node over lib/gossip's
// star with its reliable, retransmitting links, and are merged by an
// operation that is commutative, associative and idempotent (set union;
// per-node maximum), so the order, duplication and delay of deliveries do
// not matter: a partition only delays convergence.
//
// Like gossip.Gossip, every step (Add, Receive, Tick) returns one
// gossip.Ready for the caller to act on; there are no goroutines, locks or
// clocks here, and steps must be serialised by the caller.
package crdt
