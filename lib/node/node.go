// Package node is the runtime every challenge binary runs on: it reads
// Maelstrom messages from stdin, dispatches requests to handlers, routes
// replies to waiting RPCs and writes messages to stdout. It reuses the
// Maelstrom Go library's types (maelstrom.Message, maelstrom.RPCError and
// its error-code constants) but not its event loop, because that loop
// exits on an unknown message type or a line over 64 KiB, its SyncRPC
// leaks a callback (and a goroutine) whenever a reply never comes, and it
// treats an error reply with code 0 as success.
//
// # Usage
//
//	n := node.New()
//	n.Handle("echo", func(ctx context.Context, req node.Message) (any, error) {
//		var body struct{ Echo json.RawMessage `json:"echo"` }
//		if err := node.Decode(req, &body); err != nil {
//			return nil, err // replies error 12 malformed-request
//		}
//		return map[string]any{"type": "echo_ok", "echo": body.Echo}, nil
//	})
//	n.OnInit(func(ctx context.Context) error { /* n.ID(), n.NodeIDs() are set */ return nil })
//	n.Every(100*time.Millisecond, func(ctx context.Context) { /* gossip tick */ })
//	if err := n.Run(); err != nil { ... }
//
// Inside a handler or a tick, call another node or a service with
//
//	reply, err := n.RPC(ctx, "lin-kv", map[string]any{"type": "read", "key": "k"})
//
// which returns the reply message, or an error: *maelstrom.RPCError for a
// {"type":"error"} reply (whatever its code, 0 included), or one wrapping
// context.DeadlineExceeded when no reply came in time. Fire-and-forget
// messages go out with n.Send(dest, body).
//
// # Concurrency rule
//
// Every request runs its handler in a goroutine of its own, as in the
// Maelstrom library, so a handler may block on RPCs without stalling the
// node (a serial loop would deadlock two nodes that call each other).
// Handlers therefore run concurrently with each other and with Every
// ticks: keep protocol state in a plain type (lib/gossip, lib/idgen, …)
// guarded by one mutex in the challenge's wiring, and never hold that
// mutex across an RPC. The order in which consecutive messages reach
// their handlers is not guaranteed. Requests that arrive before init are
// held (without a goroutine each) until init and the OnInit hook have
// completed, so ID and NodeIDs are always set inside a handler.
//
// A node whose handlers never wait (no RPC: gossip, broadcast) sets
// InOrder instead: the read loop serves each request itself, in the
// order they arrived, before it reads the next line (init and the OnInit
// hook too). Then a message's effect is visible to every later message:
// a read delivered after a gossip message answers with the gossip's
// values. With a goroutine each, the read's handler may take the state's
// mutex first and answer without them, although the network delivered
// the gossip earlier. It is also cheaper: no goroutine and no hand-off
// per message, which matters when 25 nodes share two cores. RPC refuses
// a context from an in-order handler, since waiting there would stall
// every later message (and two nodes waiting on each other would
// deadlock until the timeout).
//
// # Bounds
//
// What one message can cost is bounded, so a flood cannot grow the node
// without limit. At most MaxInFlight handlers run at once and at most
// MaxBacklog requests wait for init; a request beyond either limit is
// answered at once with error 11 (temporarily-unavailable: it was not
// processed, so the sender may retry) or, without a msg_id, logged and
// dropped, as a lost message would be. Replies to RPCs never count
// against the limits: they are routed by the read loop itself, so
// handlers waiting on RPCs always get their answers.
//
// Inter-node message types are registered with HandlePeer: the runtime
// serves them only from the cluster's own nodes (init's node_ids) and
// refuses them from anyone else (clients, services) with error 10, so a
// client cannot inject replication or gossip.
//
// # Errors and replies
//
// A handler returns the reply body (any value that marshals to a JSON
// object; the runtime adds in_reply_to) or an error. A *maelstrom.RPCError
// anywhere in the error chain becomes an error reply with its code;
// an error wrapping context.DeadlineExceeded becomes code 0 (timeout);
// any other error becomes code 13 (crash). A nil body with a nil error
// sends nothing, which is what gossip and other fire-and-forget handlers
// want. A request without msg_id is never answered. A handler may also
// answer later, or more than once, with n.Reply.
//
// Input the runtime cannot use never stops the node: a line that is not
// a JSON object with a string src and an object body is logged and
// skipped (there is no one to answer); a body without a usable type is
// answered with error 12 (malformed-request) if it has a msg_id; a type
// without a handler with error 10 (not-supported). A msg_id that is not
// a JSON integer in int64's range (1.5, 2.0, 1e30, "9", null, 2^63) is
// answered with error 12 saying why, its in_reply_to echoing the msg_id
// as sent (null if that is over 64 bytes) so the sender can match it.
// Messages carrying in_reply_to are replies: they go to the RPC waiting
// for them, or, if none is waiting any more, are logged and dropped; one
// whose in_reply_to is not an integer is logged and skipped.
//
// # Shutdown
//
// When stdin ends, the node cancels the context given to handlers, ticks
// and RPCs (no reply can arrive any more), waits up to ShutdownTimeout for
// them to return, and Run returns nil.
package node

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"
)

