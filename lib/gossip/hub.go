package gossip

import "time"

// flushDue reports whether the hub's next flush has anything to send: a
// reachable leaf lacks values the hub holds.
func (g *Gossip) flushDue() bool {
	for _, p := range g.forward {
		l := g.links[p]
		if !l.probing && l.sent < l.next() {
			return true
		}
	}
	return false
}

// flush is the hub's round, once per FlushInterval: one message to each
// reachable leaf with everything it has not been sent, so the cost is one
// message per leaf however many values the round carries. Unreachable
// leaves wait for their probe (link.go).
func (g *Gossip) flush(now time.Time) []Outbound {
	if !g.isHub() || now.Before(g.nextFlush) {
		return nil
	}
	var out []Outbound
	for _, p := range g.forward {
		l := g.links[p]
		g.giveFeedback(l, now)
		if !l.probing && l.sent < l.next() {
			out = append(out, g.transmit(l, now))
		}
	}
	g.nextFlush = advance(g.nextFlush, g.cfg.FlushInterval, now)
	return out
}
