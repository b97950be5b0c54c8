// Package network is the workbench's simulated network, modelled on
// Maelstrom's (src/maelstrom/net.clj): every member (server node, client,
// service) has an inbox ordered by delivery deadline; a send draws a
// latency in whole milliseconds (none when either end is a client). Each
// member's receiver takes the head of its inbox as soon as there is one,
// drops it if a partition "grudge" separates its source from the member at
// that moment, and otherwise waits for its deadline before delivering it —
// so messages behind it wait too, including zero-latency client requests.
// Every send and every delivery is journaled, for the :net statistics and
// the Lamport diagram.
package network

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// Message is one message on the network. ID is the network's own counter
// (from 0, shared by all senders); Maelstrom adds it to every delivered
// message as a top-level "id".
type Message struct {
	ID   int64           `json:"id"`
	Src  string          `json:"src"`
	Dest string          `json:"dest"`
	Body json.RawMessage `json:"body"`
}

// Delivery models: when an inbox hands over what it holds.
const (
	// Maelstrom delivers as Maelstrom's recv! does (see Inbox.recvMaelstrom).
	Maelstrom = "maelstrom"
	// Ideal delivers every message exactly at its deadline.
	Ideal = "ideal"
)

// Latency distributions a send draws from (Config.Dist).
const (
	Constant    = "constant"
	Uniform     = "uniform"
	Exponential = "exponential"
)

// Config configures a Network.
type Config struct {
	// Latency is the mean latency of messages between non-clients.
	Latency time.Duration
	// Dist is constant, uniform or exponential ("" means constant).
	Dist string
	// Delivery is Maelstrom (or "") or Ideal.
	Delivery string
	// Rand draws latencies; nil means a time-seeded source. It is only
	// used under the network's lock.
	Rand *rand.Rand
	// Start is the origin of journal times (normally the test's start);
	// zero means the time New is called.
	Start time.Time
	// Logger receives dropped-message warnings and, with LogSend/LogRecv,
	// a line per send/delivery. nil: slog.Default().
	Logger  *slog.Logger
	LogSend bool
	LogRecv bool
	// Journal, if set, receives every event (store.JournalFile writes
	// them to the run directory) and the network keeps none in memory;
	// nil keeps them for Journal().
	Journal Journal
}

// Journal receives every send and delivery, in journal order: the network
// calls Add under its own lock.
type Journal interface{ Add(Event) }

// ErrNoMeanLatency is Validate's error for an exponential distribution
// without a positive mean.
var ErrNoMeanLatency = errors.New("an exponential latency distribution needs a positive mean latency")

// Validate reports a configuration Maelstrom cannot run with.
func (c Config) Validate() error {
	switch c.Dist {
	case "", Constant, Uniform:
	case Exponential:
		if c.Latency <= 0 {
			return ErrNoMeanLatency
		}
	default:
		return fmt.Errorf("unknown latency distribution %q (known: constant, uniform, exponential)", c.Dist)
	}
	switch c.Delivery {
	case "", Maelstrom, Ideal:
	default:
		return fmt.Errorf("unknown delivery model %q (known: maelstrom, ideal)", c.Delivery)
	}
	if c.Latency < 0 {
		return fmt.Errorf("latency %v is negative", c.Latency)
	}
	return nil
}

// EventKind says whether a journal event is a send or a delivery.
type EventKind string

const (
	Send EventKind = "send"
	Recv EventKind = "recv"
)

// Event is one journal entry. Time is measured from Config.Start.
type Event struct {
	Kind EventKind     `json:"kind"`
	Time time.Duration `json:"time"`
	Msg  Message       `json:"msg"`
}

// ErrClosed is returned by Inbox.Recv once its member has left the network.
var ErrClosed = errors.New("inbox closed")

// Network is the simulated network. It is safe for concurrent use.
type Network struct {
	cfg   Config
	log   *slog.Logger
	start time.Time

	mu      sync.Mutex
	rng     *rand.Rand // guarded by mu
	nextID  int64
	inboxes map[string]*Inbox
	grudge  map[string]map[string]bool // dest -> sources it drops
	journal []Event
}

