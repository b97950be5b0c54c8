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
// The Store is a plain state machine, as lib/ types are, with lib/gossip's
// shape: every step (Commit, Tick, HandleReplicate, HandleAck) takes the
// time and returns one Ready with the messages to send and the time of
// the next Tick (zero when nothing is waiting to be replicated, so an idle
// node is not woken). The caller owns the network and the clock, and
// serialises calls: a Store is not safe for concurrent use.
//
// Nothing a peer sends can wrap the clock: stamps above MaxTime are
// refused, and only the cluster's other nodes may replicate, each only its
// own entries.
package txn

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// MaxTime is the largest Lamport time accepted from a peer: far beyond
// what any run reaches (one step per commit), exact in every JSON reader
// (2^53), and leaving room to count on without wrapping the uint64 clock.
const MaxTime = 1 << 53

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

// Outbound is a message the caller must send.
type Outbound struct {
	To   string
	Body any // a Replicate or an Ack
}

// Ready is what a step leaves the caller to do: send Messages, and call
// Tick at NextTick (zero: no Tick is needed until a later step says so).
// A Tick that comes early or late is harmless: flushes keep to their grid.
type Ready struct {
	Messages []Outbound
	NextTick time.Time
}

// Config holds the tunables.
type Config struct {
	// MaxBatch caps the entries per replication message, so one message
	// stays well under the 64 KiB lines some node libraries insist on
	// even after a long partition.
	MaxBatch int
	// FlushEvery is how often new entries go out: one message per peer
	// per flush whatever the commit rate, at the cost of that much
	// visibility lag.
	FlushEvery time.Duration
	// ResendAfter is how long unacknowledged entries wait before they are
	// sent again (on the next flush at or after it); resending is what
	// heals partitions and lost messages.
	ResendAfter time.Duration
}

// DefaultConfig fits 6b/6c: ~50 bytes an entry, so ≤ 25 KB a message;
// a flush every 100 ms keeps replication under 0.05 messages per txn at
// Fly.io's rates; resending on every flush until acknowledged.
var DefaultConfig = Config{MaxBatch: 500, FlushEvery: 100 * time.Millisecond, ResendAfter: 100 * time.Millisecond}

// Validate reports a config that cannot work.
func (c Config) Validate() error {
	if c.MaxBatch <= 0 || c.FlushEvery <= 0 || c.ResendAfter <= 0 {
		return fmt.Errorf("txn: MaxBatch, FlushEvery and ResendAfter must be positive, got %+v", c)
	}
	return nil
}

// Errors a peer's message can cause; the caller logs them (replication
// messages carry no msg_id to answer).
var (
	ErrNotPeer     = errors.New("not one of this node's peers")
	ErrStampTooBig = fmt.Errorf("stamp time above the limit %d", uint64(MaxTime))
)

// ErrClockExhausted is returned by Commit when the clock cannot advance
// without wrapping, which takes more commits than any run makes.
var ErrClockExhausted = errors.New("txn: Lamport clock exhausted")

type cell struct {
	value int64
	stamp Stamp
}

// Store is one node's replica.
type Store struct {
	cfg   Config
	self  string
	peers []string

	clock uint64
	data  map[int64]cell

	nextSeq  uint64            // seq of this node's next entry
	log      []Entry           // own entries not yet acknowledged by every peer
	acked    map[string]uint64 // peer -> own entries it has applied (a prefix)
	received map[string]uint64 // origin -> prefix of its entries applied here

	nextFlush time.Time
	sent      map[string]uint64    // peer -> highest own seq sent to it
	lastSent  map[string]time.Time // peer -> flush that last sent to it
}

// New makes the replica of node self in a cluster of nodes (self
// included, as Maelstrom's init lists them); it replicates to the others.
// now starts the flush schedule.
func New(self string, nodes []string, cfg Config, now time.Time) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !slices.Contains(nodes, self) {
		return nil, fmt.Errorf("txn: node %q is not in the node list %v", self, nodes)
	}
	s := &Store{cfg: cfg, self: self, data: map[int64]cell{}, nextSeq: 1,
		acked: map[string]uint64{}, received: map[string]uint64{},
		nextFlush: now.Add(cfg.FlushEvery), sent: map[string]uint64{}, lastSent: map[string]time.Time{}}
	for _, n := range nodes {
		if n != self && !slices.Contains(s.peers, n) {
			s.peers = append(s.peers, n)
		}
	}
	return s, nil
}

// Commit runs a transaction against the local replica and returns it
// completed. It never waits for peers: the transaction is committed when
// Commit returns, and reaches peers through Tick, which the Ready
// schedules.
func (s *Store) Commit(txn []Mop, now time.Time) ([]Mop, Ready, error) {
	if s.clock == math.MaxUint64 {
		return nil, s.ready(now, nil), ErrClockExhausted
	}
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
		return out, s.ready(now, nil), nil
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
	return out, s.ready(now, nil), nil
}

