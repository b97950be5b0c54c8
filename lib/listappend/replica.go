package listappend

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/glomers/glomers/lib/raft"
)

// The node-to-node message types a Replica sends and receives (besides
// raft.MessageType, Raft's own).
const (
	// TypeForward carries a transaction that appends from the node a
	// client gave it to the leader, which proposes it.
	TypeForward = "txn_forward"
	// TypeReadIndex asks the leader for a read index on behalf of a
	// read-only transaction at a follower.
	TypeReadIndex = "txn_read_index"
	// TypeReadIndexOK answers it: the index to apply through, or OK false.
	TypeReadIndexOK = "txn_read_index_ok"
)

// PeerTypes are every message type a Replica handles in Receive.
var PeerTypes = []string{raft.MessageType, TypeForward, TypeReadIndex, TypeReadIndexOK}

// Config holds a Replica's tunables.
type Config struct {
	// Raft is the consensus configuration (raft.DefaultConfig).
	Raft raft.Config
	// ForwardRetry is how long a transaction that appends waits to be
	// applied before this node hands it to the leader again (a forward or
	// a proposal lost with a leader). Apply-once makes resending safe.
	ForwardRetry time.Duration
	// NoLeader is how long a transaction that appends may wait for a
	// leader to be known. It is then answered with error 11: it never
	// left this node, so it certainly did not happen.
	NoLeader time.Duration
	// GiveUp is when a transaction that appends, sent but not applied, is
	// forgotten without an answer: its outcome is unknown, and Maelstrom's
	// client (5 s) has recorded it so. It may still commit later.
	GiveUp time.Duration
	// ReadTimeout is when a read-only transaction not yet served (no
	// leader known, or none confirmed an index) is answered with error 11:
	// it has no effects, so failing it is definite.
	ReadTimeout time.Duration
	// ApplyOnAppend is a deliberate bug, for the fixture
	// tools/fixtures/txn-apply-uncommitted only: apply entries as soon as
	// they are in this node's log instead of once committed. It breaks
	// strict serializability (an entry a new leader overwrites has been
	// applied and answered).
	ApplyOnAppend bool
}

// DefaultConfig is the configuration of node id in a cluster of peers.
func DefaultConfig(id string, peers []string) Config {
	return Config{
		Raft:         raft.DefaultConfig(id, peers),
		ForwardRetry: time.Second,
		NoLeader:     time.Second,
		GiveUp:       5 * time.Second,
		ReadTimeout:  time.Second,
	}
}

// Request is the caller's handle for a client request; Replies name it.
type Request uint64

// Reply answers a client request: the completed transaction, or an error
// (Code is a Maelstrom error code).
type Reply struct {
	Request Request
	Txn     Txn
	Code    int
	Text    string
}

// Outbound is a message to send; Body marshals to the message's body.
type Outbound struct {
	To   string
	Body any
}

// Ready is everything one step asks of the caller: send Messages, answer
// Replies, and call Tick at NextTick.
type Ready struct {
	Messages []Outbound
	Replies  []Reply
	NextTick time.Time
}

// Replica is one node of a strict-serializable list-append store: a Raft
// log whose entries are whole transactions, applied in log order to a
// Store on every node. A transaction that appends becomes one entry,
// proposed by the leader (a follower forwards it) and answered by the
// node the client asked, when that node applies it; each entry carries
// (origin node, id) and is applied once however often it was resent. A
// read-only transaction is served from the local Store after applying
// through a ReadIndex the leader confirmed, without a log entry.
//
// Like lib/raft it is a plain state machine: Submit, Receive and Tick
// each return one Ready; no goroutines, locks or clock. The caller
// serialises calls.
type Replica struct {
	cfg  Config
	self string
	raft *raft.Raft

	store   Store
	applied uint64                     // last raft index applied
	done    map[string]map[uint64]bool // apply-once: (origin, id) of every entry applied
	leader  string

	nextID  uint64
	nextCtx uint64
	writes  map[uint64]*pendingWrite // this node's transactions that append, by id
	reads   map[uint64]*pendingRead  // this node's read-only transactions, by ctx
	forRead map[uint64]forwardedRead // leader: read indexes asked for by followers, by our ctx
	waiting []uint64                 // ctxs of reads with an index, waiting to apply through it

	raftNext time.Time // Raft's latest Ready.NextTick
	out      []Outbound
	replies  []Reply
	// Stats counts what the node did, for logs.
	Stats Stats
}