// Message is a Maelstrom message with its body left as raw JSON; it is
// the library's type, so code written against the library reads the same.
type Message = maelstrom.Message

// Handler serves one request type. It returns the reply body (nil for no
// reply) or an error to send back as an error reply; see the package
// comment.
type Handler func(ctx context.Context, req Message) (reply any, err error)

// Defaults for the tunables of Node.
const (
	DefaultRPCTimeout      = time.Second
	DefaultShutdownTimeout = 2 * time.Second
	DefaultMaxLineBytes    = 64 << 20
	// DefaultMaxInFlight is far above what a challenge needs (a request's
	// handler is done in microseconds or waits on one RPC round, and
	// Maelstrom's clients have a handful of requests open) yet keeps a
	// flood to ~1024 goroutines, a few MB.
	DefaultMaxInFlight = 1024
	// DefaultMaxBacklog holds every request a well-behaved cluster sends
	// in the moments before its init arrives.
	DefaultMaxBacklog = 1024
)

// Node is one Maelstrom node process. Configure it (fields, Handle,
// OnInit, Every) before Run; the fields must not change afterwards.
type Node struct {
	// Stdin and Stdout carry the protocol; New sets them to the process's.
	Stdin  io.Reader
	Stdout io.Writer
	// Logger receives diagnostics; New logs to stderr. Stdout is reserved
	// for messages.
	Logger *slog.Logger
	// RPCTimeout bounds an RPC whose context has no deadline, so that a
	// reply lost to a partition cannot keep its entry forever.
	RPCTimeout time.Duration
	// ShutdownTimeout bounds the wait for handlers after stdin ends.
	ShutdownTimeout time.Duration
	// MaxLineBytes is the longest input line accepted; longer lines are
	// skipped and logged. Large gossip or state-transfer messages must fit.
	MaxLineBytes int
	// MaxInFlight caps the handlers running at once; a request beyond it
	// is refused with error 11 (see Bounds in the package comment).
	MaxInFlight int
	// MaxBacklog caps the requests held until init; the excess is refused
	// with error 11.
	MaxBacklog int
	// InOrder serves requests on the read loop, one at a time in arrival
	// order, instead of in a goroutine each (see the package comment).
	InOrder bool

	handlers map[string]route
	initHook func(ctx context.Context) error
	tickers  []ticker

	idMu    sync.RWMutex
	id      string
	nodeIDs []string
	members map[string]bool // nodeIDs as a set, for HandlePeer

	initOnce sync.Once

	// backlogMu guards ready and backlog: the read loop holds requests in
	// backlog until the init goroutine sets ready and takes them.
	backlogMu sync.Mutex
	ready     bool
	backlog   []request

	slots   chan struct{} // one token per running handler; cap MaxInFlight
	refused atomic.Int64  // requests refused for a limit, for rate-limited logs

	outMu sync.Mutex // serialises writes so lines never interleave

	rpcMu     sync.Mutex
	pending   map[int]chan Message // msg_id → waiting RPC
	nextMsgID atomic.Int64

	ctx context.Context // cancelled when stdin ends
	// inOrderCtx is ctx marked for RPC to refuse: what in-order handlers
	// and an in-order node's OnInit hook get. Set by Run, once.
	inOrderCtx context.Context
	cancel     context.CancelFunc
	running    sync.WaitGroup // handlers, ticks and Go goroutines
	started    atomic.Bool
}

