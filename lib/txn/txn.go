// Package txn is a totally available, read-committed transaction store for
// integer registers, replicated between nodes without coordination: every
// node answers every transaction from its own replica, applies the
// transaction's writes as one unit when it commits (so no other
// transaction sees an intermediate or aborted write), and ships its
// committed write sets to its peers in the background, retrying until they
// acknowledge, so replicas catch up after a partition heals.
//
// Replicas converge without write cycles (G0) because every committed
// transaction gets a Lamport stamp (counter, node id) that is larger than
// every stamp its node has seen, and each key keeps the value with the
// largest stamp (last writer wins). A transaction that read a version
// therefore always sorts after it, so the version order every replica
// ends with agrees with what transactions observed.
//
// The Store is a plain state machine, as lib/ types are: Commit, Tick and
// the Handle methods take events and return the messages to send; the
// caller owns the network and the clock (Tick is called on a timer). It is
// safe for concurrent use.
package txn

import (
	"encoding/json"
	"fmt"
	"sync"
)

// Mop is a micro-operation: a read ["r", key, null] or a write
// ["w", key, value]. In a completed read, Value holds what was read (nil
// for a key never written).
type Mop struct {
	F     string
	Key   int64
	Value *int64
}

// MarshalJSON writes the mop as Maelstrom's [f, k, v] triple.
func (m Mop) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{m.F, m.Key, m.Value})
}

// UnmarshalJSON reads an [f, k, v] triple, refusing anything else so the
// node can answer malformed requests with error 12.
func (m *Mop) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || len(raw) != 3 {
		return fmt.Errorf("micro-op %s is not [f, k, v]", b)
	}
	if err := json.Unmarshal(raw[0], &m.F); err != nil || (m.F != "r" && m.F != "w") {
		return fmt.Errorf("micro-op %s: f must be \"r\" or \"w\"", b)
	}
	if err := json.Unmarshal(raw[1], &m.Key); err != nil {
		return fmt.Errorf("micro-op %s: key must be an integer", b)
	}
	m.Value = nil
	if err := json.Unmarshal(raw[2], &m.Value); err != nil {
		return fmt.Errorf("micro-op %s: value must be an integer or null", b)
	}
	if m.F == "w" && m.Value == nil {
		return fmt.Errorf("micro-op %s: a write needs a value", b)
	}
	return nil
}

// Stamp orders committed transactions: by Lamport counter, then node id.
type Stamp struct {
	Time uint64 `json:"t"`
	Node string `json:"n"`
}

// Less reports whether s sorts before o.
func (s Stamp) Less(o Stamp) bool {
	if s.Time != o.Time {
		return s.Time < o.Time
	}
	return s.Node < o.Node
}

// Write is one key's final value in a committed transaction.
type Write struct {
	Key   int64 `json:"k"`
	Value int64 `json:"v"`
}

// Entry is a committed transaction's write set as it travels between
// nodes: Seq numbers the origin node's entries 1, 2, 3, … so peers can
// acknowledge a prefix.
type Entry struct {
	Seq    uint64  `json:"seq"`
	Stamp  Stamp   `json:"ts"`
	Writes []Write `json:"w"`
}

// Replicate carries a run of the origin's entries to one peer.
type Replicate struct {
	Type    string  `json:"type"` // "txn_replicate"
	Origin  string  `json:"origin"`
	Entries []Entry `json:"entries"`
}

// Ack tells the origin the peer has applied all its entries up to Upto.
type Ack struct {
	Type   string `json:"type"` // "txn_replicate_ack"
	Origin string `json:"origin"`
	Upto   uint64 `json:"upto"`
}

// Message types on the wire.
const (
	TypeReplicate = "txn_replicate"
	TypeAck       = "txn_replicate_ack"
)

// Outgoing is a message the caller must send.
type Outgoing struct {
	Dest string
	Body Replicate
}

// Config holds the tunables.
type Config struct {
	// MaxBatch caps the entries per replication message, so one message
	// stays well under the 64 KiB lines some node libraries insist on
	// even after a long partition.
	MaxBatch int
}

// DefaultConfig fits 6b/6c: ~50 bytes an entry, so ≤ 25 KB a message.
var DefaultConfig = Config{MaxBatch: 500}

type cell struct {
	value int64
	stamp Stamp
}

// Store is one node's replica.
type Store struct {
	mu    sync.Mutex
	cfg   Config
	self  string
	peers []string

	clock uint64
	data  map[int64]cell

	nextSeq  uint64            // seq of this node's next entry
	log      []Entry           // own entries not yet acknowledged by every peer
	acked    map[string]uint64 // peer -> own entries it has applied (a prefix)
	received map[string]uint64 // origin -> prefix of its entries applied here
}

