package gossip

import "time"

// Leaf alignment. A value waits for the hub's next flush either at the hub
// (the leaf sends at once: one message per value) or at the leaf (the leaf
// batches: one message per FlushInterval). Batching costs no latency if the
// batch reaches the hub just before its flush, so the hub tells each leaf,
// with its next message, how long the leaf's latest batch waited (Hold), and
// the leaf shifts its schedule so its batches arrive AlignMargin before the
// flush. This needs neither synchronised clocks nor knowledge of the
// latency. Until its first feedback a leaf sends at once.

// Hold tells a leaf how long its batch starting at Seq waited at the hub
// before the hub forwarded it, so the leaf can shift its schedule.
type Hold struct {
	Seq    int   `json:"seq"`
	Micros int64 `json:"us"`
}

// alignment is a leaf's send schedule.
type alignment struct {
	nextSend   time.Time // next batch to the hub
	lastAdjust time.Time // when the schedule last moved
	aligned    bool      // nextSend follows the hub's phase
}

func (g *Gossip) alignedLeaf() bool { return !g.isHub() && g.cfg.AlignLeaves && g.align.aligned }

// sendDue reports whether an aligned leaf's next slot has anything to send.
func (g *Gossip) sendDue() bool {
	l := g.links[g.hub]
	return l != nil && !l.probing && l.sent < l.next()
}

// sendAligned is an aligned leaf's slot: its batch to the hub, if any.
func (g *Gossip) sendAligned(now time.Time) []Outbound {
	if !g.alignedLeaf() || now.Before(g.align.nextSend) {
		return nil
	}
	var out []Outbound
	if g.sendDue() {
		l := g.links[g.hub]
		g.noteBatchSent(l, now)
		out = append(out, g.transmit(l, now))
	}
	g.align.nextSend = advance(g.align.nextSend, g.cfg.FlushInterval, now)
	return out
}

// noteBatchSent (leaf) remembers when the batch starting at the next
// unsent position left, to interpret the hub's Hold for it.
func (g *Gossip) noteBatchSent(l *link, now time.Time) {
	if l.batchSent == nil {
		l.batchSent = map[int]time.Time{}
	}
	l.batchSent[l.sent] = now
}

// noteBatch (hub) records that a leaf's batch starting at seq arrived.
func (g *Gossip) noteBatch(l *link, seq int, now time.Time) {
	l.batchSeq, l.batchArrived, l.batchWaiting = seq, now, true
}

// giveFeedback (hub, at a flush) tells the leaf, with the next message to
// it, how long its latest batch waited for this flush.
func (g *Gossip) giveFeedback(l *link, now time.Time) {
	if !l.batchWaiting {
		return
	}
	l.hold = &Hold{Seq: l.batchSeq, Micros: now.Sub(l.batchArrived).Microseconds()}
	l.batchWaiting = false
}

// adjustSchedule shifts an aligned leaf's send schedule so its batches
// reach the hub AlignMargin before the hub's flush.
func (g *Gossip) adjustSchedule(l *link, h Hold, now time.Time) {
	if g.isHub() || !g.cfg.AlignLeaves || l.peer != g.hub {
		return
	}
	sentAt, ok := l.batchSent[h.Seq]
	if !ok || !sentAt.After(g.align.lastAdjust) {
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
	if g.align.aligned && shift > 0 {
		shift /= 2
	}
	g.align.nextSend = advance(sentAt.Add(shift), period, now)
	g.align.lastAdjust = now
	g.align.aligned = true
}