type route struct {
	handler   Handler
	peersOnly bool
}

// request is a message on its way to its handler.
type request struct {
	route route
	h     header
	msg   Message
}

type ticker struct {
	interval time.Duration
	fn       func(ctx context.Context)
}

// New returns a node wired to the process's stdin, stdout and stderr.
func New() *Node {
	ctx, cancel := context.WithCancel(context.Background())
	return &Node{
		Stdin:           os.Stdin,
		Stdout:          os.Stdout,
		Logger:          slog.New(slog.NewTextHandler(os.Stderr, nil)),
		RPCTimeout:      DefaultRPCTimeout,
		ShutdownTimeout: DefaultShutdownTimeout,
		MaxLineBytes:    DefaultMaxLineBytes,
		MaxInFlight:     DefaultMaxInFlight,
		MaxBacklog:      DefaultMaxBacklog,
		handlers:        make(map[string]route),
		pending:         make(map[int]chan Message),
		ctx:             ctx,
		cancel:          cancel,
	}
}

// Handle registers the handler for requests of type typ. Registering a
// type twice, or "init" (use OnInit), is a programming error and panics.
func (n *Node) Handle(typ string, h Handler) { n.register(typ, route{handler: h}) }

// HandlePeer registers the handler for an inter-node message type
// (gossip, replication, forwarding). Only messages whose src is one of
// the cluster's nodes reach h; anyone else's are refused with error 10
// (not-supported), or logged and dropped without a msg_id.
func (n *Node) HandlePeer(typ string, h Handler) {
	n.register(typ, route{handler: h, peersOnly: true})
}

func (n *Node) register(typ string, r route) {
	if typ == "init" {
		panic("node: use OnInit for init, the runtime answers init_ok itself")
	}
	if _, dup := n.handlers[typ]; dup {
		panic(fmt.Sprintf("node: duplicate handler for %q", typ))
	}
	n.handlers[typ] = r
}

// OnInit registers a hook that runs after the node learns its id and
// before it answers init_ok. It should be quick (Maelstrom waits 10 s for
// init_ok) and should not call services, which may not be up yet. If it
// fails, init is answered with error 13 (crash).
func (n *Node) OnInit(fn func(ctx context.Context) error) { n.initHook = fn }

// Every runs fn every interval, starting after init, until shutdown. Runs
// of the same fn never overlap; a slow run delays the next tick.
func (n *Node) Every(interval time.Duration, fn func(ctx context.Context)) {
	if interval <= 0 {
		panic("node: Every needs a positive interval")
	}
	n.tickers = append(n.tickers, ticker{interval, fn})
}

// Go runs fn in a goroutine that shutdown waits for (like a handler); fn
// should return when ctx is done. Use it for retry loops outside handlers.
// Call it before Run or from a handler, hook or tick, never after Run has
// returned.
func (n *Node) Go(fn func(ctx context.Context)) {
	n.running.Add(1)
	go func() {
		defer n.running.Done()
		fn(n.ctx)
	}()
}

// ID is this node's id ("n0", …); empty until init.
func (n *Node) ID() string {
	n.idMu.RLock()
	defer n.idMu.RUnlock()
	return n.id
}

// NodeIDs lists every node in the cluster, this one included, in the same
// order on every node; nil until init. Callers must not modify it.
func (n *Node) NodeIDs() []string {
	n.idMu.RLock()
	defer n.idMu.RUnlock()
	return n.nodeIDs
}

// IsMember reports whether id is one of the cluster's nodes (this one
// included); false for everyone before init.
func (n *Node) IsMember(id string) bool {
	n.idMu.RLock()
	defer n.idMu.RUnlock()
	return n.members[id]
}

// InFlight is the number of handlers running now, and Backlog the number
// of requests held until init. Tests use them to show a flood stays
// within MaxInFlight and MaxBacklog.
func (n *Node) InFlight() int { return len(n.slots) }

// Backlog is the number of requests waiting for init.
func (n *Node) Backlog() int {
	n.backlogMu.Lock()
	defer n.backlogMu.Unlock()
	return len(n.backlog)
}

