// Package gossip disseminates broadcast values to every node of a cluster,
// as a plain state machine: the caller feeds it events (a client's value, a
// peer's message, the passing of time) and sends the messages it returns.
// It does no I/O and starts no goroutines; time is whatever the caller says.
//
// The shape is a star: the first node of the cluster is the hub, every
// other node a leaf. A leaf sends its new values to the hub; the hub
// forwards everything to every leaf once per FlushInterval. Any value
// reaches every node in two network hops plus one wait for the hub's
// flush, and the number of messages is governed by the flush rate rather
// than by the number of values. Each directed link carries a numbered
// stream of values with cumulative, piggybacked acknowledgements; values a
// peer has not acknowledged are sent again after RetransmitTimeout, which
// keeps every acknowledged value flowing to every node across partitions.
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

// Hold tells a leaf how long its batch starting at Seq waited at the hub
// before the hub forwarded it, so the leaf can shift its schedule.
type Hold struct {
	Seq    int   `json:"seq"`
	Micros int64 `json:"us"`
}

// Outbound is a message the caller must send.
type Outbound struct {
	To   string
	Body Message
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
// caller serialises events.
type Gossip struct {
	cfg     Config
	self    string
	hub     string
	forward []string // where newly learned values go: hub → every leaf; leaf → the hub
	links   map[string]*link

	seen   map[Value]bool
	values []Value

	nextFlush  time.Time // hub: next forwarding round
	nextSend   time.Time // aligned leaf: next batch to the hub
	lastAdjust time.Time // aligned leaf: when the schedule last moved
	aligned    bool      // aligned leaf: nextSend follows the hub's phase

	stats Stats
}

// link is the state of one peer: our stream to it and its stream to us.
type link struct {
	peer string

	// Outgoing stream. pending holds positions [acked, acked+len(pending)).
	acked    int
	pending  []Value
	sent     int          // positions below have been transmitted at least once
	inflight []sendRecord // transmissions not yet fully acknowledged, oldest first
	probing  bool         // peer missed a retransmit timeout: probe only

	// Incoming stream.
	recvNext     int    // everything below has been received
	above        []span // received spans beyond recvNext, sorted, disjoint
	ackOwedSince time.Time
	ackNow       bool // a retransmission came in: the peer lost our ack

	// Hub side of alignment: the leaf's latest batch awaiting a flush, and
	// the feedback to give it.
	batchSeq     int
	batchArrived time.Time
	batchWaiting bool
	hold         *Hold

	// Leaf side of alignment: when each recent batch was sent.
	batchSent map[int]time.Time
}

type sendRecord struct {
	end int
	at  time.Time
}

type span struct{ lo, hi int }

// New makes the state of node self in a cluster of nodes (self included;
// every node must be given the same list in the same order, as Maelstrom's
// init does). now starts the clocks.
func New(self string, nodes []string, cfg Config, now time.Time) *Gossip {
	g := &Gossip{
		cfg:   cfg,
		self:  self,
		links: map[string]*link{},
		seen:  map[Value]bool{},
	}
	if len(nodes) > 0 {
		g.hub = nodes[0]
	} else {
		g.hub = self
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
	g.nextSend = now.Add(cfg.FlushInterval)
	return g
}

func (g *Gossip) isHub() bool { return g.self == g.hub }

func (g *Gossip) linkTo(peer string) *link {
	l, ok := g.links[peer]
	if !ok {
		l = &link{peer: peer, batchSent: map[int]time.Time{}}
		g.links[peer] = l
	}
	return l
}

// Values returns every value this node knows, in the order it learned
// them. The caller must not modify the slice.
func (g *Gossip) Values() []Value { return g.values }

// Has reports whether the node knows v.
func (g *Gossip) Has(v Value) bool { return g.seen[v] }

// Stats returns the counters so far.
func (g *Gossip) Stats() Stats { return g.stats }

// Hub is the node every value passes through.
func (g *Gossip) Hub() string { return g.hub }

// Broadcast records a value a client gave this node and returns what to
// send now (usually nothing: values go out on Tick).
func (g *Gossip) Broadcast(v Value, now time.Time) []Outbound {
	var out []Outbound
	g.learn(v, "", now, &out)
	return out
}

// Receive handles a gossip message from peer and returns what to send now.
func (g *Gossip) Receive(from string, m Message, now time.Time) []Outbound {
	if from == g.self {
		return nil
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
		lo, hi := m.Seq, m.Seq+len(m.Values)
		if hi <= l.recvNext {
			// All of it came before: the peer is retransmitting because
			// our ack got lost. Answer at once so it stops.
			l.ackNow = true
		} else {
			l.markReceived(lo, hi)
			if l.ackOwedSince.IsZero() {
				l.ackOwedSince = now
			}
			if g.isHub() && g.cfg.AlignLeaves && !m.Probe {
				l.batchSeq, l.batchArrived, l.batchWaiting = lo, now, true
			}
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
	case l.ackNow:
		out = append(out, g.bareAck(l))
	}
	return out
}

// flushDue reports whether the hub's next flush has anything to send.
func (g *Gossip) flushDue() bool {
	for _, p := range g.forward {
		if l := g.links[p]; !l.probing && l.sent < l.next() {
			return true
		}
	}
	return false
}

func (g *Gossip) alignedLeaf() bool { return !g.isHub() && g.cfg.AlignLeaves && g.aligned }

// sendDue reports whether an aligned leaf's next slot has anything to send.
func (g *Gossip) sendDue() bool {
	l := g.links[g.hub]
	return l != nil && !l.probing && l.sent < l.next()
}

// NextDeadline is the earliest time at which Tick would do something, or
// the zero time if nothing is scheduled until the next Broadcast or
// Receive. A caller that sleeps until then (and re-asks after every
// event) is as punctual as one that ticks every millisecond, and idle
// nodes cost nothing.
func (g *Gossip) NextDeadline(now time.Time) time.Time {
	var d time.Time
	consider := func(t time.Time) {
		if d.IsZero() || t.Before(d) {
			d = t
		}
	}
	if g.isHub() && g.flushDue() {
		consider(g.nextFlush)
	}
	if g.alignedLeaf() && g.sendDue() {
		consider(g.nextSend)
	}
	for _, l := range g.links {
		if len(l.inflight) > 0 {
			consider(l.inflight[0].at.Add(g.cfg.RetransmitTimeout))
		}
		if l.ackNow {
			consider(now)
		}
		if !l.ackOwedSince.IsZero() {
			consider(l.ackOwedSince.Add(g.cfg.AckDelay))
		}
	}
	return d
}

// Tick lets time pass: flushes, aligned sends, retransmissions and bare
// acks that are due. Call it at NextDeadline, or simply every few
// milliseconds; the protocol is only as punctual as its ticks.
func (g *Gossip) Tick(now time.Time) []Outbound {
	var out []Outbound
	if g.isHub() && !now.Before(g.nextFlush) {
		for _, p := range g.forward {
			l := g.links[p]
			if l.batchWaiting {
				l.hold = &Hold{Seq: l.batchSeq, Micros: now.Sub(l.batchArrived).Microseconds()}
				l.batchWaiting = false
			}
			if !l.probing && l.sent < l.next() {
				out = append(out, g.transmit(l, now))
			}
		}
		g.nextFlush = advance(g.nextFlush, g.cfg.FlushInterval, now)
	}
	if g.alignedLeaf() && !now.Before(g.nextSend) {
		if l := g.links[g.hub]; l != nil && !l.probing && l.sent < l.next() {
			l.batchSent[l.sent] = now
			out = append(out, g.transmit(l, now))
		}
		g.nextSend = advance(g.nextSend, g.cfg.FlushInterval, now)
	}
	for _, p := range g.peerOrder() {
		l := g.links[p]
		if len(l.inflight) > 0 && now.Sub(l.inflight[0].at) >= g.cfg.RetransmitTimeout {
			out = append(out, g.retransmit(l, now))
			continue
		}
		if l.ackNow || (!l.ackOwedSince.IsZero() && now.Sub(l.ackOwedSince) >= g.cfg.AckDelay) {
			out = append(out, g.bareAck(l))
		}
	}
	return out
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

func (g *Gossip) peerOrder() []string {
	peers := make([]string, 0, len(g.links))
	for p := range g.links {
		peers = append(peers, p)
	}
	sort.Strings(peers)
	return peers
}

// learn stores a new value and queues it for every forward peer except the
// one it came from (src is "" for a client's value).
func (g *Gossip) learn(v Value, src string, now time.Time, out *[]Outbound) {
	if g.seen[v] {
		return
	}
	g.seen[v] = true
	g.values = append(g.values, v)
	// An idle schedule is not ticked (NextDeadline leaves it out), so it
	// may lie in the past; put it back on its grid before it matters, or
	// this value would go out at once, off the rhythm aligned leaves
	// have learned.
	if g.isHub() && !g.flushDue() {
		g.nextFlush = regrid(g.nextFlush, g.cfg.FlushInterval, now)
	}
	if g.alignedLeaf() && !g.sendDue() {
		g.nextSend = regrid(g.nextSend, g.cfg.FlushInterval, now)
	}
	for _, p := range g.forward {
		if p == src {
			continue
		}
		l := g.links[p]
		l.pending = append(l.pending, v)
		// An unaligned leaf sends at once; the hub and aligned leaves wait
		// for their schedule, and unreachable peers for their probe. A
		// leaf that should align but has not heard the hub's timing yet
		// also sends at once: the value then waits at the hub instead,
		// which costs the same latency, and the hub's feedback gives the
		// leaf its phase.
		if !g.isHub() && !l.probing && (!g.cfg.AlignLeaves || !g.aligned) {
			if g.cfg.AlignLeaves {
				l.batchSent[l.sent] = now
			}
			*out = append(*out, g.transmit(l, now))
		}
	}
}

func (l *link) next() int { return l.acked + len(l.pending) }

// transmit sends the values the peer has never been sent.
func (g *Gossip) transmit(l *link, now time.Time) Outbound {
	from := l.sent - l.acked
	to := min(len(l.pending), from+g.cfg.MaxBatch)
	m := g.message(l, l.sent, l.pending[from:to])
	l.sent = l.acked + to
	l.inflight = append(l.inflight, sendRecord{end: l.sent, at: now})
	g.stats.DataMessages++
	g.stats.ValuesSent += to - from
	return Outbound{To: l.peer, Body: m}
}

// retransmit resends the oldest unacknowledged values and marks the peer
// as unreachable until it acknowledges something.
func (g *Gossip) retransmit(l *link, now time.Time) Outbound {
	to := min(len(l.pending), g.cfg.MaxBatch)
	m := g.message(l, l.acked, l.pending[:to])
	m.Probe = true
	l.sent = max(l.sent, l.acked+to)
	l.inflight = []sendRecord{{end: l.sent, at: now}}
	l.probing = true
	g.stats.Retransmissions++
	g.stats.ValuesSent += to
	return Outbound{To: l.peer, Body: m}
}

func (g *Gossip) bareAck(l *link) Outbound {
	g.stats.BareAcks++
	return Outbound{To: l.peer, Body: g.message(l, l.sent, nil)}
}

// message builds a message to l's peer, piggybacking our ack and any
// timing feedback.
func (g *Gossip) message(l *link, seq int, values []Value) Message {
	m := Message{Type: MessageType, Seq: seq, Ack: l.recvNext, Hold: l.hold}
	if len(values) > 0 {
		m.Values = append([]Value(nil), values...)
	}
	l.hold = nil
	l.ackOwedSince = time.Time{}
	l.ackNow = false
	return m
}

// applyAck drops what the peer now has.
func (g *Gossip) applyAck(l *link, ack int) {
	if ack <= l.acked {
		return
	}
	ack = min(ack, l.next()) // a peer cannot have more than we streamed
	l.pending = l.pending[ack-l.acked:]
	if len(l.pending) == 0 {
		l.pending = nil // let the backing array go
	}
	l.acked = ack
	l.sent = max(l.sent, ack)
	i := 0
	for i < len(l.inflight) && l.inflight[i].end <= ack {
		i++
	}
	l.inflight = l.inflight[i:]
	l.probing = false
	for seq := range l.batchSent {
		if seq < ack {
			delete(l.batchSent, seq)
		}
	}
}

// markReceived records positions [lo, hi) of the peer's stream.
func (l *link) markReceived(lo, hi int) {
	if lo <= l.recvNext {
		l.recvNext = max(l.recvNext, hi)
	} else {
		l.above = append(l.above, span{lo, hi})
		sort.Slice(l.above, func(i, j int) bool { return l.above[i].lo < l.above[j].lo })
	}
	// Absorb spans that now touch the contiguous prefix.
	i := 0
	for i < len(l.above) && l.above[i].lo <= l.recvNext {
		l.recvNext = max(l.recvNext, l.above[i].hi)
		i++
	}
	l.above = l.above[i:]
}

// adjustSchedule shifts an aligned leaf's send schedule so its batches
// reach the hub AlignMargin before the hub's flush.
func (g *Gossip) adjustSchedule(l *link, h Hold, now time.Time) {
	if g.isHub() || !g.cfg.AlignLeaves || l.peer != g.hub {
		return
	}
	sentAt, ok := l.batchSent[h.Seq]
	if !ok || !sentAt.After(g.lastAdjust) {
		// Sent under the previous schedule: its timing says nothing new.
		return
	}
	// Had the batch left (held − margin) later, it would have arrived
	// margin before the flush; the hub flushes every FlushInterval, so
	// that instant plus whole intervals is the schedule. A batch that just
	// missed a flush waited almost a whole interval: leaving a little
	// earlier is the same fix as leaving much later.
	period := g.cfg.FlushInterval
	shift := (time.Duration(h.Micros)*time.Microsecond - g.cfg.AlignMargin) % period
	if shift > period/2 {
		shift -= period
	} else if shift <= -period/2 {
		shift += period
	}
	// Delivery times jitter, and a batch that lands just after the flush
	// costs a whole interval, so move earlier at once but later only half
	// way: one lucky fast delivery must not pull the schedule to the edge.
	if g.aligned && shift > 0 {
		shift /= 2
	}
	g.nextSend = advance(sentAt.Add(shift), period, now)
	g.lastAdjust = now
	g.aligned = true
}
