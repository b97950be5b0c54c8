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
// their handlers is not guaranteed. Handlers for requests that arrive
// before init wait until init (and the OnInit hook) has completed, so
// ID and NodeIDs are always set inside a handler.
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
// without a handler with error 10 (not-supported). Messages carrying
// in_reply_to are replies: they go to the RPC waiting for them, or, if
// none is waiting any more, are logged and dropped.
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

	handlers map[string]Handler
	initHook func(ctx context.Context) error
	tickers  []ticker

	idMu    sync.RWMutex
	id      string
	nodeIDs []string

	initOnce    sync.Once
	initStarted atomic.Bool   // set by the read loop when init arrives
	initDone    chan struct{} // closed once the OnInit hook is done and init answered

	outMu sync.Mutex // serialises writes so lines never interleave

	rpcMu     sync.Mutex
	pending   map[int]chan Message // msg_id → waiting RPC
	nextMsgID atomic.Int64

	ctx     context.Context // cancelled when stdin ends
	cancel  context.CancelFunc
	running sync.WaitGroup // handlers, ticks and Go goroutines
	started atomic.Bool
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
		handlers:        make(map[string]Handler),
		initDone:        make(chan struct{}),
		pending:         make(map[int]chan Message),
		ctx:             ctx,
		cancel:          cancel,
	}
}

// Handle registers the handler for requests of type typ. Registering a
// type twice, or "init" (use OnInit), is a programming error and panics.
func (n *Node) Handle(typ string, h Handler) {
	if typ == "init" {
		panic("node: use OnInit for init, the runtime answers init_ok itself")
	}
	if _, dup := n.handlers[typ]; dup {
		panic(fmt.Sprintf("node: duplicate handler for %q", typ))
	}
	n.handlers[typ] = h
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
	inReplyTo int
	isReply   bool // in_reply_to present, whatever its value
}

// parseHeader returns an error describing why the line cannot be answered
// at all; problems that can be answered (bad type) show up as typOK=false.
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
	if raw, ok := body["msg_id"]; ok {
		if err := json.Unmarshal(raw, &h.msgID); err != nil {
			return h, fmt.Errorf("msg_id %s is not an integer", raw)
		}
		h.hasMsgID = true
	}
	if raw, ok := body["in_reply_to"]; ok {
		if err := json.Unmarshal(raw, &h.inReplyTo); err != nil {
			return h, fmt.Errorf("in_reply_to %s is not an integer", raw)
		}
		h.isReply = true
	}
	if raw, ok := body["type"]; ok {
		h.typOK = json.Unmarshal(raw, &h.typ) == nil && h.typ != ""
	}
	return h, nil
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
	case !h.typOK:
		n.refuse(h, maelstrom.MalformedRequest, "body has no string type")
	case h.typ == "init":
		n.handleInit(h, msg)
	default:
		handler, ok := n.handlers[h.typ]
		if !ok {
			n.refuse(h, maelstrom.NotSupported, fmt.Sprintf("unsupported message type %q", h.typ))
			return
		}
		n.running.Add(1)
		go func() {
			defer n.running.Done()
			// Requests that arrived are served even if stdin has ended
			// since; only those waiting for an init that never came are
			// dropped at shutdown.
			select {
			case <-n.initDone:
			case <-n.ctx.Done():
				if !n.initStarted.Load() {
					return
				}
				<-n.initDone
			}
			n.serve(handler, h, msg)
		}()
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

func (n *Node) serve(handler Handler, h header, msg Message) {
	reply, err := func() (reply any, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("handler for %q panicked: %v", h.typ, p)
			}
		}()
		return handler(n.ctx, msg)
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
		n.idMu.Lock()
		n.id, n.nodeIDs = body.NodeID, body.NodeIDs
		n.idMu.Unlock()
		n.initStarted.Store(true)
	})
	if !first {
		// Maelstrom sends init once; a repeat changes nothing.
		n.Logger.Warn("ignoring repeated init", "node_id", body.NodeID)
		if h.hasMsgID {
			_ = n.reply(h.src, h.msgID, map[string]any{"type": "init_ok"})
		}
		return
	}
	// The hook runs off the read loop so that it may wait for replies.
	n.running.Add(1)
	go func() {
		defer n.running.Done()
		var err error
		if n.initHook != nil {
			err = n.initHook(n.ctx)
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
		close(n.initDone)
		for _, t := range n.tickers {
			n.startTicker(t)
		}
	}()
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
// arrives afterwards is dropped. RPC is safe to call from any goroutine.
func (n *Node) RPC(ctx context.Context, dest string, body any) (Message, error) {
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
	fields, err := bodyFields(body)
	if err != nil {
		return fmt.Errorf("reply to %s: %w", dest, err)
	}
	fields["in_reply_to"] = json.RawMessage(strconv.Itoa(inReplyTo))
	return n.write(dest, fields)
}

// sendError writes an error reply. It does not use RPCError's own
// MarshalJSON, which drops code 0.
func (n *Node) sendError(dest string, inReplyTo, code int, text string) error {
	return n.reply(dest, inReplyTo, map[string]any{"type": "error", "code": code, "text": text})
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