// PendingRPCs is the number of RPCs waiting for a reply. Tests use it to
// show that timeouts leave nothing behind.
func (n *Node) PendingRPCs() int {
	n.rpcMu.Lock()
	defer n.rpcMu.Unlock()
	return len(n.pending)
}

// Run reads and dispatches messages until stdin ends, then shuts down as
// described in the package comment. It returns nil at end of input and an
// error only if stdin fails.
func (n *Node) Run() error {
	if !n.started.CompareAndSwap(false, true) {
		return errors.New("node: Run called twice")
	}
	if n.MaxInFlight <= 0 || n.MaxBacklog < 0 {
		return fmt.Errorf("node: MaxInFlight must be positive and MaxBacklog not negative (got %d, %d)", n.MaxInFlight, n.MaxBacklog)
	}
	n.slots = make(chan struct{}, n.MaxInFlight)
	n.inOrderCtx = context.WithValue(n.ctx, inOrderKey{}, true)
	in := bufio.NewReaderSize(n.Stdin, 64<<10)
	var readErr error
	for {
		line, tooLong, err := readLine(in, n.MaxLineBytes)
		if tooLong {
			n.Logger.Warn("skipping input line over the limit", "limit", n.MaxLineBytes)
		} else if len(bytes.TrimSpace(line)) > 0 {
			n.dispatch(line)
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = fmt.Errorf("read stdin: %w", err)
			}
			break
		}
	}
	n.shutdown()
	return readErr
}

// readLine returns the next line without its newline. A line longer than
// max is consumed and reported as tooLong instead of being buffered.
func readLine(r *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	for {
		frag, err := r.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(frag) > max+1 { // +1: the newline itself
				tooLong, line = true, nil
			} else {
				line = append(line, frag...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimSuffix(line, []byte{'\n'}), tooLong, err
	}
}

func (n *Node) shutdown() {
	n.cancel()
	done := make(chan struct{})
	go func() {
		n.running.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(n.ShutdownTimeout):
		n.Logger.Warn("shutdown: handlers still running after timeout", "timeout", n.ShutdownTimeout)
	}
}

// header is what the runtime needs from an incoming message, parsed
// field by field so that one bad field does not hide the others (a body
// with a numeric type still has a msg_id we can answer).
type header struct {
	src, dest string
	body      json.RawMessage
	typ       string
	typOK     bool // type present and a string
	msgID     int
	hasMsgID  bool
	// badMsgID is a msg_id that is present but not an integer, kept as
	// sent so the error 12 that answers it can be matched by the sender;
	// badMsgIDWhy says what is wrong with it.
	badMsgID    json.RawMessage
	badMsgIDWhy string
	inReplyTo   int
	isReply     bool // in_reply_to present, whatever its value
}

// maxEchoedMsgID bounds the malformed msg_id echoed back as in_reply_to,
// so a huge one costs nothing to answer.
const maxEchoedMsgID = 64

// parseHeader returns an error describing why the line cannot be answered
// at all; problems that can be answered (bad type, bad msg_id) show up as
// typOK=false or badMsgID.
func parseHeader(line []byte) (header, error) {
	var h header
	var env map[string]json.RawMessage
	if err := json.Unmarshal(line, &env); err != nil || env == nil {
		return h, errors.New("not a JSON object")
	}
	if err := json.Unmarshal(env["src"], &h.src); err != nil || h.src == "" {
		return h, errors.New("no string src")
	}
	_ = json.Unmarshal(env["dest"], &h.dest) // informational only
	var body map[string]json.RawMessage
	if err := json.Unmarshal(env["body"], &body); err != nil || body == nil {
		return h, errors.New("body is not a JSON object")
	}
	h.body = env["body"]
	if raw, ok := body["in_reply_to"]; ok {
		id, err := parseMsgID(raw)
		if err != nil {
			return h, fmt.Errorf("in_reply_to %s: %w", truncate(raw), err)
		}
		h.inReplyTo, h.isReply = id, true
	}
	if raw, ok := body["msg_id"]; ok {
		id, err := parseMsgID(raw)
		if err != nil {
			h.badMsgID, h.badMsgIDWhy = raw, fmt.Sprintf("msg_id %s: %v", truncate(raw), err)
			if len(raw) > maxEchoedMsgID {
				h.badMsgID = json.RawMessage("null")
			}
		} else {
			h.msgID, h.hasMsgID = id, true
		}
	}
	if raw, ok := body["type"]; ok {
		h.typOK = json.Unmarshal(raw, &h.typ) == nil && h.typ != ""
	}
	return h, nil
}

// parseMsgID accepts a JSON integer literal in int64's range, and nothing
// else: json.Unmarshal into an int would take null as 0, and a float or a
// string holding digits is a client bug worth reporting, not guessing at.
func parseMsgID(raw json.RawMessage) (int, error) {
	text := string(bytes.TrimSpace(raw))
	switch {
	case text == "null":
		return 0, errors.New("is null, want an integer")
	case strings.HasPrefix(text, `"`):
		return 0, errors.New("is a string, want an integer")
	case text == "" || !strings.ContainsAny(text[:1], "-0123456789"):
		return 0, errors.New("is not an integer")
	case strings.ContainsAny(text, ".eE"):
		return 0, errors.New("has a fraction or exponent, want an integer")
	}
	id, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, errors.New("is out of the 64-bit integer range")
		}
		return 0, errors.New("is not an integer")
	}
	return int(id), nil
}

