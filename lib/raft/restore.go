package raft

import (
	"fmt"
	"time"
)

// Restore makes a node from what a caller persisted out of earlier
// Readys: the last HardState, the log (every Entries written, later ones
// overwriting earlier ones from their first index on) and the index the
// state machine had applied (and kept) before the restart. The node starts
// as a follower; entries after applied come out as Committed again once
// they are known to be committed. Maelstrom never restarts a node, so the
// drivers in this repository do not persist anything; this is what keeps
// the API from ruling persistence out.
func Restore(cfg Config, now time.Time, hs HardState, log []Entry, applied uint64) (*Raft, error) {
	r, err := New(cfg, now)
	if err != nil {
		return nil, err
	}
	for i, e := range log {
		if e.Index != uint64(i+1) {
			return nil, fmt.Errorf("raft restore: entry %d has index %d, want %d", i, e.Index, i+1)
		}
		if e.Term > hs.Term || (i > 0 && e.Term < log[i-1].Term) {
			return nil, fmt.Errorf("raft restore: entry %d has term %d out of order (hard state term %d)", e.Index, e.Term, hs.Term)
		}
	}
	if hs.Commit > uint64(len(log)) || applied > hs.Commit {
		return nil, fmt.Errorf("raft restore: commit %d and applied %d must satisfy applied <= commit <= %d entries", hs.Commit, applied, len(log))
	}
	if hs.Vote != "" && r.progress[hs.Vote] == nil && hs.Vote != cfg.ID {
		return nil, fmt.Errorf("raft restore: vote for %q, not a peer", hs.Vote)
	}
	r.term, r.vote, r.commit, r.applied = hs.Term, hs.Vote, hs.Commit, applied
	r.log = append(r.log[:1], log...)
	for _, id := range r.others {
		r.progress[id].next = r.lastIndex() + 1
	}
	r.prevSoft, r.prevHard = r.softState(), r.hardState()
	return r, nil
}
