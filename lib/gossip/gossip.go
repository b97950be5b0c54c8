// Package gossip disseminates broadcast values to every node of a cluster,
// as a plain state machine in the manner of etcd's raft: the caller feeds
// it one event at a time (a client's value, a peer's message, the passing
// of time) and each step returns a Ready with the messages to send and the
// time of the next Tick. It does no I/O, takes no locks and starts no
// goroutines; time is whatever the caller says.
//
// The shape is a star: the first node of the cluster is the hub, every
// other node a leaf. A leaf sends its new values to the hub; the hub
// forwards everything to every leaf once per FlushInterval (hub.go), so any
// value reaches every node in two network hops plus one wait for the hub's
// flush, and the number of messages follows the flush rate rather than the
// number of values. Each directed link carries a numbered stream of values
// with cumulative, piggybacked acknowledgements and retransmission
// (link.go), which keeps every value flowing to every node across
// partitions. Leaves may batch their values to arrive just before the
// hub's flush (align.go). A value is readable on a node from the step that
// stores it.
package gossip

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"time"
)

// MessageType is the "type" of every message this package produces.
const MessageType = "gossip"

// Value is one broadcast value: any JSON, kept as its compact text so that
// equal values compare equal and are stored once.
type Value string

// IntValue is the Value of an integer.
func IntValue(i int64) Value { return Value(strconv.FormatInt(i, 10)) }

// MarshalJSON writes the value's JSON text as is.
func (v Value) MarshalJSON() ([]byte, error) {
	if v == "" {
		return []byte("null"), nil
	}
	return []byte(v), nil
}

// UnmarshalJSON keeps the compact form of any JSON value.
func (v *Value) UnmarshalJSON(b []byte) error {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return err
	}
	*v = Value(buf.String())
	return nil
}

// Message is the body of a node-to-node gossip message. Positions count
// values on the directed link from the message's sender to its receiver.
type Message struct {
	Type string `json:"type"`
	// Seq is the link position of Values[0].
	Seq int `json:"seq"`
	// Values are link positions Seq, Seq+1, …; empty for a bare ack.
	Values []Value `json:"values,omitempty"`
	// Ack says the sender has received every value the receiver streamed
	// to it below this position.
	Ack int `json:"ack"`
	// Hold is the hub's timing feedback to an aligned leaf.
	Hold *Hold `json:"hold,omitempty"`
	// Probe asks for an ack at once: the sender has not heard from the
	// receiver for a RetransmitTimeout and treats it as unreachable until
	// it answers.
	Probe bool `json:"probe,omitempty"`
}

// Outbound is a message the caller must send.
type Outbound struct {
	To   string
	Body Message
}

// Ready is everything one step asks of the caller: send Messages, and call
// Tick at NextTick (the zero time: nothing is scheduled until the next
// Broadcast or Receive). A caller that sleeps until NextTick is as punctual
// as one that ticks every millisecond, and an idle node costs nothing.
type Ready struct {
	Messages []Outbound
	NextTick time.Time
}

// Stats counts what the protocol cost, for logs and tuning.
type Stats struct {
	DataMessages       int // first transmissions carrying values
	Retransmissions    int // messages resending unacknowledged values
	BareAcks           int // messages carrying only an acknowledgement
	ValuesSent         int // values in all messages
	DuplicatesReceived int // received values already known
}

// Gossip is one node's state. It is not safe for concurrent use; the
// caller serialises steps.
type Gossip struct {
	cfg     Config
	self    string
	hub     string
	forward []string // where newly learned values go: hub → every leaf; leaf → the hub
	links   map[string]*link

	seen   map[Value]bool
	values []Value // what reads return, in the order this node learned them

	nextFlush time.Time // hub: next forwarding round (hub.go)
	align     alignment // leaf: the aligned send schedule (align.go)

	stats Stats
}

