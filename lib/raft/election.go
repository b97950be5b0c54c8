package raft

import "time"

// campaign starts an election (§5.2), or with pre a pre-vote (thesis
// §9.6): the same question asked for term+1 without anyone changing term,
// so a node that cannot win (cut off, or with a stale log) never raises
// the cluster's term.
func (r *Raft) campaign(now time.Time, pre bool) {
	if r.role == Leader {
		return
	}
	r.resetElectionTimer(now)
	r.votes = map[string]bool{r.id: true}
	kind, term := KindVote, r.term+1
	if pre {
		r.role = PreCandidate
		r.leader = ""
		kind = KindPreVote
	} else {
		r.term = term
		r.vote = r.id
		r.role = Candidate
		r.leader = ""
	}
	if r.quorum == 1 {
		r.winElection(now, pre)
		return
	}
	for _, id := range r.others {
		r.send(Message{To: id, Kind: kind, Term: term, Index: r.lastIndex(), LogTerm: r.lastTerm()})
	}
}

// winElection moves on from a won pre-vote or vote.
func (r *Raft) winElection(now time.Time, pre bool) {
	if pre {
		r.campaign(now, false)
		return
	}
	r.becomeLeader(now)
}

// handleVoteRequest answers a vote or pre-vote (§5.2, §5.4.1). Terms are
// settled already: m.Term >= r.term.
func (r *Raft) handleVoteRequest(now time.Time, m Message) {
	pre := m.Kind == KindPreVote
	resp := KindVoteResp
	if pre {
		resp = KindPreVoteResp
	}
	// One vote per term, first come first served; a pre-vote for a later
	// term binds nothing.
	canVote := r.vote == m.From ||
		(r.vote == "" && r.leader == "") ||
		(pre && m.Term > r.term) ||
		(r.bugs.doubleVote && !pre && r.role != Leader)
	// §5.4.1: only a candidate whose log is at least as up to date as ours
	// may win, so every leader holds every committed entry.
	upToDate := m.LogTerm > r.lastTerm() || (m.LogTerm == r.lastTerm() && m.Index >= r.lastIndex())
	if r.bugs.voteIgnoresLog {
		upToDate = true
	}
	if canVote && upToDate {
		// A granted pre-vote carries the asked term so the pre-candidate
		// counts it; a vote carries ours, which is the same.
		r.send(Message{To: m.From, Kind: resp, Term: m.Term})
		if !pre {
			r.vote = m.From
			r.resetElectionTimer(now)
		}
		return
	}
	r.send(Message{To: m.From, Kind: resp, Reject: true})
}

// countVote tallies a (pre-)vote response of this campaign.
func (r *Raft) countVote(now time.Time, m Message) {
	if r.votes == nil {
		return
	}
	want := r.term
	if r.role == PreCandidate {
		want = r.term + 1
	}
	if m.Term != want && !(m.Reject && m.Term == r.term) {
		return // an answer to an earlier campaign
	}
	if _, dup := r.votes[m.From]; dup {
		return
	}
	r.votes[m.From] = !m.Reject
	granted, refused := 0, 0
	for _, v := range r.votes {
		if v {
			granted++
		} else {
			refused++
		}
	}
	switch {
	case granted >= r.quorum:
		r.winElection(now, r.role == PreCandidate)
	case refused >= r.quorum:
		// Lost: wait for a leader or the next timeout as a follower.
		r.becomeFollower(now, r.term, "")
	}
}

// becomeLeader takes office: it appends a no-op of the new term, which
// commits every earlier entry with it (§5.4.2) and lets reads proceed
// (read.go), and starts replicating from each follower's kept progress.
func (r *Raft) becomeLeader(now time.Time) {
	r.role = Leader
	r.leader = r.id
	for _, id := range r.others {
		r.progress[id].becomeLeader(r.lastIndex())
		// Its voters are alive: they are the first eager followers.
		r.progress[id].recentActive = r.votes[id]
	}
	r.votes = nil
	r.heardLeader = now
	r.quorumCheckAt = now.Add(r.cfg.ElectionTimeout)
	r.appendEntry(nil)
	r.termStart = r.lastIndex()
	r.broadcastAppend(now)
	r.reviewEager(now)
}

// leaveLeadership is the end of a term in office: reads not yet confirmed
// can no longer be (another leader may commit writes they would miss).
func (r *Raft) leaveLeadership() {
	for _, pr := range r.pendingReads {
		r.droppedReads = append(r.droppedReads, pr.ctx)
	}
	r.pendingReads = nil
	for _, id := range r.others {
		r.progress[id].leaveLeadership(r.commit)
	}
}

// tickLeader sends heartbeats and probes that are due and, once per
// election timeout, steps down unless a majority was heard from
// (CheckQuorum): a leader cut off from its majority stops accepting
// requests that could never commit, and its clients learn it.
func (r *Raft) tickLeader(now time.Time) {
	if !now.Before(r.quorumCheckAt) {
		active := 1
		for _, id := range r.others {
			p := r.progress[id]
			if p.recentActive {
				active++
			}
			p.recentActive = false
		}
		if active < r.quorum {
			r.becomeFollower(now, r.term, "")
			return
		}
		r.heardLeader = now
		r.quorumCheckAt = now.Add(r.cfg.ElectionTimeout)
	}
	r.reviewEager(now)
	for _, id := range r.others {
		p := r.progress[id]
		if !now.Before(p.dueAt(r.cfg)) {
			r.heartbeat(now, id)
		}
	}
}
