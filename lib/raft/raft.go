// Package raft is the Raft consensus algorithm (Ongaro and Ousterhout,
// "In Search of an Understandable Consensus Algorithm") as a plain state
// machine in the manner of etcd's raft: the caller feeds it one event at a
// time (a peer's message, the passing of time, a proposal, a read) and each
// step returns a Ready with the messages to send, the entries newly
// committed and the reads now safe to serve. It does no I/O, takes no locks
// and starts no goroutines; time is whatever the caller says.
//
// Leader election uses randomised timeouts, PreVote and CheckQuorum
// (election.go); replication keeps per-follower progress with probe and
// replicate states, batching and fast back-off by conflict term
// (replication.go, progress.go); an entry commits only when a majority holds
// it and it is of the leader's own term (§5.4.2); reads are confirmed by
// ReadIndex without touching the log (read.go). README.md next to this
// file explains the shape and why reads are linearizable.
package raft

import (
	"encoding/json"
	"hash/fnv"
	"math/rand"
	"time"
)

// Status is a snapshot of a node's state, for logs and tests.
type Status struct {
	ID       string
	Role     Role
	Term     uint64
	Vote     string
	Leader   string
	Commit   uint64
	Applied  uint64 // highest index handed out in Ready.Committed
	LastIdx  uint64
	Progress map[string]ProgressStatus // leader only
}

// ProgressStatus is what a leader knows of one follower's log.
type ProgressStatus struct {
	Match, Next uint64
	State       string
}

// Raft is one node's consensus state. It is not safe for concurrent use;
// the caller serialises steps.
type Raft struct {
	cfg    Config
	id     string
	others []string // every peer but self, in Config order
	quorum int
	rand   *rand.Rand

	// Persistent state (§5, Figure 2).
	term uint64
	vote string
	log  []Entry // log[0] is a sentinel {Term 0, Index 0}; log[i].Index == i

	// Volatile state.
	role    Role
	leader  string
	commit  uint64
	applied uint64

	// electionDeadline: a follower or candidate campaigns at this time.
	electionDeadline time.Time
	// heardLeader is when this node last heard from the leader of its term
	// (or, on a leader, last confirmed its quorum); while within one
	// ElectionTimeout of it, requests to vote in a later term are ignored,
	// so a node that was cut off cannot depose a healthy leader.
	heardLeader time.Time
	votes       map[string]bool // candidate: granted (true) or refused (false)

	// Leader state. progress is made once in New and kept across terms
	// (progress.go says what survives a term change and why).
	progress      map[string]*progress
	termStart     uint64    // index of this term's first entry (the no-op)
	quorumCheckAt time.Time // CheckQuorum: when to count active followers
	readRound     uint64    // read-confirmation rounds sent, ever (read.go)
	pendingReads  []pendingRead

	// The step being built.
	msgs         []Message
	readStates   []ReadState
	droppedReads []uint64
	unstableFrom uint64 // lowest log index written in this step, 0 if none
	prevSoft     SoftState
	prevHard     HardState

	// Deliberately broken rules, set only by tests to show that the
	// simulation's safety checks catch them.
	bugs bugs
}

// bugs are test-only switches that break one rule each.
type bugs struct {
	doubleVote       bool // grant a vote to any up-to-date candidate, even after voting for another in the term
	commitOldTerm    bool // commit any index a majority holds, whatever its term (Figure 8)
	skipPrevCheck    bool // accept appends without checking the previous entry's term
	voteIgnoresLog   bool // grant votes without the up-to-date check (§5.4.1)
	readNoQuorum     bool // serve reads without confirming leadership
	applyUncommitted bool // hand out entries to apply as soon as they are in the log
}

// New makes node cfg.ID's state, a follower in term 0 with an empty log;
// now starts its election timer.
func New(cfg Config, now time.Time) (*Raft, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rnd := cfg.Rand
	if rnd == nil {
		h := fnv.New64a()
		h.Write([]byte(cfg.ID))
		rnd = rand.New(rand.NewSource(int64(h.Sum64()) ^ now.UnixNano()))
	}
	r := &Raft{
		cfg:      cfg,
		id:       cfg.ID,
		quorum:   len(cfg.Peers)/2 + 1,
		rand:     rnd,
		log:      []Entry{{}},
		progress: map[string]*progress{},
	}
	for _, p := range cfg.Peers {
		if p != cfg.ID {
			r.others = append(r.others, p)
			r.progress[p] = &progress{next: 1}
		}
	}
	r.resetElectionTimer(now)
	r.prevSoft = r.softState()
	r.prevHard = r.hardState()
	return r, nil
}