// New makes the replica of node self, which replicates to peers (the other
// nodes; self is ignored if present).
func New(self string, nodes []string, cfg Config) *Store {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultConfig.MaxBatch
	}
	s := &Store{cfg: cfg, self: self, data: map[int64]cell{}, nextSeq: 1,
		acked: map[string]uint64{}, received: map[string]uint64{}}
	for _, n := range nodes {
		if n != self {
			s.peers = append(s.peers, n)
		}
	}
	return s
}

// Commit runs a transaction against the local replica and returns it
// completed. It never waits for peers: the transaction is committed when
// Commit returns, and reaches peers through Tick.
func (s *Store) Commit(txn []Mop) []Mop {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock++
	stamp := Stamp{Time: s.clock, Node: s.self}
	// Writes are buffered until the end, so nothing else sees a value
	// that this transaction later overwrites.
	pending := map[int64]int64{}
	var order []int64
	out := make([]Mop, len(txn))
	for i, m := range txn {
		out[i] = m
		switch m.F {
		case "w":
			if _, ok := pending[m.Key]; !ok {
				order = append(order, m.Key)
			}
			pending[m.Key] = *m.Value
		case "r":
			if v, ok := pending[m.Key]; ok {
				out[i].Value = &v
			} else if c, ok := s.data[m.Key]; ok {
				v := c.value
				out[i].Value = &v
			} else {
				out[i].Value = nil
			}
		}
	}
	if len(order) == 0 {
		return out
	}
	e := Entry{Seq: s.nextSeq, Stamp: stamp}
	s.nextSeq++
	for _, k := range order {
		e.Writes = append(e.Writes, Write{Key: k, Value: pending[k]})
	}
	s.apply(e)
	if len(s.peers) > 0 {
		s.log = append(s.log, e)
	}
	return out
}

// apply installs an entry's writes where they are newer than what is there.
func (s *Store) apply(e Entry) {
	for _, w := range e.Writes {
		if c, ok := s.data[w.Key]; !ok || c.stamp.Less(e.Stamp) {
			s.data[w.Key] = cell{value: w.Value, stamp: e.Stamp}
		}
	}
	if e.Stamp.Time > s.clock {
		s.clock = e.Stamp.Time
	}
}

// Tick returns the replication messages due: for each peer, the oldest
// entries it has not acknowledged. Unacknowledged entries are sent again
// on every tick, which is what heals partitions; the caller's tick
// interval bounds the traffic.
func (s *Store) Tick() []Outgoing {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Outgoing
	if len(s.log) == 0 {
		return nil
	}
	first := s.log[0].Seq
	for _, p := range s.peers {
		from := s.acked[p] + 1 // next seq the peer needs
		if from >= s.nextSeq {
			continue
		}
		i := int(from - first)
		end := min(i+s.cfg.MaxBatch, len(s.log))
		entries := append([]Entry(nil), s.log[i:end]...)
		out = append(out, Outgoing{Dest: p, Body: Replicate{Type: TypeReplicate, Origin: s.self, Entries: entries}})
	}
	return out
}

// HandleReplicate applies entries from a peer and returns the
// acknowledgement to send back. Entries may arrive twice or out of order:
// applying is idempotent, and only a gap-free prefix is acknowledged.
func (s *Store) HandleReplicate(r Replicate) Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range r.Entries {
		s.apply(e)
		if e.Seq == s.received[r.Origin]+1 {
			s.received[r.Origin] = e.Seq
		}
	}
	return Ack{Type: TypeAck, Origin: r.Origin, Upto: s.received[r.Origin]}
}

// HandleAck records that peer has applied this node's entries up to
// a.Upto, and forgets entries every peer has.
func (s *Store) HandleAck(peer string, a Ack) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.Origin != s.self || a.Upto <= s.acked[peer] || a.Upto >= s.nextSeq {
		return
	}
	s.acked[peer] = a.Upto
	low := a.Upto
	for _, p := range s.peers {
		low = min(low, s.acked[p])
	}
	drop := 0
	for drop < len(s.log) && s.log[drop].Seq <= low {
		drop++
	}
	s.log = append(s.log[:0], s.log[drop:]...)
}

// Snapshot returns a copy of the replica's current key → value map.
func (s *Store) Snapshot() map[int64]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int64]int64, len(s.data))
	for k, c := range s.data {
		out[k] = c.value
	}
	return out
}

// Pending is how many of this node's entries some peer still lacks.
func (s *Store) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.log)
}
