package raft

import (
	"fmt"
	"time"
)

// pendingRead is a read waiting for its leadership confirmation.
type pendingRead struct {
	ctx   uint64
	index uint64 // serve after applying through it
	round uint64 // followers' echoes of this round or a later one confirm it
	// forwarder is the follower that forwarded the read while in this
	// leader's term, or "": it counts as one confirmation.
	forwarder string
}

// ReadIndex asks for a linearizable read on the leader without a log
// append (thesis §6.4): the read's index is the commit index now (or this
// term's first entry, if that has not committed yet), and a later Ready
// (possibly the returned one) carries ReadState{ctx, index} once a
// majority has confirmed, after this call, that this node still leads.
// Serve the read after applying through index. On any other node it
// returns *ErrNotLeader. If the node loses leadership first, ctx comes
// back in Ready.DroppedReads.
func (r *Raft) ReadIndex(now time.Time, ctx uint64) (Ready, error) {
	return r.readIndex(now, ctx, "")
}

// ReadIndexFor is ReadIndex for a read that follower peer forwarded to
// this leader while peer was in term peerTerm (its Term when it sent the
// request, after the read began). The forwarder counts as one
// confirmation: still in this leader's term after the read began, it had
// voted for no later leader by then (README.md has the argument). In a
// cluster of three that is the majority, and the read needs no round at
// all. It returns ErrStaleTerm if peerTerm is not this leader's term.
func (r *Raft) ReadIndexFor(now time.Time, ctx uint64, peer string, peerTerm uint64) (Ready, error) {
	if r.role != Leader {
		return r.ready(now), r.notLeader()
	}
	if r.progress[peer] == nil {
		return r.ready(now), fmt.Errorf("raft: read forwarded by %q, not a peer", peer)
	}
	if peerTerm != r.term {
		return r.ready(now), ErrStaleTerm
	}
	return r.readIndex(now, ctx, peer)
}

func (r *Raft) readIndex(now time.Time, ctx uint64, forwarder string) (Ready, error) {
	if r.role != Leader {
		return r.ready(now), r.notLeader()
	}
	// Until this term's no-op commits, the commit index may lag entries an
	// earlier leader committed; the no-op follows all of them.
	index := max(r.commit, r.termStart)
	r.readRound++
	r.pendingReads = append(r.pendingReads, pendingRead{ctx: ctx, index: index, round: r.readRound, forwarder: forwarder})
	r.checkReads()
	if n := len(r.pendingReads); n > 0 && r.pendingReads[n-1].round == r.readRound {
		// Still waiting: the eager followers (all, without
		// LazyReplication) get a message of the new round, with entries
		// if they have some due, else empty. A majority's worth of them
		// suffices; should one not answer, every heartbeat carries the
		// round too.
		for _, id := range r.others {
			if id == forwarder || !r.isEager(id) {
				continue
			}
			if !r.sendAppend(now, id, false) {
				r.sendEmptyAppend(now, id)
			}
		}
	}
	return r.ready(now), nil
}

// checkReads releases every pending read a majority has confirmed, once
// this term's first entry has committed.
func (r *Raft) checkReads() {
	if r.role != Leader || len(r.pendingReads) == 0 {
		return
	}
	if r.commit < r.termStart && !r.bugs.readNoQuorum {
		return
	}
	kept := r.pendingReads[:0]
	for _, pr := range r.pendingReads {
		n := 1 // self
		if pr.forwarder != "" {
			n++
		}
		for _, id := range r.others {
			if id != pr.forwarder && r.progress[id].round >= pr.round {
				n++
			}
		}
		if n >= r.quorum || r.bugs.readNoQuorum {
			r.readStates = append(r.readStates, ReadState{Ctx: pr.ctx, Index: pr.index})
		} else {
			kept = append(kept, pr)
		}
	}
	r.pendingReads = kept
}