// Stats are a Replica's counters.
type Stats struct {
	Proposed, Forwarded, Resent, Applied, Duplicates, ReadIndexes, Malformed int
}

type pendingWrite struct {
	req      Request
	txn      Txn
	sent     bool
	submitAt time.Time
	retryAt  time.Time
}

type pendingRead struct {
	req      Request
	txn      Txn
	deadline time.Time
	index    uint64
	hasIndex bool
}

type forwardedRead struct {
	peer string
	ctx  uint64
}

// entry is the data of a log entry.
type entry struct {
	Origin string `json:"origin"`
	ID     uint64 `json:"id"`
	Txn    Txn    `json:"txn"`
}

type forward struct {
	Type string `json:"type"`
	ID   uint64 `json:"id"`
	Txn  Txn    `json:"txn"`
}

type readIndexReq struct {
	Type string `json:"type"`
	Ctx  uint64 `json:"ctx"`
	Term uint64 `json:"term"`
}

type readIndexResp struct {
	Type  string `json:"type"`
	Ctx   uint64 `json:"ctx"`
	Index uint64 `json:"index,omitempty"`
	OK    bool   `json:"ok"`
}

// NewReplica makes node cfg.Raft.ID's replica; now starts its clocks.
func NewReplica(cfg Config, now time.Time) (*Replica, error) {
	if cfg.ForwardRetry <= 0 || cfg.NoLeader <= 0 || cfg.GiveUp <= 0 || cfg.ReadTimeout <= 0 {
		return nil, fmt.Errorf("listappend config: ForwardRetry, NoLeader, GiveUp and ReadTimeout must be positive")
	}
	r, err := raft.New(cfg.Raft, now)
	if err != nil {
		return nil, err
	}
	return &Replica{
		cfg:     cfg,
		self:    cfg.Raft.ID,
		raft:    r,
		done:    map[string]map[uint64]bool{},
		writes:  map[uint64]*pendingWrite{},
		reads:   map[uint64]*pendingRead{},
		forRead: map[uint64]forwardedRead{},
	}, nil
}

// Leader is the leader this node knows of ("" if none).
func (p *Replica) Leader() string { return p.raft.Leader() }

// Applied is the last log index applied to the store.
func (p *Replica) Applied() uint64 { return p.applied }

// Store is the replica's state (for tests; the caller must not change it).
func (p *Replica) Store() *Store { return &p.store }

// Raft is the consensus state (for tests and logs).
func (p *Replica) Raft() *raft.Raft { return p.raft }

// Submit takes a client's transaction; its Reply comes in this or a
// later Ready.
func (p *Replica) Submit(now time.Time, req Request, txn Txn) Ready {
	if txn.ReadOnly() {
		p.nextCtx++
		ctx := p.nextCtx
		p.reads[ctx] = &pendingRead{req: req, txn: txn, deadline: now.Add(p.cfg.ReadTimeout)}
		p.askReadIndex(now, ctx)
		return p.ready(now)
	}
	p.nextID++
	w := &pendingWrite{req: req, txn: txn, submitAt: now}
	p.writes[p.nextID] = w
	p.sendWrite(now, p.nextID, w)
	return p.ready(now)
}

// askReadIndex asks for ctx's read index: of raft if this node leads,
// else of the leader. With no leader known the read waits: a new leader
// makes absorb ask again, and ReadTimeout fails it. Asking again (a new
// leader, the old one silent) is safe: any index a leader confirmed after
// the read began will do, and the first answer wins.
func (p *Replica) askReadIndex(now time.Time, ctx uint64) {
	switch leader := p.raft.Leader(); {
	case leader == p.self:
		rd, err := p.raft.ReadIndex(now, ctx)
		p.absorb(now, rd)
		if err != nil {
			p.failRead(ctx, err.Error())
		}
	case leader != "":
		p.out = append(p.out, Outbound{To: leader, Body: readIndexReq{Type: TypeReadIndex, Ctx: ctx, Term: p.raft.Term()}})
	}
}

func (p *Replica) failRead(ctx uint64, why string) {
	r := p.reads[ctx]
	if r == nil {
		return
	}
	delete(p.reads, ctx)
	p.replies = append(p.replies, Reply{Request: r.req, Code: 11, Text: "read-only transaction not served: " + why})
}