func (n *Node) dispatch(line []byte) {
	h, err := parseHeader(line)
	if err != nil {
		n.Logger.Warn("dropping unusable input line", "reason", err, "line", truncate(line))
		return
	}
	msg := Message{Src: h.src, Dest: h.dest, Body: h.body}
	switch {
	case h.isReply:
		n.deliverReply(h.inReplyTo, msg)
	case h.badMsgID != nil:
		n.Logger.Warn("refusing request", "src", h.src, "code", maelstrom.MalformedRequest, "reason", h.badMsgIDWhy)
		if err := n.replyRaw(h.src, h.badMsgID, errorBody(maelstrom.MalformedRequest, h.badMsgIDWhy)); err != nil {
			n.Logger.Error("send error reply", "err", err)
		}
	case !h.typOK:
		n.refuse(h, maelstrom.MalformedRequest, "body has no string type")
	case h.typ == "init":
		n.handleInit(h, msg)
	default:
		r, ok := n.handlers[h.typ]
		if !ok {
			n.refuse(h, maelstrom.NotSupported, fmt.Sprintf("unsupported message type %q", h.typ))
			return
		}
		n.admit(request{route: r, h: h, msg: msg})
	}
}

// admit holds req until init, or starts its handler, or, when the limit
// in the way is reached, refuses it; it never blocks the read loop.
func (n *Node) admit(req request) {
	n.backlogMu.Lock()
	if !n.ready {
		held := len(n.backlog) < n.MaxBacklog
		if held {
			n.backlog = append(n.backlog, req)
		}
		n.backlogMu.Unlock()
		if !held {
			n.refuseOverLimit(req.h, fmt.Sprintf("not initialised yet and %d requests already wait for init", n.MaxBacklog))
		}
		return
	}
	n.backlogMu.Unlock()
	n.start(req)
}

// start runs req's handler in a goroutine of its own if a slot is free,
// or, InOrder, right here on the read loop.
func (n *Node) start(req request) {
	if n.InOrder {
		n.serve(n.inOrderCtx, req)
		return
	}
	select {
	case n.slots <- struct{}{}:
	default:
		n.refuseOverLimit(req.h, fmt.Sprintf("%d requests already in progress", n.MaxInFlight))
		return
	}
	n.running.Add(1)
	go func() {
		defer n.running.Done()
		defer func() { <-n.slots }()
		n.serve(n.ctx, req)
	}()
}

// inOrderKey marks the context of an in-order handler, for RPC to refuse.
type inOrderKey struct{}

// refuseOverLimit answers a request a limit keeps out with error 11. A
// flood makes many of these, so only the first few and then every
// thousandth are logged.
func (n *Node) refuseOverLimit(h header, reason string) {
	if c := n.refused.Add(1); c <= 10 || c%1000 == 0 {
		n.Logger.Warn("refusing requests over a limit", "refused_so_far", c, "src", h.src, "type", h.typ, "reason", reason)
	}
	if !h.hasMsgID {
		return
	}
	if err := n.sendError(h.src, h.msgID, maelstrom.TemporarilyUnavailable, reason); err != nil {
		n.Logger.Error("send error reply", "err", err)
	}
}