// New makes an empty network.
func New(cfg Config) *Network {
	if cfg.Dist == "" {
		cfg.Dist = Constant
	}
	if cfg.Delivery == "" {
		cfg.Delivery = Maelstrom
	}
	rng := cfg.Rand
	if rng == nil {
		rng = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	}
	start := cfg.Start
	if start.IsZero() {
		start = time.Now()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Network{cfg: cfg, log: log, start: start, rng: rng, inboxes: map[string]*Inbox{}}
}

// IsClient reports whether id names a Maelstrom client: purely whether it
// starts with "c", as Maelstrom decides it.
func IsClient(id string) bool { return strings.HasPrefix(id, "c") }

// Join registers id and returns its inbox. Joining an id that is already
// present replaces its inbox (the old one is closed).
func (n *Network) Join(id string) *Inbox {
	in := &Inbox{net: n, id: id, wake: make(chan struct{}, 1)}
	n.mu.Lock()
	old := n.inboxes[id]
	n.inboxes[id] = in
	n.mu.Unlock()
	if old != nil {
		old.close()
	}
	return in
}

// Leave removes id; messages queued for it are discarded and later sends
// to it fail.
func (n *Network) Leave(id string) {
	n.mu.Lock()
	in := n.inboxes[id]
	delete(n.inboxes, id)
	n.mu.Unlock()
	if in != nil {
		in.close()
	}
}

// Members returns the ids currently registered.
func (n *Network) Members() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	ids := make([]string, 0, len(n.inboxes))
	for id := range n.inboxes {
		ids = append(ids, id)
	}
	return ids
}

// SetGrudge replaces the partition: grudge[dest][src] means dest drops
// whatever src sent it. nil heals. The grudge is consulted at delivery
// time, so it also drops messages already in flight.
func (n *Network) SetGrudge(grudge map[string]map[string]bool) {
	cp := make(map[string]map[string]bool, len(grudge))
	for dest, srcs := range grudge {
		m := make(map[string]bool, len(srcs))
		for s, drop := range srcs {
			if drop {
				m[s] = true
			}
		}
		cp[dest] = m
	}
	n.mu.Lock()
	n.grudge = cp
	n.mu.Unlock()
}

// Send puts a message on the network and returns its id. Both ends must be
// registered; otherwise the message is dropped (and not journaled) and an
// error names the missing end — e.g. a node replying to a client that has
// already been closed. A rejected message still uses up an id, because
// Maelstrom's send! numbers the message before validating it.
func (n *Network) Send(src, dest string, body json.RawMessage) (int64, error) {
	n.mu.Lock()
	id := n.nextID
	n.nextID++
	if _, ok := n.inboxes[src]; !ok {
		n.mu.Unlock()
		return 0, fmt.Errorf("send %s -> %s: unknown source %q", src, dest, src)
	}
	in, ok := n.inboxes[dest]
	if !ok {
		n.mu.Unlock()
		return 0, fmt.Errorf("send %s -> %s: unknown destination %q", src, dest, dest)
	}
	now := time.Now()
	msg := Message{ID: id, Src: src, Dest: dest, Body: body}
	n.record(Event{Kind: Send, Time: now.Sub(n.start), Msg: msg})
	deadline := now.Add(n.latencyLocked(src, dest))
	n.mu.Unlock()

	if n.cfg.LogSend {
		n.log.Info("send", "id", id, "src", src, "dest", dest, "body", string(body))
	}
	in.push(pending{msg: msg, deadline: deadline})
	return id, nil
}

// latencyLocked draws one message's latency. n.mu must be held.
func (n *Network) latencyLocked(src, dest string) time.Duration {
	if IsClient(src) || IsClient(dest) || n.cfg.Latency <= 0 {
		return 0
	}
	mean := float64(n.cfg.Latency) / float64(time.Millisecond)
	var ms float64
	switch n.cfg.Dist {
	case Uniform:
		// An integer number of ms in [0, 2m), as Maelstrom draws it.
		ms = math.Floor(n.rng.Float64() * 2 * mean)
	case Exponential:
		ms = n.rng.ExpFloat64() * mean
	default:
		ms = mean
	}
	// Maelstrom's latency-for truncates every draw to whole milliseconds.
	return time.Duration(math.Trunc(ms)) * time.Millisecond
}

// partitioned reports whether the partition in force now drops msg.
func (n *Network) partitioned(msg Message) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.grudge[msg.Dest][msg.Src]
}

// journalRecv records msg's delivery.
func (n *Network) journalRecv(msg Message) {
	n.mu.Lock()
	n.record(Event{Kind: Recv, Time: time.Since(n.start), Msg: msg})
	n.mu.Unlock()
	if n.cfg.LogRecv {
		n.log.Info("recv", "id", msg.ID, "src", msg.Src, "dest", msg.Dest, "body", string(msg.Body))
	}
}

// Journal returns a copy of every send and delivery so far, in order.
func (n *Network) Journal() []Event {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Event(nil), n.journal...)
}

// pending is a queued message with its delivery deadline.
type pending struct {
	msg      Message
	deadline time.Time
}

