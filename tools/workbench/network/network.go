// Package network is the workbench's simulated network, modelled on
// Maelstrom's: every member (server node, client, service) has an inbox
// ordered by delivery deadline; a send draws a latency (none when either end
// is a client), and a partition "grudge" drops messages when they reach the
// head of the receiver's inbox, so messages in flight when a partition
// starts are lost too. Every send and every delivery is journaled, for the
// :net statistics and the Lamport diagram.
package network

import (
	"bufio"
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/glomers/glomers/tools/workbench/checker"
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

// Latency distributions, as --latency-dist names them.
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
}

// Validate reports a configuration Maelstrom cannot run with.
func (c Config) Validate() error {
	switch c.Dist {
	case "", Constant, Uniform:
	case Exponential:
		if c.Latency <= 0 {
			return errors.New("--latency-dist exponential needs a positive --latency")
		}
	default:
		return fmt.Errorf("unknown latency distribution %q (known: constant, uniform, exponential)", c.Dist)
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
	n.journal = append(n.journal, Event{Kind: Send, Time: now.Sub(n.start), Msg: msg})
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
	return time.Duration(ms * float64(time.Millisecond))
}

// deliver decides, when msg reaches the head of its receiver's inbox,
// whether the partition drops it, and journals it if not.
func (n *Network) deliver(msg Message) bool {
	n.mu.Lock()
	if n.grudge[msg.Dest][msg.Src] {
		n.mu.Unlock()
		return false
	}
	n.journal = append(n.journal, Event{Kind: Recv, Time: time.Since(n.start), Msg: msg})
	n.mu.Unlock()
	if n.cfg.LogRecv {
		n.log.Info("recv", "id", msg.ID, "src", msg.Src, "dest", msg.Dest, "body", string(msg.Body))
	}
	return true
}

// Journal returns a copy of every send and delivery so far, in order.
func (n *Network) Journal() []Event {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Event(nil), n.journal...)
}

// Stats computes Maelstrom's :net result from the journal. opCount is the
// number of client invocations in the history; msgs-per-op is left out
// when it is zero, as Maelstrom does.
func (n *Network) Stats(opCount int) checker.Result {
	return Stats(n.Journal(), opCount)
}

// Stats computes the :net result from a journal.
func Stats(journal []Event, opCount int) checker.Result {
	type counts struct{ send, recv, msgs int }
	var all, clients, servers counts
	add := func(c *counts, e Event) {
		if e.Kind == Send {
			c.send++
			c.msgs++ // every send has a fresh id
		} else {
			c.recv++
		}
	}
	for _, e := range journal {
		add(&all, e)
		if IsClient(e.Msg.Src) || IsClient(e.Msg.Dest) {
			add(&clients, e)
		} else {
			add(&servers, e)
		}
	}
	res := func(c counts, perOp bool) map[string]any {
		m := map[string]any{"send-count": c.send, "recv-count": c.recv, "msg-count": c.msgs}
		if perOp && opCount > 0 {
			m["msgs-per-op"] = float64(c.msgs) / float64(opCount)
		}
		return m
	}
	return checker.Result{
		"all":     res(all, true),
		"clients": res(clients, false),
		"servers": res(servers, true),
		"valid?":  checker.Valid,
	}
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

// Inbox is one member's queue of messages, delivered in deadline order at
// their deadlines. One goroutine should call Recv (delivery is serial, as
// in Maelstrom).
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

// Recv blocks until the next message is due and returns it, skipping
// messages the current partition drops. It returns ErrClosed after the
// member has left, or ctx's error.
func (in *Inbox) Recv(ctx context.Context) (Message, error) {
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
				if in.net.deliver(head.msg) {
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

// WriteJournal writes a journal as a JSON array, one event per line,
// without re-validating message bodies (they were checked when sent), so
// large journals are written quickly.
func WriteJournal(w io.Writer, journal []Event) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	var line []byte
	bw.WriteString("[")
	for i, e := range journal {
		line = line[:0]
		if i > 0 {
			line = append(line, ',')
		}
		line = append(line, "\n{\"kind\":\""...)
		line = append(line, e.Kind...)
		line = append(line, "\",\"time\":"...)
		line = strconv.AppendInt(line, int64(e.Time), 10)
		line = append(line, ",\"msg\":{\"id\":"...)
		line = strconv.AppendInt(line, e.Msg.ID, 10)
		line = append(line, ",\"src\":"...)
		line = appendJSONString(line, e.Msg.Src)
		line = append(line, ",\"dest\":"...)
		line = appendJSONString(line, e.Msg.Dest)
		line = append(line, ",\"body\":"...)
		if len(e.Msg.Body) == 0 {
			line = append(line, "null"...)
		} else {
			line = append(line, e.Msg.Body...)
		}
		line = append(line, "}}"...)
		if _, err := bw.Write(line); err != nil {
			return fmt.Errorf("write journal: %w", err)
		}
	}
	bw.WriteString("\n]\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	return nil
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}
