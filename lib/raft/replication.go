package raft

import (
	"slices"
	"time"
)

// appendEntry appends an entry of the current term to the leader's log.
func (r *Raft) appendEntry(data []byte) {
	e := Entry{Term: r.term, Index: r.lastIndex() + 1, Data: data}
	r.log = append(r.log, e)
	r.markUnstable(e.Index)
	r.maybeCommit() // a cluster of one commits at once
}

func (r *Raft) markUnstable(i uint64) {
	if r.unstableFrom == 0 || i < r.unstableFrom {
		r.unstableFrom = i
	}
}

// broadcastAppend sends new entries to every follower that may receive
// them now; the others get them batched with their next append.
func (r *Raft) broadcastAppend(now time.Time) {
	for _, id := range r.others {
		if r.isEager(id) {
			r.sendAppend(now, id, false)
		}
	}
}

// isEager reports whether follower id gets entries as soon as they are
// appended (Config.LazyReplication). A follower being probed always is:
// probes are limited to one in flight anyway.
func (r *Raft) isEager(id string) bool {
	p := r.progress[id]
	return !r.cfg.LazyReplication || p.state == probe || p.eager
}

// reviewEager keeps quorum-1 followers eager: at the start of a term the
// first ones in Config order, later replacing any that stopped answering
// (an append unacknowledged for resendAfter, or back to probing) with a
// lazy follower that answered in this CheckQuorum period.
func (r *Raft) reviewEager(now time.Time) {
	if !r.cfg.LazyReplication {
		return
	}
	healthy := func(p *progress) bool {
		return p.state == replicate && (len(p.inflights) == 0 || now.Sub(p.inflights[0].sentAt) < resendAfter(r.cfg))
	}
	want := r.quorum - 1
	n := 0
	for _, id := range r.others {
		p := r.progress[id]
		if p.eager && !healthy(p) {
			p.eager = false
		}
		if p.eager {
			n++
		}
	}
	// Those heard from lately first, then any.
	for _, heard := range []bool{true, false} {
		for _, id := range r.others {
			if n >= want {
				return
			}
			if p := r.progress[id]; !p.eager && (p.recentActive || !heard) {
				p.eager = true
				n++
				r.sendAppend(now, id, false) // what it missed while lazy
			}
		}
	}
}

// sendAppend sends follower id the entries from its next index, if its
// flow control allows (force: a heartbeat's probe, allowed regardless).
// It reports whether it sent anything.
func (r *Raft) sendAppend(now time.Time, id string, force bool) bool {
	p := r.progress[id]
	last := r.lastIndex()
	switch p.state {
	case probe:
		if p.probeSent && !force {
			return false
		}
	case replicate:
		if !force && (len(p.inflights) >= r.cfg.MaxInflight || p.next > last) {
			return false
		}
	}
	prev := p.next - 1
	var ents []Entry
	if p.next <= last {
		end := min(last, prev+uint64(r.cfg.MaxEntriesPerMsg))
		ents = slices.Clone(r.log[p.next : end+1])
	}
	r.send(Message{
		To: id, Kind: KindAppend, Index: prev, LogTerm: r.termAt(prev),
		Entries: ents, Commit: r.commit, Round: r.readRound,
	})
	p.lastSent = now
	switch p.state {
	case probe:
		p.probeSent = true
	case replicate:
		if len(ents) > 0 {
			p.next = ents[len(ents)-1].Index + 1
			p.inflights = append(p.inflights, inflight{last: p.next - 1, sentAt: now})
		}
	}
	return true
}

// heartbeat is due for follower id: it tells the follower the leader is
// alive, carries the commit index and the read round, and restarts a
// stalled stream.
func (r *Raft) heartbeat(now time.Time, id string) {
	p := r.progress[id]
	if p.state == replicate && len(p.inflights) > 0 && now.Sub(p.inflights[0].sentAt) >= resendAfter(r.cfg) {
		p.becomeProbe(p.match + 1) // lost, or the follower is cut off
	}
	if p.state == probe {
		r.sendAppend(now, id, true)
		return
	}
	if r.sendAppend(now, id, false) {
		return
	}
	r.sendEmptyAppend(now, id)
}

