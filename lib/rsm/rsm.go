// Package rsm runs a replicated state machine on lib/raft over lib/node: it
// is the wiring every Raft-backed challenge shares, so that a challenge's
// main.go only parses its requests and implements StateMachine.
//
// A client's update (Submit) becomes one log entry. On the leader it is
// proposed at once; a follower forwards it to the leader it knows. The
// leader answers when the entry is applied, with what StateMachine.Apply
// returned; the forwarding follower passes the answer on. A client's read
// (Read) takes no log entry: the leader confirms it with raft's ReadIndex
// (a follower forwards it, and its forward counts as one confirmation),
// then answers from its state machine once applied through the read's
// index. Error 11 (temporarily-unavailable) is only ever sent when the
// request certainly had no effect: no leader is known, the leader refused
// it, or its entry was replaced by another term's. A request whose fate is
// unknown (the leader fell silent) gets no answer, so the client times out
// and records it as indeterminate.
//
// Each entry carries the client's id and msg_id, and the driver keeps the
// answers of each client's recent requests: an entry applied twice (a
// duplicated forward) is applied once and answered from the table.
//
// Concurrency: the node serves messages in order (node.InOrder), one at a
// time; the raft state, the state machine and every table here are guarded
// by one mutex, shared with the timer that calls raft's Tick at each
// Ready.NextTick. Nothing blocks while holding it.
package rsm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

	"github.com/glomers/glomers/lib/node"
	"github.com/glomers/glomers/lib/raft"
)

// StateMachine is the application replicated by the log. Both methods run
// under the driver's mutex, one at a time, and must not block.
type StateMachine interface {
	// Apply executes a command taken from the log and returns the reply
	// body for the client, or a *maelstrom.RPCError for a definite failure
	// (error 20, 22, …). It must be deterministic: every replica applies
	// the same commands in the same order and must reach the same state.
	Apply(cmd json.RawMessage) (any, error)
	// Query answers a read-only request from the current state.
	Query(q json.RawMessage) (any, error)
}

// Message types between the cluster's nodes.
const (
	// ForwardType carries a client request from a follower to the leader.
	ForwardType = "rsm_forward"
	// AnswerType carries the leader's answer back.
	AnswerType = "rsm_answer"
)

// Options tunes the driver; zero values take the defaults.
type Options struct {
	// Raft makes the raft config; nil means raft.DefaultConfig.
	Raft func(id string, peers []string) raft.Config
	// ForwardTimeout is how long a follower keeps a forwarded request's
	// client waiting for the leader's answer before it forgets it (the
	// client times out on its own; the request's fate is unknown).
	ForwardTimeout time.Duration
	// LeaderWait is how long a request waits for a leader to be known
	// (during an election, or before the first) before it fails with
	// error 11. It is answered as soon as a leader takes it, so the wait
	// shows in the latencies, never in the answer.
	LeaderWait time.Duration
	// SessionWindow is how many recent answers are kept per client for
	// deduplication.
	SessionWindow int
}

func (o Options) withDefaults() Options {
	if o.Raft == nil {
		o.Raft = raft.DefaultConfig
	}
	if o.ForwardTimeout <= 0 {
		o.ForwardTimeout = 5 * time.Second
	}
	if o.LeaderWait <= 0 {
		o.LeaderWait = time.Second
	}
	if o.SessionWindow <= 0 {
		o.SessionWindow = 16
	}
	return o
}

// Server is the driver. Make it with New before the node runs.
type Server struct {
	n    *node.Node
	sm   StateMachine
	opts Options

	mu      sync.Mutex
	r       *raft.Raft
	timer   *time.Timer
	stopped bool

	nextID    uint64
	proposals map[uint64]proposal  // log index → the request waiting for it, on the leader that proposed it
	reads     map[uint64]readWait  // read ctx → the read waiting for confirmation
	confirmed []confirmedRead      // confirmed reads waiting for the state machine to catch up
	forwards  map[uint64]forwarded // forward id → the client request a follower forwarded
	waiting   []waitingRequest     // client requests waiting for a leader to be known
	sessions  map[string]*session  // client → its recent answers
	applied   uint64
}