// Step handles a message from a peer.
func (r *Raft) Step(now time.Time, m Message) Ready {
	r.step(now, m)
	return r.ready(now)
}

// Tick lets time pass: elections, heartbeats, CheckQuorum. Call it at
// Ready.NextTick (earlier or later is harmless).
func (r *Raft) Tick(now time.Time) Ready {
	if r.role == Leader {
		r.tickLeader(now)
	} else if !now.Before(r.electionDeadline) {
		r.campaign(now, r.cfg.PreVote)
	}
	return r.ready(now)
}

// Propose appends data (any JSON) to the leader's log and starts
// replicating it. It returns *ErrNotLeader on any other node. The new
// entry is the last of the returned Ready's Entries.
func (r *Raft) Propose(now time.Time, data json.RawMessage) (Ready, error) {
	if r.role != Leader {
		return r.ready(now), r.notLeader()
	}
	if data != nil && !json.Valid(data) {
		return r.ready(now), ErrInvalidData
	}
	r.appendEntry(data)
	r.broadcastAppend(now)
	return r.ready(now), nil
}

func (r *Raft) notLeader() error { return &ErrNotLeader{Leader: r.leader, Term: r.term} }

// Leader is the leader this node knows of in its term ("" if none).
func (r *Raft) Leader() string { return r.leader }

// Role is this node's role.
func (r *Raft) Role() Role { return r.role }

// Term is this node's current term.
func (r *Raft) Term() uint64 { return r.term }

// Status returns a snapshot of the node's state.
func (r *Raft) Status() Status {
	s := Status{
		ID: r.id, Role: r.role, Term: r.term, Vote: r.vote, Leader: r.leader,
		Commit: r.commit, Applied: r.applied, LastIdx: r.lastIndex(),
	}
	if r.role == Leader {
		s.Progress = map[string]ProgressStatus{}
		for id, p := range r.progress {
			s.Progress[id] = ProgressStatus{Match: p.match, Next: p.next, State: p.state.String()}
		}
	}
	return s
}

// Log returns the entries from index from on (the caller must not modify
// them), for tests and for a caller that wants to inspect the log.
func (r *Raft) Log(from uint64) []Entry {
	if from < 1 {
		from = 1
	}
	if from > r.lastIndex() {
		return nil
	}
	return r.log[from:]
}

func (r *Raft) lastIndex() uint64 { return uint64(len(r.log) - 1) }
func (r *Raft) lastTerm() uint64  { return r.log[len(r.log)-1].Term }

// termAt is the term of the entry at i, or 0 if there is none.
func (r *Raft) termAt(i uint64) uint64 {
	if i > r.lastIndex() {
		return 0
	}
	return r.log[i].Term
}

func (r *Raft) softState() SoftState {
	return SoftState{Leader: r.leader, Role: r.role, Term: r.term}
}

func (r *Raft) hardState() HardState {
	return HardState{Term: r.term, Vote: r.vote, Commit: r.commit}
}

func (r *Raft) send(m Message) {
	m.Type = MessageType
	m.From = r.id
	if m.Term == 0 {
		m.Term = r.term
	}
	r.msgs = append(r.msgs, m)
}

// ready ends every step: it gathers what the step produced.
func (r *Raft) ready(now time.Time) Ready {
	var rd Ready
	if s := r.softState(); s != r.prevSoft {
		rd.SoftState = &s
		r.prevSoft = s
	}
	if h := r.hardState(); h != r.prevHard {
		rd.HardState = &h
		r.prevHard = h
	}
	if r.unstableFrom > 0 && r.unstableFrom <= r.lastIndex() {
		rd.Entries = append([]Entry(nil), r.log[r.unstableFrom:]...)
	}
	r.unstableFrom = 0
	applyTo := r.commit
	if r.bugs.applyUncommitted {
		applyTo = r.lastIndex()
	}
	if applyTo > r.applied {
		rd.Committed = append([]Entry(nil), r.log[r.applied+1:applyTo+1]...)
		r.applied = applyTo
	}
	rd.Messages, r.msgs = r.msgs, nil
	rd.ReadStates, r.readStates = r.readStates, nil
	rd.DroppedReads, r.droppedReads = r.droppedReads, nil
	rd.NextTick = r.nextTick(now)
	return rd
}