// refuse answers a request the runtime cannot hand to a handler, or logs
// it when it has no msg_id to answer.
func (n *Node) refuse(h header, code int, text string) {
	if !h.hasMsgID {
		n.Logger.Warn("dropping request without msg_id", "src", h.src, "code", code, "reason", text)
		return
	}
	n.Logger.Warn("refusing request", "src", h.src, "msg_id", h.msgID, "code", code, "reason", text)
	if err := n.sendError(h.src, h.msgID, code, text); err != nil {
		n.Logger.Error("send error reply", "err", err)
	}
}

func (n *Node) serve(ctx context.Context, req request) {
	h, msg := req.h, req.msg
	if req.route.peersOnly && !n.IsMember(h.src) {
		n.refuse(h, maelstrom.NotSupported, fmt.Sprintf("%q is only accepted from the cluster's nodes, not from %q", h.typ, h.src))
		return
	}
	reply, err := func() (reply any, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("handler for %q panicked: %v", h.typ, p)
			}
		}()
		return req.route.handler(ctx, msg)
	}()
	if !h.hasMsgID {
		if err != nil {
			n.Logger.Warn("handler failed on request without msg_id", "type", h.typ, "src", h.src, "err", err)
		}
		return
	}
	if err != nil {
		code, text := maelstrom.Crash, err.Error()
		var rpcErr *maelstrom.RPCError
		switch {
		case errors.As(err, &rpcErr):
			code, text = rpcErr.Code, rpcErr.Text
		case errors.Is(err, context.DeadlineExceeded):
			// An RPC the handler depended on timed out: the outcome is
			// unknown, which is what code 0 says.
			code = maelstrom.Timeout
			n.Logger.Warn("handler timed out", "type", h.typ, "src", h.src, "err", err)
		default:
			n.Logger.Warn("handler failed", "type", h.typ, "src", h.src, "err", err)
		}
		if err := n.sendError(h.src, h.msgID, code, text); err != nil {
			n.Logger.Error("send error reply", "type", h.typ, "err", err)
		}
		return
	}
	if reply == nil {
		return
	}
	if err := n.reply(h.src, h.msgID, reply); err != nil {
		n.Logger.Error("send reply", "type", h.typ, "err", err)
	}
}

func (n *Node) handleInit(h header, msg Message) {
	var body maelstrom.InitMessageBody
	if err := json.Unmarshal(h.body, &body); err != nil || body.NodeID == "" {
		n.refuse(h, maelstrom.MalformedRequest, "init needs a string node_id and a node_ids list")
		return
	}
	first := false
	n.initOnce.Do(func() {
		first = true
		// Set the id before reading the next line, so every later
		// message's handler sees it.
		members := make(map[string]bool, len(body.NodeIDs)+1)
		for _, id := range body.NodeIDs {
			members[id] = true
		}
		members[body.NodeID] = true
		n.idMu.Lock()
		n.id, n.nodeIDs, n.members = body.NodeID, body.NodeIDs, members
		n.idMu.Unlock()
	})
	if !first {
		// Maelstrom sends init once; a repeat changes nothing.
		n.Logger.Warn("ignoring repeated init", "node_id", body.NodeID)
		if h.hasMsgID {
			_ = n.reply(h.src, h.msgID, map[string]any{"type": "init_ok"})
		}
		return
	}
	// The hook runs off the read loop so that it may wait for replies;
	// an in-order node's hook may not wait, and runs in order like the
	// rest, so the requests held for init are served before later ones.
	if n.InOrder {
		n.completeInit(n.inOrderCtx, h, body)
		return
	}
	n.running.Add(1)
	go func() {
		defer n.running.Done()
		n.completeInit(n.ctx, h, body)
	}()
}