// New makes the state of node self in a cluster of nodes (self included;
// every node must be given the same list in the same order, as Maelstrom's
// init does). now starts the clocks.
func New(self string, nodes []string, cfg Config, now time.Time) (*Gossip, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &Gossip{
		cfg:   cfg,
		self:  self,
		hub:   self,
		links: map[string]*link{},
		seen:  map[Value]bool{},
	}
	if len(nodes) > 0 {
		g.hub = nodes[0]
	}
	for _, n := range nodes {
		if n == self {
			continue
		}
		g.linkTo(n)
		if g.isHub() {
			g.forward = append(g.forward, n)
		}
	}
	if !g.isHub() {
		g.forward = []string{g.hub}
	}
	g.nextFlush = now.Add(cfg.FlushInterval)
	g.align.nextSend = now.Add(cfg.FlushInterval)
	return g, nil
}

func (g *Gossip) isHub() bool { return g.self == g.hub }

func (g *Gossip) linkTo(peer string) *link {
	l, ok := g.links[peer]
	if !ok {
		l = &link{peer: peer}
		g.links[peer] = l
	}
	return l
}

// Values returns every value this node holds, in the order it learned
// them: what a read returns. The caller must not modify the slice.
func (g *Gossip) Values() []Value { return g.values }

// Has reports whether the node holds v.
func (g *Gossip) Has(v Value) bool { return g.seen[v] }

// Stats returns the counters so far.
func (g *Gossip) Stats() Stats { return g.stats }

// Hub is the node every value passes through.
func (g *Gossip) Hub() string { return g.hub }

// Broadcast stores a value a client gave this node. The value is readable
// (Values) when Broadcast returns, so the caller may acknowledge the client
// in the same step.
func (g *Gossip) Broadcast(v Value, now time.Time) Ready {
	var out []Outbound
	g.learn(v, "", now, &out)
	return g.ready(out, now)
}

// Receive handles a gossip message from a peer.
func (g *Gossip) Receive(from string, m Message, now time.Time) Ready {
	if from == g.self {
		return g.ready(nil, now)
	}
	l := g.linkTo(from)
	var out []Outbound

	// Feedback first: the ack below forgets the send times it refers to.
	if m.Hold != nil {
		g.adjustSchedule(l, *m.Hold, now)
	}
	wasProbing := l.probing
	g.applyAck(l, m.Ack)
	if m.Probe {
		l.ackNow = true
	}
	if len(m.Values) > 0 && m.Seq >= 0 {
		if l.receive(m.Seq, len(m.Values), now) && g.isHub() && g.cfg.AlignLeaves && !m.Probe {
			g.noteBatch(l, m.Seq, now)
		}
		for _, v := range m.Values {
			if g.seen[v] {
				g.stats.DuplicatesReceived++
				continue
			}
			g.learn(v, from, now, &out)
		}
	}
	switch {
	case wasProbing && l.probing:
		// The peer reached us, so the partition is over (Maelstrom's
		// partitions are symmetric): send it everything it lacks now
		// rather than at the next probe. The probe carries our ack.
		out = append(out, g.retransmit(l, now))
	case from == g.hub && g.unsentDue():
		// The hub acknowledged our probe: values learned while it was
		// unreachable go out now (carrying our ack, if one is owed).
		out = append(out, g.sendUnsent(now)...)
	case l.ackNow:
		out = append(out, g.bareAck(l))
	}
	return g.ready(out, now)
}

// Tick lets time pass: the hub's flush, an aligned leaf's batch,
// retransmissions and bare acks that are due. Call it at Ready.NextTick,
// or simply every few milliseconds; the protocol is only as punctual as
// its ticks.
func (g *Gossip) Tick(now time.Time) Ready {
	var out []Outbound
	out = append(out, g.flush(now)...)
	out = append(out, g.sendAligned(now)...)
	// Receive already sends these; this keeps the invariant whatever
	// event left values unsent on a reachable link.
	out = append(out, g.sendUnsent(now)...)
	out = append(out, g.tickLinks(now)...)
	return g.ready(out, now)
}

// ready ends every step: the messages it produced and when to tick next.
func (g *Gossip) ready(out []Outbound, now time.Time) Ready {
	return Ready{Messages: out, NextTick: g.nextTick(now)}
}

