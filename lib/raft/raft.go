// Package raft is the Raft consensus algorithm (Ongaro and Ousterhout,
// "In Search of an Understandable Consensus Algorithm") as a plain state
// machine in the manner of etcd's raft: the caller feeds it one event at a
// time (a peer's message, the passing of time, a proposal, a read) and each
// step returns a Ready with the messages to send, the entries newly
// committed and the reads now safe to serve. It does no I/O, takes no locks
// and starts no goroutines; time is whatever the caller says.
//
// Leader election uses randomised timeouts, PreVote and CheckQuorum;
// replication keeps per-follower progress (probe and replicate states,
// batching, fast back-off by conflict term); an entry commits only when a
// majority holds an entry of the leader's own term at or after it (§5.4.2);
// reads are confirmed by ReadIndex without touching the log. README.md next
// to this file explains the shape and why reads are linearizable.
package raft

import (
	"encoding/json"
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
	cfg Config
}

// New makes node cfg.ID's state, a follower in term 0 with an empty log;
// now starts its election timer.
func New(cfg Config, now time.Time) (*Raft, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Raft{cfg: cfg}, nil
}

// Step handles a message from a peer.
func (r *Raft) Step(now time.Time, m Message) Ready { return Ready{} }

// Tick lets time pass: elections, heartbeats, CheckQuorum. Call it at
// Ready.NextTick (earlier is harmless).
func (r *Raft) Tick(now time.Time) Ready { return Ready{} }

// Propose appends data (any JSON) to the leader's log and starts
// replicating it. It returns *ErrNotLeader on any other node. The entry's
// index is the last entry of the returned Ready's Entries.
func (r *Raft) Propose(now time.Time, data json.RawMessage) (Ready, error) {
	return Ready{}, nil
}

// ReadIndex asks for a linearizable read on the leader: a later Ready
// carries ReadState{ctx, index} once a majority has confirmed, after this
// call, that this node still leads, and index is the commit index at this
// call (or the first entry of this term, if that commits later). The read
// must then be served after applying through index. It returns
// *ErrNotLeader on any other node.
func (r *Raft) ReadIndex(now time.Time, ctx uint64) (Ready, error) {
	return Ready{}, nil
}

// ReadIndexFor is ReadIndex for a read a follower forwarded to this
// leader while it was in term peerTerm. The forwarder counts as one
// confirmation: being in this leader's term when it forwarded, after the
// read began, it had voted for no later leader (README.md). It returns
// ErrStaleTerm if peerTerm is not this leader's term.
func (r *Raft) ReadIndexFor(now time.Time, ctx uint64, peer string, peerTerm uint64) (Ready, error) {
	return Ready{}, nil
}

// Leader is the leader this node knows of in its term ("" if none).
func (r *Raft) Leader() string { return "" }

// Role is this node's role.
func (r *Raft) Role() Role { return Follower }

// Term is this node's current term.
func (r *Raft) Term() uint64 { return 0 }

// Status returns a snapshot of the node's state.
func (r *Raft) Status() Status { return Status{} }