// completeInit runs the OnInit hook, answers init and releases the
// requests held for it.
func (n *Node) completeInit(ctx context.Context, h header, body maelstrom.InitMessageBody) {
	var err error
	if n.initHook != nil {
		err = n.initHook(ctx)
	}
	// Answer first, then release waiting handlers, so init_ok is the
	// node's first message, as a reader of the transcript expects.
	if h.hasMsgID {
		if err != nil {
			n.Logger.Error("init hook failed", "err", err)
			err = n.sendError(h.src, h.msgID, maelstrom.Crash, fmt.Sprintf("init: %v", err))
		} else {
			n.Logger.Info("initialised", "node_id", body.NodeID, "nodes", len(body.NodeIDs))
			err = n.reply(h.src, h.msgID, map[string]any{"type": "init_ok"})
		}
		if err != nil {
			n.Logger.Error("answer init", "err", err)
		}
	}
	// Requests that arrived are served even if stdin has ended since;
	// only those held for an init that never came are dropped.
	n.backlogMu.Lock()
	held := n.backlog
	n.backlog, n.ready = nil, true
	n.backlogMu.Unlock()
	for _, req := range held {
		n.start(req)
	}
	for _, t := range n.tickers {
		n.startTicker(t)
	}
}

func (n *Node) startTicker(t ticker) {
	n.running.Add(1)
	go func() {
		defer n.running.Done()
		tick := time.NewTicker(t.interval)
		defer tick.Stop()
		for {
			select {
			case <-n.ctx.Done():
				return
			case <-tick.C:
				t.fn(n.ctx)
			}
		}
	}()
}

func (n *Node) deliverReply(inReplyTo int, msg Message) {
	n.rpcMu.Lock()
	ch, ok := n.pending[inReplyTo]
	delete(n.pending, inReplyTo)
	n.rpcMu.Unlock()
	if !ok {
		n.Logger.Debug("dropping reply nobody waits for (late or unknown)", "src", msg.Src, "in_reply_to", inReplyTo)
		return
	}
	ch <- msg // buffered for exactly this one message; never blocks
}

// RPC sends body (which must marshal to a JSON object; msg_id is added) to
// dest and waits for the reply. It returns the reply message, or:
//   - a *maelstrom.RPCError (wrapped) if the reply is {"type":"error"},
//     whatever the code — code 0 (timeout) is an error too;
//   - an error wrapping ctx.Err() if ctx ends first. If ctx has no
//     deadline, RPCTimeout applies (context.DeadlineExceeded).
//
// Either way the pending entry is gone when RPC returns; a reply that
// arrives afterwards is dropped. RPC is safe to call from any goroutine,
// but refuses the context of an in-order handler (Node.InOrder).
func (n *Node) RPC(ctx context.Context, dest string, body any) (Message, error) {
	if ctx.Value(inOrderKey{}) != nil {
		return Message{}, fmt.Errorf("rpc to %s from an in-order handler: waiting there would stall every later message (see Node.InOrder)", dest)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, n.RPCTimeout)
		defer cancel()
	}
	fields, err := bodyFields(body)
	if err != nil {
		return Message{}, fmt.Errorf("rpc to %s: %w", dest, err)
	}
	var typ string
	_ = json.Unmarshal(fields["type"], &typ) // for error messages only
	id := int(n.nextMsgID.Add(1))
	fields["msg_id"] = json.RawMessage(strconv.Itoa(id))

	ch := make(chan Message, 1)
	n.rpcMu.Lock()
	n.pending[id] = ch
	n.rpcMu.Unlock()
	forget := func() {
		n.rpcMu.Lock()
		delete(n.pending, id)
		n.rpcMu.Unlock()
	}

	if err := n.write(dest, fields); err != nil {
		forget()
		return Message{}, fmt.Errorf("rpc %s to %s: %w", typ, dest, err)
	}
	select {
	case reply := <-ch:
		if err := ReplyError(reply); err != nil {
			return reply, fmt.Errorf("rpc %s to %s: %w", typ, dest, err)
		}
		return reply, nil
	case <-ctx.Done():
		forget()
		return Message{}, fmt.Errorf("rpc %s to %s (msg_id %d): %w", typ, dest, id, ctx.Err())
	}
}

