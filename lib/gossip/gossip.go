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
//
// With AckAfterFanout, a client's value handed in with Submit comes back
// as a ticket from Acks only once it has been forwarded to every
// reachable node (or after AckWaitCap): the hub tells each leaf, in its
// flushes, how much of the leaf's stream it has forwarded to everyone.
package gossip

import (
	"bytes"
	"encoding/json"
	"slices"
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
	// Fanout, from the hub (with AckAfterFanout), says every value the
	// receiver streamed to the hub below this position has gone out in a
	// flush to every node the hub could reach.
	Fanout int `json:"fanout,omitempty"`
	// AckNow asks for an ack at once. The hub sets it on one leaf's copy
	// of a flush that carries values its own clients are waiting on: that
	// ack proves the flush, sent to every leaf at once, has arrived.
	AckNow bool `json:"ack_now,omitempty"`
}

// Ticket names a client request waiting for its broadcast value to be
// acknowledged; the caller picks it and maps it back to the request.
type Ticket uint64

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
	AcksFannedOut      int // tickets released because their value was forwarded everywhere
	AcksCapped         int // tickets released by AckWaitCap
	AcksSent           int // tickets released because their value left on schedule (AckOnSend)
	FanoutOnly         int // hub messages carrying only a fanout watermark
}

// Gossip is one node's state. It is not safe for concurrent use; the
// caller serialises events.
type Gossip struct {
	cfg     Config
	self    string
	hub     string
	forward []string // where newly learned values go: hub → every leaf; leaf → the hub
	links   map[string]*link

	seen    map[Value]bool
	values  []Value // visible: what reads return, in the order it became visible
	learned int     // values known (len(seen)); the hub's marks count these

	// hidden are known values not yet visible (AckAfterFanout), in
	// learn order: a leaf's own values until the hub reports them fanned
	// out, and every value at the hub until its flush has reached the
	// leaves. A value shows everywhere at about the same moment, so a
	// read anywhere that has it means every node has it.
	hidden []hiddenValue
	// capCommitted: marks below it are visible because a ticket at or
	// above them was released by AckWaitCap.
	capCommitted int

	nextFlush  time.Time // hub: next forwarding round
	nextSend   time.Time // aligned leaf: next batch to the hub
	lastAdjust time.Time // aligned leaf: when the schedule last moved
	aligned    bool      // aligned leaf: nextSend follows the hub's phase

	// Held client tickets (AckAfterFanout), oldest first, and those
	// released but not yet taken by Acks.
	held  []heldTicket
	ready []Ticket
	// hubFanned (hub only): values[:hubFanned] are known to have gone out
	// to every reachable leaf, because a leaf acknowledged a complete
	// flush that carried them.
	hubFanned int
	// Hub only: one-way latency estimate (half the least round trip of
	// recent AckNow exchanges) and the flushes waiting for it to pass.
	rtts    []time.Duration
	commits []timedCommit
	lastAsk time.Time

	stats Stats
}

// hiddenValue becomes visible when the fanout watermark reaches mark
// (see heldTicket), or at deadline, AckWaitCap after it was learned.
type hiddenValue struct {
	v        Value
	mark     int
	deadline time.Time
}

// timedCommit: values[:upTo] of the hub's count reach the leaves at.
type timedCommit struct {
	at   time.Time
	upTo int
}

// rttSamples is how many recent AckNow round trips the hub keeps, and
// rttRefresh how often it asks for one once it has an estimate: each ask
// costs the leaf's answer, one message.
const (
	rttSamples = 16
	rttRefresh = time.Second
)

// heldTicket waits until the fanout watermark reaches mark: on a leaf a
// position of its stream to the hub, on the hub an index into values.
type heldTicket struct {
	ticket   Ticket
	mark     int
	deadline time.Time
	// early (AckSendWait): released at this time even if not yet sent.
	early time.Time
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

	// Fanout watermarks of the peer's stream to the hub (AckAfterFanout).
	// Hub side: positions below fanout went out in a complete flush;
	// fanoutTold is the most the leaf has been told. Leaf side (on the
	// link to the hub): fanoutSeen is the most the hub has told us.
	fanout     int
	fanoutTold int
	fanoutSeen int
}