// answerFn delivers a request's outcome: a reply body, or an error.
type answerFn func(body any, err error)

type proposal struct {
	term   uint64
	answer answerFn
}

type readWait struct {
	query  json.RawMessage
	answer answerFn
}

type confirmedRead struct {
	index uint64
	readWait
}

// waitingRequest is a client request held until a leader is known.
type waitingRequest struct {
	retry    func(now time.Time)
	answer   answerFn
	deadline time.Time
}

type forwarded struct {
	answer   answerFn
	deadline time.Time
}

// session holds a client's recent answers, by msg_id.
type session struct {
	answers map[int64]answer
	order   []int64
}

// answer is an outcome as stored and sent between nodes.
type answer struct {
	Body json.RawMessage `json:"body,omitempty"`
	Code int             `json:"code,omitempty"`
	Text string          `json:"text,omitempty"`
}

// entry is the data of one log entry.
type entry struct {
	Client string          `json:"client,omitempty"`
	MsgID  int64           `json:"msg_id,omitempty"`
	Cmd    json.RawMessage `json:"cmd"`
}

// forwardMsg is a client request forwarded to the leader.
type forwardMsg struct {
	Type   string          `json:"type"`
	ID     uint64          `json:"id"`
	Read   bool            `json:"read,omitempty"`
	Term   uint64          `json:"term,omitempty"` // the forwarder's raft term (reads)
	Client string          `json:"client"`
	MsgID  int64           `json:"msg_id_of_client"`
	Cmd    json.RawMessage `json:"cmd"`
}

type answerMsg struct {
	Type string `json:"type"`
	ID   uint64 `json:"id"`
	answer
}

// New wires a replicated state machine into n: raft's messages, forwarded
// requests and answers are registered as peer messages, and the raft node
// starts at init. n must not have handlers waiting on RPCs: New sets
// n.InOrder.
func New(n *node.Node, sm StateMachine, opts Options) *Server {
	s := &Server{
		n: n, sm: sm, opts: opts.withDefaults(),
		proposals: map[uint64]proposal{},
		reads:     map[uint64]readWait{},
		forwards:  map[uint64]forwarded{},
		sessions:  map[string]*session{},
	}
	n.InOrder = true
	n.OnInit(s.init)
	n.HandlePeer(raft.MessageType, s.handleRaft)
	n.HandlePeer(ForwardType, s.handleForward)
	n.HandlePeer(AnswerType, s.handleAnswer)
	return s
}

