// The node: its configuration, handler registration, accessors, the read
// loop and shutdown.

package node

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
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
	// DefaultMaxPerSource leaves room for at least three other sources
	// however one floods, yet is far above one client's share (Maelstrom's
	// clients have one request open each) and a peer's burst of gossip.
	DefaultMaxPerSource = 256
	// DefaultMaxQueuedBytes bounds what an in-order node's waiting
	// requests hold; real requests are bytes to kilobytes each.
	DefaultMaxQueuedBytes = 32 << 20
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
	// MaxInFlight caps the handlers running at once (InOrder: the requests
	// waiting to be served); a request beyond it is refused with error 11
	// (see Bounds in the package comment).
	MaxInFlight int
	// MaxBacklog caps the requests held until init; the excess is refused
	// with error 11.
	MaxBacklog int
	// MaxPerSource caps the requests from one source (a client or a peer)
	// that run or wait at once, so a flooding source leaves room for the
	// others; the excess is refused with error 11.
	MaxPerSource int
	// MaxQueuedBytes caps the bodies' bytes of an in-order node's requests
	// waiting to be served; the excess is refused with error 11.
	MaxQueuedBytes int
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
	// backlogBySrc counts backlog per source, against MaxPerSource.
	backlogBySrc map[string]int

	slots chan struct{} // one token per running handler; cap MaxInFlight
	// perSrcMu guards perSrc: the handlers running for each source (not
	// InOrder), against MaxPerSource.
	perSrcMu sync.Mutex
	perSrc   map[string]int
	// queue holds an in-order node's requests between the read loop and
	// the goroutine that serves them (queue.go); nil unless InOrder.
	queue   *fairQueue
	refused atomic.Int64 // requests refused for a limit, for rate-limited logs

	// output writes lines whole to Stdout (output.go); made on first use,
	// since Stdout may be set after New.
	outputOnce sync.Once
	output     *output

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
		MaxPerSource:    DefaultMaxPerSource,
		MaxQueuedBytes:  DefaultMaxQueuedBytes,
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

// out is the node's output to Stdout.
func (n *Node) out() *output {
	n.outputOnce.Do(func() { n.output = newOutput(n.Stdout) })
	return n.output
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
	if n.MaxInFlight <= 0 || n.MaxBacklog < 0 || n.MaxPerSource <= 0 || n.MaxQueuedBytes <= 0 {
		return fmt.Errorf("node: MaxInFlight, MaxPerSource and MaxQueuedBytes must be positive and MaxBacklog not negative (got %d, %d, %d, %d)",
			n.MaxInFlight, n.MaxPerSource, n.MaxQueuedBytes, n.MaxBacklog)
	}
	n.slots = make(chan struct{}, n.MaxInFlight)
	n.perSrc = map[string]int{}
	n.backlogBySrc = map[string]int{}
	n.inOrderCtx = context.WithValue(n.ctx, inOrderKey{}, true)
	if n.InOrder {
		n.queue = newFairQueue(n.MaxPerSource, n.MaxInFlight, n.MaxQueuedBytes)
		n.running.Add(1)
		go n.serveInOrder()
	}
	in := bufio.NewReaderSize(n.Stdin, 64<<10)
	var readErr error
	var scan envelopeScan
	for {
		line, tooLong, err := readLine(in, n.MaxLineBytes, &scan)
		if tooLong {
			n.Logger.Warn("skipping input line over the limit", "limit", n.MaxLineBytes)
			n.answerSalvaged(&scan, fmt.Sprintf("request longer than this node's limit of %d bytes", n.MaxLineBytes))
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
	if n.queue != nil {
		n.queue.close() // what waits is still served, as the backlog is
	}
	n.shutdown()
	return readErr
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