// nextTick is the earliest time at which Tick would do something, or the
// zero time if nothing is scheduled.
func (g *Gossip) nextTick(now time.Time) time.Time {
	var d time.Time
	if g.isHub() && g.flushDue() {
		d = earliest(d, g.nextFlush)
	}
	if g.alignedLeaf() && g.sendDue() {
		d = earliest(d, g.align.nextSend)
	}
	if g.unsentDue() {
		d = earliest(d, now)
	}
	for _, l := range g.links {
		d = earliest(d, l.deadline(g.cfg, now))
	}
	return d
}

// earliest is the earlier of two deadlines, the zero time meaning none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// learn stores a new value and queues it for every forward peer except the
// one it came from (src is "" for a client's value).
func (g *Gossip) learn(v Value, src string, now time.Time, out *[]Outbound) {
	if g.seen[v] {
		return
	}
	g.seen[v] = true
	g.values = append(g.values, v)
	// An idle schedule is not ticked (nextTick leaves it out), so it may
	// lie in the past; put it back on its grid before it matters, or this
	// value would go out at once, off the rhythm aligned leaves have
	// learned.
	if g.isHub() && !g.flushDue() {
		g.nextFlush = regrid(g.nextFlush, g.cfg.FlushInterval, now)
	}
	if g.alignedLeaf() && !g.sendDue() {
		g.align.nextSend = regrid(g.align.nextSend, g.cfg.FlushInterval, now)
	}
	for _, p := range g.forward {
		if p == src {
			continue
		}
		l := g.links[p]
		l.pending = append(l.pending, v)
	}
	// The hub and aligned leaves wait for their schedule, and unreachable
	// peers for their probe; any other leaf sends at once.
	*out = append(*out, g.sendUnsent(now)...)
}

// sendsAtOnce reports whether this node is a leaf without a send schedule:
// it sends each value as it learns it. A leaf that should align but has
// not heard the hub's timing yet is one too: its values then wait at the
// hub instead, which costs the same latency, and the hub's feedback gives
// the leaf its phase.
func (g *Gossip) sendsAtOnce() bool {
	return !g.isHub() && (!g.cfg.AlignLeaves || !g.align.aligned)
}

// unsentDue reports whether a leaf that sends at once holds values it has
// never sent on a link it may send on. Nothing else ever sends them: such a
// leaf has no schedule, and retransmission only covers values sent before.
// Values learned while the hub was unreachable are the case that needs
// it: the probe that covered the backlog may be acknowledged (ending the
// probe, and with it every retransmission timer) before they go out.
func (g *Gossip) unsentDue() bool {
	if !g.sendsAtOnce() {
		return false
	}
	l := g.links[g.hub]
	return l != nil && !l.probing && l.sent < l.next()
}

// sendUnsent sends what unsentDue says is due, MaxBatch per message.
func (g *Gossip) sendUnsent(now time.Time) []Outbound {
	var out []Outbound
	for g.unsentDue() {
		l := g.links[g.hub]
		if g.cfg.AlignLeaves {
			// The hub's feedback on this batch gives the leaf its phase.
			g.noteBatchSent(l, now)
		}
		out = append(out, g.transmit(l, now))
	}
	return out
}

// peerOrder lists the peers sorted, so that a step's messages come out in
// the same order every time.
func (g *Gossip) peerOrder() []string {
	peers := make([]string, 0, len(g.links))
	for p := range g.links {
		peers = append(peers, p)
	}
	sort.Strings(peers)
	return peers
}

// advance moves a periodic deadline past now without bursts of catch-up.
func advance(next time.Time, every time.Duration, now time.Time) time.Time {
	for !next.After(now) {
		next = next.Add(every)
	}
	return next
}

// regrid moves a periodic deadline that lies in the past to its first
// instant at or after now.
func regrid(next time.Time, every time.Duration, now time.Time) time.Time {
	for next.Before(now) {
		next = next.Add(every)
	}
	return next
}