// Send sends body to dest without waiting for anything (no msg_id is
// added, so a well-behaved peer does not answer). Like RPC and Reply, it
// is meant for use after init: before it the node has no id to send from.
func (n *Node) Send(dest string, body any) error {
	fields, err := bodyFields(body)
	if err != nil {
		return fmt.Errorf("send to %s: %w", dest, err)
	}
	return n.write(dest, fields)
}

// Reply answers req with body (in_reply_to is added). Handlers usually
// just return the body; Reply is for answering later or from elsewhere.
func (n *Node) Reply(req Message, body any) error {
	var h struct {
		MsgID *int `json:"msg_id"`
	}
	if err := json.Unmarshal(req.Body, &h); err != nil || h.MsgID == nil {
		return fmt.Errorf("reply to %s: request has no msg_id", req.Src)
	}
	return n.reply(req.Src, *h.MsgID, body)
}

func (n *Node) reply(dest string, inReplyTo int, body any) error {
	return n.replyRaw(dest, json.RawMessage(strconv.Itoa(inReplyTo)), body)
}

// replyRaw is reply with in_reply_to as raw JSON, which lets a malformed
// msg_id be echoed as it came.
func (n *Node) replyRaw(dest string, inReplyTo json.RawMessage, body any) error {
	fields, err := bodyFields(body)
	if err != nil {
		return fmt.Errorf("reply to %s: %w", dest, err)
	}
	fields["in_reply_to"] = inReplyTo
	return n.write(dest, fields)
}

// sendError writes an error reply. It does not use RPCError's own
// MarshalJSON, which drops code 0.
func (n *Node) sendError(dest string, inReplyTo, code int, text string) error {
	return n.reply(dest, inReplyTo, errorBody(code, text))
}

func errorBody(code int, text string) map[string]any {
	return map[string]any{"type": "error", "code": code, "text": text}
}

func (n *Node) write(dest string, fields map[string]json.RawMessage) error {
	body, err := json.Marshal(fields)
	if err != nil {
		return fmt.Errorf("marshal body: %w", err)
	}
	line, err := json.Marshal(Message{Src: n.ID(), Dest: dest, Body: body})
	if err != nil {
		return fmt.Errorf("marshal message: %w", err)
	}
	line = append(line, '\n')
	n.outMu.Lock()
	defer n.outMu.Unlock()
	if _, err := n.Stdout.Write(line); err != nil {
		return fmt.Errorf("write stdout: %w", err)
	}
	return nil
}

// bodyFields marshals a body and splits it into its top-level fields, so
// the runtime can add msg_id or in_reply_to without re-encoding values
// (numbers stay exactly as the caller wrote them).
func bodyFields(body any) (map[string]json.RawMessage, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("marshal body: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, fmt.Errorf("body %s is not a JSON object", truncate(raw))
	}
	return fields, nil
}

// Decode unmarshals req's body into v. On failure it returns a
// *maelstrom.RPCError with code 12 (malformed-request), so a handler can
// return it as is.
func Decode(req Message, v any) error {
	if err := json.Unmarshal(req.Body, v); err != nil {
		return maelstrom.NewRPCError(maelstrom.MalformedRequest, fmt.Sprintf("decode %s body: %v", req.Type(), err))
	}
	return nil
}

// Errorf builds an error reply with a Maelstrom code (maelstrom.KeyDoesNotExist, …).
func Errorf(code int, format string, args ...any) *maelstrom.RPCError {
	return maelstrom.NewRPCError(code, fmt.Sprintf(format, args...))
}

// ReplyError returns the *maelstrom.RPCError carried by a {"type":"error"}
// reply, or nil for any other reply. Unlike Message.RPCError in the
// library, code 0 (timeout) counts as an error; an error body without a
// code is reported as 13 (crash).
func ReplyError(reply Message) error {
	var body struct {
		Type string `json:"type"`
		Code *int   `json:"code"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(reply.Body, &body); err != nil {
		return maelstrom.NewRPCError(maelstrom.Crash, fmt.Sprintf("unreadable reply: %v", err))
	}
	if body.Type != "error" {
		return nil
	}
	if body.Code == nil {
		return maelstrom.NewRPCError(maelstrom.Crash, "error reply without code: "+body.Text)
	}
	return maelstrom.NewRPCError(*body.Code, body.Text)
}

func truncate(b []byte) string {
	const max = 200
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