type sendRecord struct {
	end int
	at  time.Time
	// fanned (hub) is the count of known values when this transmission
	// was part of a complete flush: once the leaf acknowledges it, every
	// value the hub knew then has reached at least one node of that flush,
	// which left for every reachable leaf at the same moment.
	fanned int
	// asked: the transmission carried AckNow, so its ack times a round
	// trip.
	asked bool
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

// Submit is Broadcast for a client waiting for its acknowledgement: t
// comes back from Acks once the client may be told broadcast_ok. Without
// AckAfterFanout that is at once; with it, once v has been forwarded to
// every reachable node, or after AckWaitCap at the latest. A value the
// node already knew waits for everything this node has learned so far,
// which is never less than it needs.
func (g *Gossip) Submit(v Value, t Ticket, now time.Time) []Outbound {
	out := g.Broadcast(v, now)
	if !g.cfg.AckAfterFanout || len(g.links) == 0 {
		g.ready = append(g.ready, t)
		return out
	}
	mark := g.learned
	if !g.isHub() {
		mark = g.links[g.hub].next()
	}
	h := heldTicket{ticket: t, mark: mark, deadline: now.Add(g.cfg.AckWaitCap)}
	if g.cfg.AckOnSend && g.cfg.AckSendWait > 0 && (g.isHub() || g.alignedLeaf()) {
		h.early = now.Add(g.cfg.AckSendWait)
	}
	g.held = append(g.held, h)
	g.release(now)
	return out
}

// Acks returns the tickets released since the last call, in release
// order, and forgets them. Call it after every Submit, Receive and Tick.
func (g *Gossip) Acks() []Ticket {
	r := g.ready
	g.ready = nil
	return r
}

// Held is the number of tickets waiting for their value's fanout.
func (g *Gossip) Held() int { return len(g.held) }

// oneWay is the hub's estimate of the one-way latency to its leaves: half
// the least recent AckNow round trip (the least, because a leaf that was
// busy answers late; half, because Maelstrom's latency is symmetric).
func (g *Gossip) oneWay() (time.Duration, bool) {
	if len(g.rtts) == 0 {
		return 0, false
	}
	return slices.Min(g.rtts) / 2, true
}

// fannedOut is the fanout watermark held tickets are compared with.
func (g *Gossip) fannedOut() int {
	if g.isHub() {
		return g.hubFanned
	}
	return g.links[g.hub].fanoutSeen
}

// release applies the fanout watermark: held tickets whose value has fanned
// out, or whose cap has passed, move to ready, and hidden values whose
// value has fanned out, or who waited AckWaitCap, become visible.
func (g *Gossip) release(now time.Time) {
	for len(g.commits) > 0 && !now.Before(g.commits[0].at) {
		g.hubFanned = max(g.hubFanned, g.commits[0].upTo)
		g.commits = g.commits[1:]
	}
	if len(g.commits) == 0 {
		g.commits = nil
	}
	fanned := g.fannedOut()
	kept := g.held[:0]
	for _, h := range g.held {
		switch {
		case h.mark <= fanned:
			g.stats.AcksFannedOut++
			g.ready = append(g.ready, h.ticket)
		case !h.early.IsZero() && !now.Before(h.early):
			// Stored and queued for its slot; stays hidden until fanout.
			g.stats.AcksSent++
			g.ready = append(g.ready, h.ticket)
		case !now.Before(h.deadline):
			// Acknowledged, so from now on visible here (a client that
			// reads after its broadcast_ok sees its value).
			g.stats.AcksCapped++
			g.ready = append(g.ready, h.ticket)
			g.capCommitted = max(g.capCommitted, h.mark)
		default:
			kept = append(kept, h)
		}
	}
	clear(g.held[len(kept):])
	g.held = kept
	visible := max(fanned, g.capCommitted)
	i := 0
	for i < len(g.hidden) && (g.hidden[i].mark <= visible || !now.Before(g.hidden[i].deadline)) {
		g.values = append(g.values, g.hidden[i].v)
		i++
	}
	if i > 0 {
		clear(g.hidden[:i])
		g.hidden = g.hidden[i:]
		if len(g.hidden) == 0 {
			g.hidden = nil // let the backing array go
		}
	}
}

// releaseSent (AckOnSend) releases held tickets whose value has left on
// schedule: mark ≤ sent. Their values stay hidden until fanout.
func (g *Gossip) releaseSent(sent int) {
	kept := g.held[:0]
	for _, h := range g.held {
		if h.mark <= sent {
			g.stats.AcksSent++
			g.ready = append(g.ready, h.ticket)
			continue
		}
		kept = append(kept, h)
	}
	clear(g.held[len(kept):])
	g.held = kept
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
	g.applyAck(l, m.Ack, now)
	if m.Probe || m.AckNow {
		l.ackNow = true
	}
	if m.Fanout > 0 && from == g.hub {
		l.fanoutSeen = max(l.fanoutSeen, min(m.Fanout, l.next()))
	}
	if g.isHub() && !g.flushDue() {
		// Even a message that teaches us nothing new may owe its sender a
		// fanout watermark; keep an idle flush schedule on its grid.
		g.nextFlush = regrid(g.nextFlush, g.cfg.FlushInterval, now)
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
	case from == g.hub && g.unsentDue():
		// The hub acknowledged our probe: values learned while it was
		// unreachable go out now (carrying our ack, if one is owed).
		out = append(out, g.sendUnsent(now)...)
	case l.ackNow:
		out = append(out, g.bareAck(l))
	}
	g.release(now)
	return out
}

// flushDue reports whether the hub's next flush has anything to send:
// values, or (AckAfterFanout) a fanout watermark a leaf has not heard.
func (g *Gossip) flushDue() bool {
	for _, p := range g.forward {
		l := g.links[p]
		if l.probing {
			continue
		}
		if l.sent < l.next() || (g.cfg.AckAfterFanout && l.recvNext > l.fanoutTold) {
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
	if g.unsentDue() {
		consider(now)
	}
	for _, h := range g.held {
		consider(h.deadline)
		if !h.early.IsZero() {
			consider(h.early)
		}
	}
	if len(g.hidden) > 0 {
		consider(g.hidden[0].deadline)
	}
	if len(g.commits) > 0 {
		consider(g.commits[0].at)
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
		// A flush is complete if it leaves every reachable leaf with
		// everything the hub knows. Then every value received so far from
		// a leaf has fanned out, and the flush tells each leaf so.
		complete := g.cfg.AckAfterFanout
		for _, p := range g.forward {
			if l := g.links[p]; !l.probing && l.next()-l.sent > g.cfg.MaxBatch {
				complete = false
			}
		}
		fanned := 0
		if complete {
			fanned = g.learned
		}
		// One leaf's copy asks for an ack at once: it proves the flush
		// arrived and times the round trip for the one-way estimate. Until
		// there is an estimate that ack is what shows the hub's values, so
		// every flush asks; then one a second keeps the estimate fresh.
		ask := complete && fanned > g.hubFanned && (len(g.rtts) == 0 || now.Sub(g.lastAsk) >= rttRefresh)
		if d, ok := g.oneWay(); ok && complete {
			g.commits = append(g.commits, timedCommit{at: now.Add(d), upTo: fanned})
		}
		if g.cfg.AckOnSend && complete {
			g.releaseSent(fanned)
		}
		for _, p := range g.forward {
			l := g.links[p]
			if l.batchWaiting {
				l.hold = &Hold{Seq: l.batchSeq, Micros: now.Sub(l.batchArrived).Microseconds()}
				l.batchWaiting = false
			}
			if l.probing {
				continue
			}
			if complete {
				l.fanout = l.recvNext
			}
			switch {
			case l.sent < l.next():
				o := g.transmit(l, now)
				l.inflight[len(l.inflight)-1].fanned = fanned
				if ask {
					o.Body.AckNow = true
					l.inflight[len(l.inflight)-1].asked = true
					ask, g.lastAsk = false, now
				}
				out = append(out, o)
			case l.fanout > l.fanoutTold:
				// Nothing new for this leaf, but its own values have
				// fanned out: it holds clients waiting for that.
				out = append(out, g.fanoutOnly(l))
			}
		}
		g.nextFlush = advance(g.nextFlush, g.cfg.FlushInterval, now)
	}
	if g.alignedLeaf() && !now.Before(g.nextSend) {
		if l := g.links[g.hub]; l != nil && !l.probing && l.sent < l.next() {
			l.batchSent[l.sent] = now
			out = append(out, g.transmit(l, now))
			if g.cfg.AckOnSend {
				g.releaseSent(l.sent)
			}
		}
		g.nextSend = advance(g.nextSend, g.cfg.FlushInterval, now)
	}
	// Receive already sends these; this keeps the invariant whatever
	// event left values unsent on a reachable link.
	out = append(out, g.sendUnsent(now)...)
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
	g.release(now)
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
	g.learned++
	switch {
	case !g.cfg.AckAfterFanout || len(g.links) == 0:
		g.values = append(g.values, v)
	case g.isHub():
		g.hidden = append(g.hidden, hiddenValue{v: v, mark: g.learned, deadline: now.Add(g.cfg.AckWaitCap)})
	case src == "":
		// Our own: its position in the stream to the hub, appended below.
		g.hidden = append(g.hidden, hiddenValue{v: v, mark: g.links[g.hub].next() + 1, deadline: now.Add(g.cfg.AckWaitCap)})
	default:
		// From the hub's flush, which every leaf receives at once.
		g.values = append(g.values, v)
	}
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
	return !g.isHub() && (!g.cfg.AlignLeaves || !g.aligned)
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
			l.batchSent[l.sent] = now
		}
		out = append(out, g.transmit(l, now))
	}
	return out
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

// fanoutOnly is the hub's flush message to a leaf that has nothing new to
// receive but a fanout watermark.
func (g *Gossip) fanoutOnly(l *link) Outbound {
	g.stats.FanoutOnly++
	return Outbound{To: l.peer, Body: g.message(l, l.sent, nil)}
}

// message builds a message to l's peer, piggybacking our ack and any
// timing feedback.
func (g *Gossip) message(l *link, seq int, values []Value) Message {
	m := Message{Type: MessageType, Seq: seq, Ack: l.recvNext, Hold: l.hold}
	if len(values) > 0 {
		m.Values = append([]Value(nil), values...)
	}
	if g.isHub() && g.cfg.AckAfterFanout {
		m.Fanout = l.fanout
		l.fanoutTold = l.fanout
	}
	l.hold = nil
	l.ackOwedSince = time.Time{}
	l.ackNow = false
	return m
}

// applyAck drops what the peer now has.
func (g *Gossip) applyAck(l *link, ack int, now time.Time) {
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
		rec := l.inflight[i]
		g.hubFanned = max(g.hubFanned, rec.fanned)
		if rec.asked {
			if len(g.rtts) == rttSamples {
				g.rtts = g.rtts[1:]
			}
			g.rtts = append(g.rtts, now.Sub(rec.at))
		}
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