// ready is a step's Ready: msgs, and the next flush on the grid if some
// peer still lacks entries. A flush the node slept through (nothing was
// pending) is skipped, not made up for at once.
func (s *Store) ready(now time.Time, msgs []Outbound) Ready {
	r := Ready{Messages: msgs}
	if len(s.log) > 0 {
		for s.nextFlush.Before(now) {
			s.nextFlush = s.nextFlush.Add(s.cfg.FlushEvery)
		}
		r.NextTick = s.nextFlush
	}
	return r
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

// Tick returns the replication messages due at now: on each flush (every
// FlushEvery), for each peer that lacks entries, the oldest of them, if
// some were never sent to it or ResendAfter has passed since it was last
// sent anything. Flushes keep to a fixed grid, so a late timer does not
// shift later ones.
func (s *Store) Tick(now time.Time) Ready {
	if now.Before(s.nextFlush) {
		return s.ready(now, nil)
	}
	flush := s.nextFlush
	for !s.nextFlush.After(now) {
		s.nextFlush = s.nextFlush.Add(s.cfg.FlushEvery)
	}
	if len(s.log) == 0 {
		return s.ready(now, nil)
	}
	var out []Outbound
	first := s.log[0].Seq
	for _, p := range s.peers {
		from := s.acked[p] + 1 // next seq the peer needs
		if from >= s.nextSeq {
			continue
		}
		unsent := s.sent[p] < s.nextSeq-1
		if !unsent && flush.Sub(s.lastSent[p]) < s.cfg.ResendAfter {
			continue
		}
		i := int(from - first)
		end := min(i+s.cfg.MaxBatch, len(s.log))
		entries := append([]Entry(nil), s.log[i:end]...)
		s.sent[p] = max(s.sent[p], entries[len(entries)-1].Seq)
		s.lastSent[p] = flush
		out = append(out, Outbound{To: p, Body: Replicate{Type: TypeReplicate, Origin: s.self, Entries: entries}})
	}
	return s.ready(now, out)
}

// HandleReplicate applies entries that peer from sent; its Ready carries
// the acknowledgement to send back. Entries may arrive twice or out of
// order: applying is idempotent, and only a gap-free prefix is
// acknowledged. A message from a stranger, with another node's entries,
// or with a stamp above MaxTime is refused whole: it changes nothing.
func (s *Store) HandleReplicate(from string, r Replicate, now time.Time) (Ready, error) {
	if !slices.Contains(s.peers, from) {
		return s.ready(now, nil), fmt.Errorf("replicate from %q: %w", from, ErrNotPeer)
	}
	if r.Origin != from {
		return s.ready(now, nil), fmt.Errorf("replicate from %q: carries entries of %q, a node replicates only its own", from, r.Origin)
	}
	for _, e := range r.Entries {
		if e.Stamp.Time > MaxTime {
			return s.ready(now, nil), fmt.Errorf("replicate from %q: entry %d: %w (got %d)", from, e.Seq, ErrStampTooBig, e.Stamp.Time)
		}
	}
	for _, e := range r.Entries {
		s.apply(e)
		if e.Seq == s.received[r.Origin]+1 {
			s.received[r.Origin] = e.Seq
		}
	}
	ack := Ack{Type: TypeAck, Origin: r.Origin, Upto: s.received[r.Origin]}
	return s.ready(now, []Outbound{{To: from, Body: ack}}), nil
}

// HandleAck records that peer from has applied this node's entries up to
// a.Upto, and forgets entries every peer has. Acks from strangers, for
// other nodes' entries or for entries not yet made are ignored. Once
// every peer has everything, the Ready schedules no more ticks.
func (s *Store) HandleAck(from string, a Ack, now time.Time) Ready {
	if !slices.Contains(s.peers, from) || a.Origin != s.self || a.Upto <= s.acked[from] || a.Upto >= s.nextSeq {
		return s.ready(now, nil)
	}
	s.acked[from] = a.Upto
	low := a.Upto
	for _, p := range s.peers {
		low = min(low, s.acked[p])
	}
	drop := 0
	for drop < len(s.log) && s.log[drop].Seq <= low {
		drop++
	}
	s.log = append(s.log[:0], s.log[drop:]...)
	return s.ready(now, nil)
}

// Snapshot returns a copy of the replica's current key → value map.
func (s *Store) Snapshot() map[int64]int64 {
	out := make(map[int64]int64, len(s.data))
	for k, c := range s.data {
		out[k] = c.value
	}
	return out
}

// Pending is how many of this node's entries some peer still lacks.
func (s *Store) Pending() int {
	return len(s.log)
}
