package gossip

import (
	"sort"
	"time"
)

// link is the state of one peer: our numbered stream to it and its stream
// to us. Every message carries our cumulative ack of the peer's stream, so
// acknowledgements ride on traffic that flows anyway; values the peer has
// not acknowledged within RetransmitTimeout are sent again, and the peer is
// then probed, once per timeout, until it answers.
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
	ackNow       bool // a retransmission or probe came in: the peer waits for our ack

	// Alignment feedback (align.go). Hub side: the leaf's latest batch
	// awaiting a flush, and the feedback to give it. Leaf side: when each
	// recent batch to the hub was sent.
	batchSeq     int
	batchArrived time.Time
	batchWaiting bool
	hold         *Hold
	batchSent    map[int]time.Time
}

type sendRecord struct {
	end int // positions below were in this transmission or an earlier one
	at  time.Time
}

type span struct{ lo, hi int }

func (l *link) next() int { return l.acked + len(l.pending) }

// deadline is when Tick next has work on this link (a retransmission or a
// bare ack), or the zero time.
func (l *link) deadline(cfg Config, now time.Time) time.Time {
	var d time.Time
	if len(l.inflight) > 0 {
		d = l.inflight[0].at.Add(cfg.RetransmitTimeout)
	}
	if l.ackNow {
		d = earliest(d, now)
	}
	if !l.ackOwedSince.IsZero() {
		d = earliest(d, l.ackOwedSince.Add(cfg.AckDelay))
	}
	return d
}

// tickLinks retransmits to peers whose values have waited RetransmitTimeout
// and sends the bare acks that are due.
func (g *Gossip) tickLinks(now time.Time) []Outbound {
	var out []Outbound
	for _, p := range g.peerOrder() {
		l := g.links[p]
		if len(l.inflight) > 0 && now.Sub(l.inflight[0].at) >= g.cfg.RetransmitTimeout {
			out = append(out, g.retransmit(l, now)) // carries our ack
			continue
		}
		if l.ackNow || (!l.ackOwedSince.IsZero() && now.Sub(l.ackOwedSince) >= g.cfg.AckDelay) {
			out = append(out, g.bareAck(l))
		}
	}
	return out
}

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
// timing feedback; it settles every acknowledgement we owed the peer.
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

// applyAck drops what the peer now has. Any ack proves the peer reachable.
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

// receive records that the peer sent positions [seq, seq+n) and reports
// whether any of them is new. A message that brings nothing new is a
// retransmission: our ack got lost, so we owe one at once.
func (l *link) receive(seq, n int, now time.Time) bool {
	if seq+n <= l.recvNext {
		l.ackNow = true
		return false
	}
	l.markReceived(seq, seq+n)
	if l.ackOwedSince.IsZero() {
		l.ackOwedSince = now
	}
	return true
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