type queue []pending

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if !q[i].deadline.Equal(q[j].deadline) {
		return q[i].deadline.Before(q[j].deadline)
	}
	return q[i].msg.ID < q[j].msg.ID // stable among equal deadlines
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(pending)) }
func (q *queue) Pop() any {
	old := *q
	p := old[len(old)-1]
	*q = old[:len(old)-1]
	return p
}

// Inbox is one member's queue of messages, ordered by delivery deadline.
// One goroutine should call Recv: delivery to a member is serial, as in
// Maelstrom, where one thread per member receives and writes.
type Inbox struct {
	net  *Network
	id   string
	wake chan struct{} // signalled on push and close

	mu     sync.Mutex
	q      queue
	closed bool
}

// ID is the member this inbox belongs to.
func (in *Inbox) ID() string { return in.id }

func (in *Inbox) push(p pending) {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return
	}
	heap.Push(&in.q, p)
	in.mu.Unlock()
	in.signal()
}

func (in *Inbox) signal() {
	select {
	case in.wake <- struct{}{}:
	default:
	}
}

func (in *Inbox) close() {
	in.mu.Lock()
	in.closed = true
	in.q = nil
	in.mu.Unlock()
	in.signal()
}

// Recv blocks until the next message is delivered and returns it. It
// returns ErrClosed after the member has left, or ctx's error.
func (in *Inbox) Recv(ctx context.Context) (Message, error) {
	if in.net.cfg.Delivery == Ideal {
		return in.recvIdeal(ctx)
	}
	return in.recvMaelstrom(ctx)
}

// recvMaelstrom is Maelstrom's recv!: as soon as the queue holds anything,
// take its earliest-deadline message, due or not; drop it if the partition
// in force now separates its source from this member; otherwise sleep
// until its deadline and deliver it. A message that arrives during the
// sleep waits behind it even if it is due earlier — a client request
// (zero latency) queues behind an inter-node message taken a moment
// before — and the messages that fell due meanwhile then go out back to
// back.
func (in *Inbox) recvMaelstrom(ctx context.Context) (Message, error) {
	for {
		p, err := in.takeHead(ctx)
		if err != nil {
			return Message{}, err
		}
		if in.net.partitioned(p.msg) {
			continue
		}
		// Maelstrom sleeps (long dt) whole milliseconds: a message can go
		// out up to 1 ms before its deadline, never later than the sleep.
		if d := time.Until(p.deadline).Truncate(time.Millisecond); d > 0 {
			if err := in.sleep(ctx, d); err != nil {
				return Message{}, err
			}
		}
		in.net.journalRecv(p.msg)
		return p.msg, nil
	}
}

// takeHead waits until the queue is not empty and pops its head.
func (in *Inbox) takeHead(ctx context.Context) (pending, error) {
	for {
		in.mu.Lock()
		if in.closed {
			in.mu.Unlock()
			return pending{}, ErrClosed
		}
		if len(in.q) > 0 {
			p := heap.Pop(&in.q).(pending)
			in.mu.Unlock()
			return p, nil
		}
		in.mu.Unlock()
		select {
		case <-ctx.Done():
			return pending{}, ctx.Err()
		case <-in.wake:
		}
	}
}

// sleep waits for d, returning early only when the member leaves or ctx
// ends; pushes do not interrupt it.
func (in *Inbox) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		case <-in.wake:
			in.mu.Lock()
			closed := in.closed
			in.mu.Unlock()
			if closed {
				return ErrClosed
			}
		}
	}
}

// recvIdeal delivers every message at its own deadline: it re-reads the
// head whenever a message arrives, so nothing waits behind a later one,
// and the partition is judged at the deadline. Not what Maelstrom does;
// kept as the Ideal model to tell a node's own delays from the harness's.
func (in *Inbox) recvIdeal(ctx context.Context) (Message, error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		in.mu.Lock()
		if in.closed {
			in.mu.Unlock()
			return Message{}, ErrClosed
		}
		var wait time.Duration = -1
		if len(in.q) > 0 {
			head := in.q[0]
			if d := time.Until(head.deadline); d > 0 {
				wait = d
			} else {
				heap.Pop(&in.q)
				in.mu.Unlock()
				if !in.net.partitioned(head.msg) {
					in.net.journalRecv(head.msg)
					return head.msg, nil
				}
				continue
			}
		}
		in.mu.Unlock()

		var fire <-chan time.Time
		if wait >= 0 {
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			return Message{}, ctx.Err()
		case <-in.wake:
		case <-fire:
		}
	}
}