// sendWrite hands a transaction that appends to the log: proposed here if
// this node leads, else forwarded to the leader. With no leader known it
// waits (Tick retries, and a new leader triggers a resend).
func (p *Replica) sendWrite(now time.Time, id uint64, w *pendingWrite) {
	leader := p.raft.Leader()
	switch {
	case leader == p.self:
		data, err := json.Marshal(entry{Origin: p.self, ID: id, Txn: w.txn})
		if err != nil {
			return // a Txn always marshals
		}
		rd, err := p.raft.Propose(now, data)
		p.absorb(now, rd)
		if err != nil {
			return
		}
		p.Stats.Proposed++
	case leader != "":
		p.out = append(p.out, Outbound{To: leader, Body: forward{Type: TypeForward, ID: id, Txn: w.txn}})
		p.Stats.Forwarded++
	default:
		return
	}
	if w.sent {
		p.Stats.Resent++
	}
	w.sent = true
	w.retryAt = now.Add(p.cfg.ForwardRetry)
}

// Receive handles a peer's message (any of PeerTypes). A malformed one is
// counted and dropped; peers get no error replies.
func (p *Replica) Receive(now time.Time, from string, body json.RawMessage) Ready {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		p.Stats.Malformed++
		return p.ready(now)
	}
	switch head.Type {
	case raft.MessageType:
		var m raft.Message
		if err := json.Unmarshal(body, &m); err != nil {
			p.Stats.Malformed++
			break
		}
		m.From, m.To = from, p.self
		p.absorb(now, p.raft.Step(now, m))
	case TypeForward:
		var f forward
		if err := json.Unmarshal(body, &f); err != nil || len(f.Txn) == 0 {
			p.Stats.Malformed++
			break
		}
		// Only the leader proposes; anyone else drops it, and the origin
		// resends to the leader it learns of.
		if p.raft.Leader() != p.self {
			break
		}
		data, err := json.Marshal(entry{Origin: from, ID: f.ID, Txn: f.Txn})
		if err != nil {
			break
		}
		rd, err := p.raft.Propose(now, data)
		p.absorb(now, rd)
		if err == nil {
			p.Stats.Proposed++
		}
	case TypeReadIndex:
		var q readIndexReq
		if err := json.Unmarshal(body, &q); err != nil {
			p.Stats.Malformed++
			break
		}
		p.nextCtx++
		ctx := p.nextCtx
		p.forRead[ctx] = forwardedRead{peer: from, ctx: q.Ctx}
		rd, err := p.raft.ReadIndexFor(now, ctx, from, q.Term)
		p.absorb(now, rd)
		if err != nil {
			delete(p.forRead, ctx)
			p.out = append(p.out, Outbound{To: from, Body: readIndexResp{Type: TypeReadIndexOK, Ctx: q.Ctx}})
		}
	case TypeReadIndexOK:
		var a readIndexResp
		if err := json.Unmarshal(body, &a); err != nil {
			p.Stats.Malformed++
			break
		}
		r := p.reads[a.Ctx]
		switch {
		case r == nil || r.hasIndex:
		case !a.OK:
			p.failRead(a.Ctx, "the leader could not confirm a read index")
		default:
			r.index, r.hasIndex = a.Index, true
			p.waiting = append(p.waiting, a.Ctx)
			p.serveReads()
		}
	default:
		p.Stats.Malformed++
	}
	return p.ready(now)
}

// Tick lets time pass: Raft's timers, and resends and timeouts of
// pending transactions.
func (p *Replica) Tick(now time.Time) Ready {
	p.absorb(now, p.raft.Tick(now))
	for id, w := range p.writes {
		switch {
		case !w.sent && !now.Before(w.submitAt.Add(p.cfg.NoLeader)):
			delete(p.writes, id)
			p.replies = append(p.replies, Reply{Request: w.req, Code: 11, Text: "no leader known; the transaction was not submitted"})
		case w.sent && !now.Before(w.submitAt.Add(p.cfg.GiveUp)):
			delete(p.writes, id) // outcome unknown: the client has timed out
		case !w.sent || !now.Before(w.retryAt):
			p.sendWrite(now, id, w)
		}
	}
	for ctx, r := range p.reads {
		if !now.Before(r.deadline) {
			p.failRead(ctx, "timed out")
		}
	}
	return p.ready(now)
}