// nextTick is the earliest time at which Tick has something to do.
func (r *Raft) nextTick(now time.Time) time.Time {
	if r.role != Leader {
		return r.electionDeadline
	}
	t := r.quorumCheckAt
	for _, id := range r.others {
		if d := r.progress[id].dueAt(r.cfg); d.Before(t) {
			t = d
		}
	}
	if t.Before(now) {
		t = now
	}
	return t
}

// step is Step without the Ready: terms first (§5.1), then the role.
func (r *Raft) step(now time.Time, m Message) {
	if m.From == r.id || (m.From != "" && r.progress[m.From] == nil) {
		return // not a peer of this cluster
	}
	switch {
	case m.Term > r.term:
		isVoteReq := m.Kind == KindVote || m.Kind == KindPreVote
		if isVoteReq && r.inLease(now) {
			// Leader stickiness: a leader was heard from less than an
			// election timeout ago, so this candidate is the one cut off.
			return
		}
		switch {
		case m.Kind == KindPreVote:
			// Answered below without changing term: a pre-vote changes
			// nothing until the real election.
		case m.Kind == KindPreVoteResp && !m.Reject:
			// The term we would campaign in, not one anyone is in.
		default:
			leader := ""
			if m.Kind == KindAppend {
				leader = m.From
			}
			r.becomeFollower(now, m.Term, leader)
		}
	case m.Term < r.term:
		switch m.Kind {
		case KindAppend:
			// A deposed leader: tell it the term so it steps down (with
			// PreVote it may never see a vote request that would).
			r.send(Message{To: m.From, Kind: KindAppendResp, Index: m.Index, Reject: true})
		case KindPreVote:
			r.send(Message{To: m.From, Kind: KindPreVoteResp, Reject: true})
		}
		return
	}

	switch m.Kind {
	case KindPreVote, KindVote:
		r.handleVoteRequest(now, m)
		return
	}
	switch r.role {
	case Leader:
		r.stepLeader(now, m)
	case Candidate, PreCandidate:
		r.stepCandidate(now, m)
	case Follower:
		r.stepFollower(now, m)
	}
}

func (r *Raft) stepFollower(now time.Time, m Message) {
	if m.Kind == KindAppend {
		r.leader = m.From
		r.heardLeader = now
		r.resetElectionTimer(now)
		r.handleAppend(m)
	}
}

func (r *Raft) stepCandidate(now time.Time, m Message) {
	switch m.Kind {
	case KindAppend:
		// A leader of this term exists (§5.2): follow it.
		r.becomeFollower(now, m.Term, m.From)
		r.heardLeader = now
		r.handleAppend(m)
	case KindVoteResp:
		if r.role == Candidate {
			r.countVote(now, m)
		}
	case KindPreVoteResp:
		if r.role == PreCandidate {
			r.countVote(now, m)
		}
	}
}

func (r *Raft) stepLeader(now time.Time, m Message) {
	if m.Kind == KindAppendResp {
		r.handleAppendResp(now, m)
	}
}

func (r *Raft) resetElectionTimer(now time.Time) {
	et := r.cfg.ElectionTimeout
	r.electionDeadline = now.Add(et + time.Duration(r.rand.Int63n(int64(et))))
}

// inLease reports whether this node has heard from a live leader of its
// term (or, as leader, confirmed its quorum) within an election timeout.
func (r *Raft) inLease(now time.Time) bool {
	return r.leader != "" && now.Sub(r.heardLeader) < r.cfg.ElectionTimeout
}

func (r *Raft) becomeFollower(now time.Time, term uint64, leader string) {
	if r.role == Leader {
		r.leaveLeadership()
	}
	if term > r.term {
		r.term = term
		r.vote = ""
	}
	r.role = Follower
	r.leader = leader
	r.votes = nil
	r.resetElectionTimer(now)
}