// sendEmptyAppend sends an append without entries after the follower's
// match, which it always accepts: a heartbeat or a read round.
func (r *Raft) sendEmptyAppend(now time.Time, id string) {
	p := r.progress[id]
	r.send(Message{
		To: id, Kind: KindAppend, Index: p.match, LogTerm: r.termAt(p.match),
		Commit: r.commit, Round: r.readRound,
	})
	p.lastSent = now
}

// handleAppend is a follower's side of AppendEntries (§5.3).
func (r *Raft) handleAppend(m Message) {
	resp := Message{To: m.From, Kind: KindAppendResp, Round: m.Round}
	last := r.lastIndex()
	if m.Index > last || (r.termAt(m.Index) != m.LogTerm && !r.bugs.skipPrevCheck) {
		resp.Reject = true
		resp.Index = m.Index
		if m.Index > last {
			resp.Hint = last + 1
		} else {
			// Skip the whole conflicting term in one round trip.
			t := r.termAt(m.Index)
			i := m.Index
			for i > r.commit+1 && r.termAt(i-1) == t {
				i--
			}
			resp.Hint, resp.LogTerm = i, t
		}
		r.send(resp)
		return
	}
	for i, e := range m.Entries {
		if e.Index <= r.lastIndex() {
			if r.termAt(e.Index) == e.Term {
				continue // already held: a duplicate or reordered append
			}
			if e.Index <= r.commit && !r.bugs.skipPrevCheck {
				return // a correct leader never contradicts a committed entry
			}
			r.log = r.log[:e.Index] // conflict: drop it and all that follow
		}
		if e.Index != r.lastIndex()+1 {
			return // a gap; only possible with broken rules
		}
		r.log = append(r.log, m.Entries[i:]...)
		r.markUnstable(e.Index)
		break
	}
	lastNew := m.Index + uint64(len(m.Entries))
	if c := min(m.Commit, lastNew); c > r.commit {
		r.commit = c
	}
	resp.Index = lastNew
	r.send(resp)
}

// handleAppendResp is the leader's side: progress, commit, next send.
func (r *Raft) handleAppendResp(now time.Time, m Message) {
	p := r.progress[m.From]
	p.recentActive = true
	if m.Round > p.round {
		p.round = m.Round
	}
	if m.Reject {
		if m.Index <= p.match || (p.state == probe && m.Index != p.next-1) {
			r.checkReads()
			return // stale: answers an append since superseded
		}
		next := m.Hint
		if m.LogTerm > 0 {
			// Retry after our last entry of the follower's conflicting
			// term, if we have that term; else before the follower's run.
			for j := min(m.Index, r.lastIndex()); j > 0 && r.termAt(j) >= m.LogTerm; j-- {
				if r.termAt(j) == m.LogTerm {
					next = j + 1
					break
				}
			}
		}
		next = max(min(next, m.Index), 1)
		p.becomeProbe(next)
		r.sendAppend(now, m.From, false)
		r.reviewEager(now)
		r.checkReads()
		return
	}
	if m.Index > p.match {
		p.match = m.Index
	}
	if p.next <= m.Index {
		p.next = m.Index + 1
	}
	p.ack(m.Index)
	if p.state == probe {
		p.becomeReplicate()
	}
	r.maybeCommit()
	if r.isEager(m.From) {
		r.sendAppend(now, m.From, false)
	}
	r.checkReads()
}

// maybeCommit advances the commit index to the highest index a majority
// holds, if that entry is of the current term (§5.4.2: an entry of an
// earlier term is committed only indirectly, by one of this term after it;
// counting its replicas is not enough, Figure 8).
func (r *Raft) maybeCommit() {
	if r.role != Leader {
		return
	}
	matches := []uint64{r.lastIndex()}
	for _, id := range r.others {
		matches = append(matches, r.progress[id].match)
	}
	slices.Sort(matches)
	n := matches[len(matches)-r.quorum]
	if n > r.commit && (r.termAt(n) == r.term || r.bugs.commitOldTerm) {
		r.commit = n
		r.checkReads()
	}
}