// absorb acts on a Raft step: messages out, entries applied, reads
// confirmed or dropped, a new leader noticed.
func (p *Replica) absorb(now time.Time, rd raft.Ready) {
	if !rd.NextTick.IsZero() {
		p.raftNext = rd.NextTick
	}
	for _, m := range rd.Messages {
		p.out = append(p.out, Outbound{To: m.To, Body: m})
	}
	apply := rd.Committed
	if p.cfg.ApplyOnAppend {
		apply = rd.Entries
	}
	for _, e := range apply {
		p.apply(e)
	}
	for _, rs := range rd.ReadStates {
		if f, ok := p.forRead[rs.Ctx]; ok {
			delete(p.forRead, rs.Ctx)
			p.out = append(p.out, Outbound{To: f.peer, Body: readIndexResp{Type: TypeReadIndexOK, Ctx: f.ctx, Index: rs.Index, OK: true}})
			continue
		}
		if r := p.reads[rs.Ctx]; r != nil && !r.hasIndex {
			r.index, r.hasIndex = rs.Index, true
			p.waiting = append(p.waiting, rs.Ctx)
		}
	}
	for _, ctx := range rd.DroppedReads {
		if f, ok := p.forRead[ctx]; ok {
			delete(p.forRead, ctx)
			p.out = append(p.out, Outbound{To: f.peer, Body: readIndexResp{Type: TypeReadIndexOK, Ctx: f.ctx}})
			continue
		}
		p.failRead(ctx, "leadership lost before the read was confirmed")
	}
	p.serveReads()
	if leader := p.raft.Leader(); leader != p.leader {
		p.leader = leader
		if leader != "" {
			// A new leader: whatever this node sent to the old one may be
			// lost with it. Apply-once makes resending safe.
			for id, w := range p.writes {
				p.sendWrite(now, id, w)
			}
			for ctx, r := range p.reads {
				if !r.hasIndex {
					p.askReadIndex(now, ctx)
				}
			}
		}
	}
}

// apply runs one log entry's transaction, once per (origin, id), and
// answers it if this node's client asked.
func (p *Replica) apply(e raft.Entry) {
	if e.Index > p.applied {
		p.applied = e.Index
	}
	if len(e.Data) == 0 || string(e.Data) == "null" {
		return // a new leader's no-op
	}
	var en entry
	if err := json.Unmarshal(e.Data, &en); err != nil {
		p.Stats.Malformed++ // cannot happen: only Replicas propose
		return
	}
	if p.done[en.Origin] == nil {
		p.done[en.Origin] = map[uint64]bool{}
	}
	if p.done[en.Origin][en.ID] {
		p.Stats.Duplicates++
		return
	}
	p.done[en.Origin][en.ID] = true
	result := p.store.Apply(en.Txn)
	p.Stats.Applied++
	if en.Origin != p.self {
		return
	}
	if w := p.writes[en.ID]; w != nil {
		delete(p.writes, en.ID)
		p.replies = append(p.replies, Reply{Request: w.req, Txn: result})
	}
}

// serveReads answers the read-only transactions whose index has been
// applied.
func (p *Replica) serveReads() {
	kept := p.waiting[:0]
	for _, ctx := range p.waiting {
		r := p.reads[ctx]
		switch {
		case r == nil:
		case r.index <= p.applied:
			delete(p.reads, ctx)
			result, err := p.store.Read(r.txn)
			if err != nil {
				p.replies = append(p.replies, Reply{Request: r.req, Code: 13, Text: err.Error()})
				continue
			}
			p.Stats.ReadIndexes++
			p.replies = append(p.replies, Reply{Request: r.req, Txn: result})
		default:
			kept = append(kept, ctx)
		}
	}
	p.waiting = kept
}

// ready ends every step.
func (p *Replica) ready(now time.Time) Ready {
	rd := Ready{Messages: p.out, Replies: p.replies, NextTick: p.nextTick(now)}
	p.out, p.replies = nil, nil
	return rd
}

// nextTick is Raft's next tick, or earlier if a pending transaction's
// timer is due first.
func (p *Replica) nextTick(now time.Time) time.Time {
	next := p.raftNext
	earliest := func(x time.Time) {
		if next.IsZero() || x.Before(next) {
			next = x
		}
	}
	for _, w := range p.writes {
		switch {
		case !w.sent:
			earliest(w.submitAt.Add(p.cfg.NoLeader))
		default:
			earliest(w.retryAt)
		}
	}
	for _, r := range p.reads {
		earliest(r.deadline)
	}
	return next
}
