package raft

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// MessageType is the Maelstrom body "type" of every message this package
// produces; Kind says what the message is.
const MessageType = "raft"

// Kind is what a Message asks or answers.
type Kind string

const (
	// KindPreVote asks "would you vote for me in Term?" without anyone
	// changing term (Term is the term the sender would campaign in).
	KindPreVote     Kind = "prevote"
	KindPreVoteResp Kind = "prevote_resp"
	// KindVote asks for a vote in Term; Index and LogTerm describe the
	// candidate's last entry (§5.4.1).
	KindVote     Kind = "vote"
	KindVoteResp Kind = "vote_resp"
	// KindAppend carries the leader's entries after (Index, LogTerm), its
	// commit index, and its read round; with no entries it is a heartbeat.
	KindAppend Kind = "append"
	// KindAppendResp answers an append: on success Index is the follower's
	// last index known to match the leader; on Reject, Index is the
	// rejected Index and Hint/LogTerm say where the leader should retry.
	KindAppendResp Kind = "append_resp"
)

// Message is one node-to-node message. It travels as the body of a
// Maelstrom message of type MessageType; From and To are the envelope's
// src and dest, set by the transport.
type Message struct {
	Type string `json:"type"` // always MessageType
	Kind Kind   `json:"kind"`
	From string `json:"-"`
	To   string `json:"-"`
	Term uint64 `json:"term"`
	// Index and LogTerm: for a vote, the candidate's last entry; for an
	// append, the entry the new ones follow; for a response, see the Kind.
	Index   uint64  `json:"index,omitempty"`
	LogTerm uint64  `json:"log_term,omitempty"`
	Entries []Entry `json:"entries,omitempty"`
	// Commit is the leader's commit index, capped at what the append
	// proves the follower holds.
	Commit uint64 `json:"commit,omitempty"`
	// Reject: a vote refused, or an append whose (Index, LogTerm) does not
	// match the follower's log.
	Reject bool `json:"reject,omitempty"`
	// Hint is a rejected append's retry point: the first index of the
	// follower's conflicting term, or its last index + 1 if its log is
	// shorter (so the leader skips a whole term per round trip).
	Hint uint64 `json:"hint,omitempty"`
	// Round is the leader's read-confirmation round, echoed by followers;
	// a read is safe once a majority has echoed a round begun after it.
	Round uint64 `json:"round,omitempty"`
}

// Entry is one log entry. Data is the state machine's command, any JSON
// (nil for the no-op a new leader appends to commit its term).
type Entry struct {
	Term  uint64          `json:"term"`
	Index uint64          `json:"index"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// HardState is what must be on stable storage before the step's Messages
// are sent, for a node that restarts (Maelstrom never crashes nodes, so the
// drivers here keep it in memory only).
type HardState struct {
	Term   uint64
	Vote   string
	Commit uint64
}

// Role is a node's part in the current term.
type Role int

const (
	Follower Role = iota
	PreCandidate
	Candidate
	Leader
)

func (r Role) String() string {
	switch r {
	case Follower:
		return "follower"
	case PreCandidate:
		return "pre-candidate"
	case Candidate:
		return "candidate"
	case Leader:
		return "leader"
	}
	return fmt.Sprintf("role(%d)", int(r))
}

// SoftState is the volatile part of a node's state that callers act on:
// who leads (empty: unknown) and this node's role.
type SoftState struct {
	Leader string
	Role   Role
	Term   uint64
}

// ReadState says that a read requested with Ctx is linearizable once the
// state machine has applied every entry through Index.
type ReadState struct {
	Ctx   uint64
	Index uint64
}

// Ready is everything one step asks of the caller, in this order: persist
// HardState (if not nil) and append Entries to stable storage (if it keeps
// any; Entries may overwrite a suffix, starting at Entries[0].Index), send
// Messages, apply Committed in order, serve ReadStates once applied
// through their Index, and call Tick at NextTick.
type Ready struct {
	// SoftState is set when the leader, role or term changed in this step.
	SoftState *SoftState
	// HardState is set when term, vote or commit changed in this step.
	HardState *HardState
	// Entries are entries appended to the log in this step.
	Entries []Entry
	// Messages are to be sent to their To.
	Messages []Message
	// Committed are newly committed entries, in log order, to apply.
	Committed []Entry
	// ReadStates are reads confirmed in this step.
	ReadStates []ReadState
	// DroppedReads are contexts of reads that can no longer be confirmed
	// here (leadership lost before confirmation); the caller should retry
	// them elsewhere or fail them: they were not served.
	DroppedReads []uint64
	// NextTick is when to call Tick; never zero once New has returned.
	NextTick time.Time
}

// ErrNotLeader is returned by Propose and ReadIndex on a node that is not
// the leader; Leader is the leader it knows of ("" if none).
type ErrNotLeader struct {
	Leader string
	Term   uint64
}

func (e *ErrNotLeader) Error() string {
	if e.Leader == "" {
		return fmt.Sprintf("not the leader, and no leader known in term %d", e.Term)
	}
	return fmt.Sprintf("not the leader; %s leads term %d", e.Leader, e.Term)
}

// ErrInvalidData is returned by Propose for data that is not JSON.
var ErrInvalidData = errors.New("raft: entry data is not valid JSON")

// ErrStaleTerm is returned by ReadIndexFor when the forwarding node's term
// is not this leader's, so its request proves nothing about the present.
var ErrStaleTerm = errors.New("raft: forwarded read from another term")