func (s *Server) init(context.Context) error {
	cfg := s.opts.Raft(s.n.ID(), s.n.NodeIDs())
	r, err := raft.New(cfg, time.Now())
	if err != nil {
		return fmt.Errorf("start raft: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.r = r
	s.timer = time.AfterFunc(time.Hour, s.tick)
	s.timer.Stop()
	s.n.Go(s.stopAtShutdown)
	s.schedule(time.Now(), raft.Ready{NextTick: time.Now().Add(cfg.ElectionTimeout)})
	return nil
}

// Submit handles a client's update request req whose command is cmd; the
// answer is sent later with node.Reply. The handler should return nil, nil.
func (s *Server) Submit(req node.Message, cmd json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.submit(time.Now(), req.Src, msgID(req), cmd, s.replyTo(req))
}

// Read handles a client's read-only request req with query q; the answer
// is sent later with node.Reply. The handler should return nil, nil.
func (s *Server) Read(req node.Message, q json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.read(time.Now(), q, "", 0, s.replyTo(req))
}

// replyTo answers a client's request directly.
func (s *Server) replyTo(req node.Message) answerFn {
	return func(body any, err error) {
		if err != nil {
			body = rpcError(err)
		}
		if e := s.n.Reply(req, body); e != nil {
			s.n.Logger.Error("reply", "to", req.Src, "err", e)
		}
	}
}

func rpcError(err error) *maelstrom.RPCError {
	var re *maelstrom.RPCError
	if errors.As(err, &re) {
		return re
	}
	return node.Errorf(maelstrom.Crash, "%v", err)
}

// unavailable is error 11: the request certainly had no effect.
func unavailable(format string, args ...any) error {
	return node.Errorf(maelstrom.TemporarilyUnavailable, format, args...)
}

func msgID(req node.Message) int64 {
	var b struct {
		MsgID int64 `json:"msg_id"`
	}
	_ = json.Unmarshal(req.Body, &b)
	return b.MsgID
}

// submit proposes on the leader or forwards to it. Caller holds mu.
func (s *Server) submit(now time.Time, client string, id int64, cmd json.RawMessage, ans answerFn) {
	if s.r == nil {
		ans(nil, unavailable("not initialised"))
		return
	}
	e := entry{Client: client, MsgID: id, Cmd: cmd}
	if id <= 0 {
		// Without a msg_id there is nothing to tell a retry from a new
		// request by (and no answer to give): never deduplicated.
		e.Client, e.MsgID = "", 0
	}
	data, err := json.Marshal(e)
	if err != nil {
		ans(nil, node.Errorf(maelstrom.MalformedRequest, "command: %v", err))
		return
	}
	rd, err := s.r.Propose(now, data)
	var nl *raft.ErrNotLeader
	switch {
	case errors.As(err, &nl) && nl.Leader == "":
		s.wait(now, func(now time.Time) { s.submit(now, client, id, cmd, ans) }, ans)
	case errors.As(err, &nl):
		s.forward(now, nl.Leader, forwardMsg{Client: client, MsgID: id, Cmd: cmd}, ans)
	case err != nil:
		ans(nil, node.Errorf(maelstrom.MalformedRequest, "%v", err))
	default:
		idx := rd.Entries[len(rd.Entries)-1].Index
		s.proposals[idx] = proposal{term: s.r.Term(), answer: ans}
	}
	s.process(now, rd)
}

// read starts a linearizable read here (leader) or forwards it. forwarder
// and term are set when the read came from a follower. Caller holds mu.
func (s *Server) read(now time.Time, q json.RawMessage, forwarder string, term uint64, ans answerFn) {
	if s.r == nil {
		ans(nil, unavailable("not initialised"))
		return
	}
	s.nextID++
	ctx := s.nextID
	var rd raft.Ready
	var err error
	if forwarder != "" {
		rd, err = s.r.ReadIndexFor(now, ctx, forwarder, term)
	} else {
		rd, err = s.r.ReadIndex(now, ctx)
	}
	var nl *raft.ErrNotLeader
	switch {
	case errors.As(err, &nl) && forwarder == "" && nl.Leader == "":
		s.wait(now, func(now time.Time) { s.read(now, q, "", 0, ans) }, ans)
	case errors.As(err, &nl) && forwarder == "":
		s.forward(now, nl.Leader, forwardMsg{Read: true, Term: s.r.Term(), Cmd: q}, ans)
	case err != nil:
		ans(nil, unavailable("read refused: %v", err))
	default:
		s.reads[ctx] = readWait{query: q, answer: ans}
	}
	s.process(now, rd)
}

// wait holds a client request until a leader is known. Caller holds mu.
func (s *Server) wait(now time.Time, retry func(time.Time), ans answerFn) {
	s.waiting = append(s.waiting, waitingRequest{retry: retry, answer: ans, deadline: now.Add(s.opts.LeaderWait)})
}

// retryWaiting hands the held requests to the leader now known, and fails
// those that waited too long. Caller holds mu.
func (s *Server) retryWaiting(now time.Time) {
	if len(s.waiting) == 0 {
		return
	}
	w := s.waiting
	s.waiting = nil
	for _, req := range w {
		switch {
		case s.r.Leader() != "":
			req.retry(now)
		case now.After(req.deadline):
			req.answer(nil, unavailable("no leader known"))
		default:
			s.waiting = append(s.waiting, req)
		}
	}
}

// forward sends a request to the leader; ans gets its answer. Caller
// holds mu.
func (s *Server) forward(now time.Time, leader string, m forwardMsg, ans answerFn) {
	if leader == "" {
		ans(nil, unavailable("no leader known"))
		return
	}
	s.nextID++
	m.Type, m.ID = ForwardType, s.nextID
	s.forwards[m.ID] = forwarded{answer: ans, deadline: now.Add(s.opts.ForwardTimeout)}
	if err := s.n.Send(leader, m); err != nil {
		s.n.Logger.Error("forward", "to", leader, "err", err)
	}
}

// handleForward serves a request a follower forwarded to this node.
func (s *Server) handleForward(_ context.Context, req node.Message) (any, error) {
	var m forwardMsg
	if err := json.Unmarshal(req.Body, &m); err != nil {
		s.n.Logger.Warn("dropping malformed forward", "src", req.Src, "err", err)
		return nil, nil
	}
	ans := func(body any, err error) {
		out := answerMsg{Type: AnswerType, ID: m.ID, answer: toAnswer(body, err)}
		if e := s.n.Send(req.Src, out); e != nil {
			s.n.Logger.Error("answer forward", "to", req.Src, "err", e)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.r != nil && s.r.Role() != raft.Leader {
		// Forwarded once only: a second hop could loop between nodes
		// with different views. Nothing was proposed, so 11 is definite.
		ans(nil, unavailable("not the leader (leader %q)", s.r.Leader()))
		return nil, nil
	}
	if m.Read {
		s.read(now, m.Cmd, req.Src, m.Term, ans)
	} else {
		s.submit(now, m.Client, m.MsgID, m.Cmd, ans)
	}
	return nil, nil
}

func toAnswer(body any, err error) answer {
	if err != nil {
		re := rpcError(err)
		return answer{Code: re.Code, Text: re.Text}
	}
	b, e := json.Marshal(body)
	if e != nil {
		return answer{Code: maelstrom.Crash, Text: fmt.Sprintf("encode reply: %v", e)}
	}
	return answer{Body: b}
}

func (a answer) deliver(ans answerFn) {
	if a.Code != 0 || a.Body == nil {
		code := a.Code
		if code == 0 {
			code = maelstrom.Crash
		}
		ans(nil, node.Errorf(code, "%s", a.Text))
		return
	}
	ans(a.Body, nil)
}

// handleAnswer passes the leader's answer to the waiting client.
func (s *Server) handleAnswer(_ context.Context, req node.Message) (any, error) {
	var m answerMsg
	if err := json.Unmarshal(req.Body, &m); err != nil {
		s.n.Logger.Warn("dropping malformed answer", "src", req.Src, "err", err)
		return nil, nil
	}
	s.mu.Lock()
	f, ok := s.forwards[m.ID]
	delete(s.forwards, m.ID)
	s.mu.Unlock()
	if ok {
		m.answer.deliver(f.answer)
	}
	return nil, nil
}

// handleRaft steps raft with a peer's message.
func (s *Server) handleRaft(_ context.Context, req node.Message) (any, error) {
	var m raft.Message
	if err := json.Unmarshal(req.Body, &m); err != nil {
		s.n.Logger.Warn("dropping malformed raft message", "src", req.Src, "err", err)
		return nil, nil
	}
	m.From, m.To = req.Src, s.n.ID()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.r == nil {
		return nil, nil
	}
	now := time.Now()
	s.process(now, s.r.Step(now, m))
	return nil, nil
}

func (s *Server) tick() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.r == nil || s.stopped {
		return
	}
	now := time.Now()
	for id, f := range s.forwards {
		if now.After(f.deadline) {
			delete(s.forwards, id) // fate unknown: no answer, the client times out
		}
	}
	s.retryWaiting(now)
	s.process(now, s.r.Tick(now))
}

// process carries out a Ready, in raft's order: send, apply, serve reads,
// schedule the next tick. Caller holds mu.
func (s *Server) process(now time.Time, rd raft.Ready) {
	for _, m := range rd.Messages {
		if err := s.n.Send(m.To, m); err != nil {
			s.n.Logger.Error("send raft message", "to", m.To, "err", err)
		}
	}
	if rd.SoftState != nil {
		s.n.Logger.Info("raft state", "role", rd.SoftState.Role.String(), "term", rd.SoftState.Term, "leader", rd.SoftState.Leader)
	}
	for _, e := range rd.Committed {
		s.apply(e)
	}
	for _, rs := range rd.ReadStates {
		if w, ok := s.reads[rs.Ctx]; ok {
			delete(s.reads, rs.Ctx)
			s.confirmed = append(s.confirmed, confirmedRead{index: rs.Index, readWait: w})
		}
	}
	for _, ctx := range rd.DroppedReads {
		if w, ok := s.reads[ctx]; ok {
			delete(s.reads, ctx)
			w.answer(nil, unavailable("leadership lost before the read was confirmed"))
		}
	}
	s.serveReads()
	if rd.SoftState != nil {
		s.retryWaiting(now)
	}
	s.schedule(now, rd)
}

// apply runs one committed entry through the state machine (once per
// client request) and answers the request if it was proposed here.
func (s *Server) apply(e raft.Entry) {
	s.applied = e.Index
	var out answer
	if e.Data != nil {
		var en entry
		if err := json.Unmarshal(e.Data, &en); err != nil {
			out = answer{Code: maelstrom.Crash, Text: fmt.Sprintf("undecodable entry %d: %v", e.Index, err)}
		} else {
			out = s.applyOnce(en)
		}
	}
	p, ok := s.proposals[e.Index]
	if !ok {
		return
	}
	delete(s.proposals, e.Index)
	if p.term != e.Term {
		// Another leader's entry took the index: ours was never applied
		// and can no longer be (it was never proposed elsewhere).
		p.answer(nil, unavailable("leader changed before the request committed"))
		return
	}
	out.deliver(p.answer)
}

// applyOnce applies a client's command unless the same request was
// applied before, in which case it returns the first answer.
func (s *Server) applyOnce(en entry) answer {
	var ses *session
	if en.Client != "" {
		ses = s.sessions[en.Client]
		if ses == nil {
			ses = &session{answers: map[int64]answer{}}
			s.sessions[en.Client] = ses
		}
		if a, ok := ses.answers[en.MsgID]; ok {
			return a
		}
	}
	a := toAnswer(s.sm.Apply(en.Cmd))
	if ses != nil {
		ses.answers[en.MsgID] = a
		ses.order = append(ses.order, en.MsgID)
		if len(ses.order) > s.opts.SessionWindow {
			delete(ses.answers, ses.order[0])
			ses.order = ses.order[1:]
		}
	}
	return a
}

// serveReads answers the confirmed reads whose index has been applied.
func (s *Server) serveReads() {
	kept := s.confirmed[:0]
	for _, c := range s.confirmed {
		if c.index > s.applied {
			kept = append(kept, c)
			continue
		}
		c.answer(s.sm.Query(c.query))
	}
	s.confirmed = kept
}

// schedule resets the timer to the Ready's NextTick. Caller holds mu.
func (s *Server) schedule(now time.Time, rd raft.Ready) {
	if s.stopped || rd.NextTick.IsZero() {
		return
	}
	s.timer.Reset(max(rd.NextTick.Sub(now), 0))
}

func (s *Server) stopAtShutdown(ctx context.Context) {
	<-ctx.Done()
	s.mu.Lock()
	s.stopped = true
	s.timer.Stop()
	s.mu.Unlock()
}

// Status is raft's status, for logs and tests.
func (s *Server) Status() raft.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.r == nil {
		return raft.Status{}
	}
	return s.r.Status()
}
