// Package kafka is Maelstrom's kafka workload: a set of append-only logs
// named by string keys. Clients send messages (send → send_ok with the
// offset the server assigned), poll from per-key offsets they track
// themselves (poll → poll_ok with [offset msg] pairs), commit the highest
// offsets they have polled, and on assign pick up from the committed
// offsets. Every so often a client is crashed and replaced. At the end
// every thread re-reads every key from the beginning until it has seen up
// to the highest offsets ever acknowledged. The checker (Jepsen's kafka
// checker, minus its Elle cycle search) looks for lost, duplicated,
// inconsistent and never-seen messages and for polls and sends that go
// backwards or skip.
package kafka

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// Generator defaults, as in Jepsen's kafka workload.
const (
	defaultKeyCount        = 10
	defaultMaxWritesPerKey = 16
	assignProbability      = 1.0 / 64 // an op becomes an assign of its keys
	widenAssignProbability = 1.0 / 3  // an assign also takes keys with unseen sends
	crashInterval          = 30 * time.Second
	finalPollGap           = 400 * time.Millisecond // polls every ~0.2 s
	finalPhaseLimit        = 10 * time.Second
)

// Workload is the kafka workload. Clients are not reusable: a crash (or
// any info completion) throws the client and its offsets away.
var Workload = &workload.Workload{
	Name:        "kafka",
	Doc:         Doc,
	Summary:     workload.Summary{Figures: summaryFigures},
	Idempotent:  map[string]bool{"assign": true},
	StatsExempt: map[string]bool{"crash": true},
	NewGenerator: func(opts workload.Options, _ *rand.Rand) workload.Generator {
		return newGenerator(opts)
	},
	// The final phase polls until it has read up to the highest offsets
	// the main phase saw acknowledged.
	NewFinalGenerator: func(_ workload.Options, _ *rand.Rand, main workload.Generator) workload.Generator {
		var targets *offsetTracker
		if g, ok := main.(*generator); ok {
			targets = g.maxOffsets
		}
		return newFinalGenerator(targets)
	},
	Check: func(h history.History, _ workload.Options) checker.Result { return Check(h) },
}

func init() {
	Workload.NewClient = func(conn workload.Conn, node string, _ workload.Options) workload.Client {
		return &client{conn: conn, node: node, offsets: map[string]int64{}}
	}
}

// offsetTracker is the highest offset any ok op sent or polled per key.
type offsetTracker struct {
	mu      sync.Mutex
	offsets map[int]int64
}

func (t *offsetTracker) merge(m map[int]int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, o := range m {
		if cur, ok := t.offsets[k]; !ok || o > cur {
			t.offsets[k] = o
		}
	}
}

func (t *offsetTracker) snapshot() map[int]int64 {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[int]int64, len(t.offsets))
	for k, o := range t.offsets {
		out[k] = o
	}
	return out
}

// generator is Elle's list-append generator with one micro-op per txn,
// rewritten to sends and polls, plus occasional assigns and crashes.
type generator struct {
	keyCount, maxWrites int
	active              []int       // active key pool
	next                map[int]int // next value to send per key (default 1)
	nextCrash           time.Duration
	crashGap            time.Duration // mean gap between crashes
	sent, polled        map[int]int64 // per key, for widening assigns
	maxOffsets          *offsetTracker
}

func newGenerator(opts workload.Options) *generator {
	g := &generator{
		keyCount:   opts.KeyCount,
		maxWrites:  opts.MaxWritesPerKey,
		next:       map[int]int{},
		sent:       map[int]int64{},
		polled:     map[int]int64{},
		maxOffsets: &offsetTracker{offsets: map[int]int64{}},
		nextCrash:  -1,
	}
	if g.keyCount <= 0 {
		g.keyCount = defaultKeyCount
	}
	if g.maxWrites <= 0 {
		g.maxWrites = defaultMaxWritesPerKey
	}
	for k := 0; k < g.keyCount; k++ {
		g.active = append(g.active, k)
	}
	g.crashGap = crashInterval / time.Duration(max(opts.Concurrency, 1))
	return g
}

// randKey picks an index into the pool with exponential popularity: each
// key is twice as likely as the one before it.
func randKey(rng *rand.Rand, n int) int {
	scale := (math.Pow(2, float64(n)) - 1) * 2
	i := int(math.Floor(math.Log2(rng.Float64()*scale+2) - 1))
	return min(max(i, 0), n-1)
}

func (g *generator) Next(ctx workload.GenContext) (history.Op, workload.Status) {
	if g.nextCrash < 0 {
		g.nextCrash = ctx.Time + g.gap(ctx.Rand)
	}
	if ctx.Time >= g.nextCrash {
		g.nextCrash = ctx.Time + g.gap(ctx.Rand)
		return history.Op{F: "crash"}, workload.Ready
	}

	// Draw one micro-op on a scratch copy of the key pool: if the op turns
	// into an assign instead, Jepsen never consumes it.
	active := append([]int(nil), g.active...)
	var f string
	var k, v int
	for {
		f = "poll"
		if ctx.Rand.IntN(2) == 1 {
			f = "send"
		}
		k = active[randKey(ctx.Rand, len(active))]
		if f == "poll" {
			break
		}
		v = g.next[k]
		if v == 0 {
			v = 1
		}
		if v <= g.maxWrites {
			break
		}
		// The key is full: replace it with a fresh one and draw again.
		fresh := 0
		for _, a := range active {
			fresh = max(fresh, a+1)
		}
		for i, a := range active {
			if a == k {
				active[i] = fresh
			}
		}
	}

	if ctx.Rand.Float64() < assignProbability {
		keys := []string{strconv.Itoa(k)}
		if ctx.Rand.Float64() < widenAssignProbability && len(g.sent) > 0 {
			keys = nil
			for _, sk := range sortedInts(g.sent) {
				keys = append(keys, strconv.Itoa(sk))
			}
			if _, ok := g.sent[k]; !ok {
				keys = append(keys, strconv.Itoa(k))
			}
		}
		return history.Op{F: "assign", Value: toAny(keys)}, workload.Ready
	}

	g.active = active
	if f == "poll" {
		return history.Op{F: "poll", Value: []any{[]any{"poll"}}}, workload.Ready
	}
	g.next[k] = v + 1
	return history.Op{F: "send", Value: []any{[]any{"send", strconv.Itoa(k), v}}}, workload.Ready
}

func (g *generator) gap(rng *rand.Rand) time.Duration {
	return time.Duration(rng.Float64() * 2 * float64(g.crashGap))
}

// Update tracks, from ok ops, the highest offsets sent and polled per key.
func (g *generator) Update(_ workload.GenContext, _, c history.Op) {
	if c.Type != history.OK {
		return
	}
	o := parseOp(c)
	sends, polls := o.maxSendOffsets(), o.maxPollOffsets()
	all := map[int]int64{}
	for _, m := range []map[string]int64{sends, polls} {
		for ks, off := range m {
			if k, err := strconv.Atoi(ks); err == nil {
				if cur, ok := all[k]; !ok || off > cur {
					all[k] = off
				}
			}
		}
	}
	g.maxOffsets.merge(all)
	mergeMax(g.sent, sends)
	mergeMax(g.polled, polls)
	for k := range g.sent {
		p, ok := g.polled[k]
		if !ok {
			p = -1
		}
		if p >= g.sent[k] {
			delete(g.sent, k)
			delete(g.polled, k)
		}
	}
}

func mergeMax(dst map[int]int64, src map[string]int64) {
	for ks, off := range src {
		k, err := strconv.Atoi(ks)
		if err != nil {
			continue
		}
		if cur, ok := dst[k]; !ok || off > cur {
			dst[k] = off
		}
	}
}

func sortedInts[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// finalThread is one thread's progress through the final phase: crash,
// assign everything from the beginning, then poll until caught up.
type finalThread struct {
	step     int
	targets  map[string]int64
	nextPoll time.Duration
}

type finalGenerator struct {
	targets map[string]int64
	keys    []any
	start   time.Duration
	started bool
	threads map[int]*finalThread
}

func newFinalGenerator(t *offsetTracker) *finalGenerator {
	snap := t.snapshot()
	g := &finalGenerator{targets: map[string]int64{}, threads: map[int]*finalThread{}}
	for _, k := range sortedInts(snap) {
		ks := strconv.Itoa(k)
		g.targets[ks] = snap[k]
		g.keys = append(g.keys, ks)
	}
	return g
}

func (g *finalGenerator) Next(ctx workload.GenContext) (history.Op, workload.Status) {
	if !g.started {
		g.start, g.started = ctx.Time, true
	}
	if ctx.Time-g.start >= finalPhaseLimit {
		return history.Op{}, workload.Exhausted
	}
	t := g.threads[ctx.Thread]
	if t == nil {
		t = &finalThread{targets: map[string]int64{}}
		for k, o := range g.targets {
			t.targets[k] = o
		}
		g.threads[ctx.Thread] = t
	}
	if len(t.targets) == 0 {
		return history.Op{}, workload.Exhausted
	}
	switch t.step {
	case 0:
		t.step++
		return history.Op{F: "crash", Final: true}, workload.Ready
	case 1:
		t.step++
		t.nextPoll = ctx.Time + time.Duration(ctx.Rand.Float64()*float64(finalPollGap))
		// Final assigns always seek to the beginning.
		return history.Op{F: "assign", Value: append([]any(nil), g.keys...), Final: true}, workload.Ready
	}
	if ctx.Time < t.nextPoll {
		return history.Op{}, workload.Pending
	}
	t.nextPoll = ctx.Time + time.Duration(ctx.Rand.Float64()*float64(finalPollGap))
	return history.Op{F: "poll", Value: []any{[]any{"poll"}}, Final: true}, workload.Ready
}

// Update drops the keys a thread's ok poll has read up to its target.
func (g *finalGenerator) Update(ctx workload.GenContext, _, c history.Op) {
	if c.Type != history.OK || c.F != "poll" {
		return
	}
	t := g.threads[ctx.Thread]
	if t == nil {
		return
	}
	o := parseOp(c)
	seen := o.maxPollOffsets()
	for k, off := range o.maxSendOffsets() {
		if cur, ok := seen[k]; !ok || off > cur {
			seen[k] = off
		}
	}
	for k, off := range seen {
		if target, ok := t.targets[k]; ok && target <= off {
			delete(t.targets, k)
		}
	}
}

type client struct {
	conn    workload.Conn
	node    string
	offsets map[string]int64 // assigned key → next offset to poll
}

func (c *client) Invoke(ctx context.Context, op history.Op) history.Op {
	switch op.F {
	case "crash":
		done := op
		done.Type = history.Info
		return done
	case "assign":
		return c.assign(ctx, op)
	case "send":
		return c.send(ctx, op)
	case "poll":
		return c.poll(ctx, op)
	}
	return Workload.Complete(op, nil, fmt.Errorf("unknown kafka op %q", op.F))
}

func (c *client) assign(ctx context.Context, op history.Op) history.Op {
	keys, _ := op.Value.([]any)
	next := map[string]int64{}
	if op.Final {
		for _, k := range keys {
			next[fmt.Sprint(k)] = 0
		}
		c.offsets = next
		return Workload.Complete(op, op.Value, nil)
	}
	reply, err := c.conn.Call(ctx, c.node, map[string]any{"type": "list_committed_offsets", "keys": keys}, 0)
	if err == nil {
		err = workload.CheckReply(reply, "list_committed_offsets_ok", "offsets")
	}
	var committed map[string]int64
	if err == nil {
		committed, err = offsetMap(reply["offsets"])
	}
	if err != nil {
		return Workload.Complete(op, nil, err)
	}
	for _, k := range keys {
		ks := fmt.Sprint(k)
		switch o, ok := c.offsets[ks]; {
		case ok:
			next[ks] = o
		default:
			next[ks] = committed[ks] // 0 when never committed
		}
	}
	c.offsets = next
	return Workload.Complete(op, op.Value, nil)
}

func (c *client) send(ctx context.Context, op history.Op) history.Op {
	o := parseOp(op)
	if len(o.sends) != 1 {
		return Workload.Complete(op, nil, fmt.Errorf("send op value %v is not one send", op.Value))
	}
	s := o.sends[0]
	reply, err := c.conn.Call(ctx, c.node, map[string]any{"type": "send", "key": s.key, "msg": s.value}, 0)
	if err == nil {
		err = workload.CheckReply(reply, "send_ok", "offset")
	}
	var offset int64
	if err == nil {
		var ok bool
		if offset, ok = history.Int(reply["offset"]); !ok {
			err = fmt.Errorf("%w: send_ok offset %v is not an integer", workload.ErrMalformedReply, reply["offset"])
		}
	}
	if err != nil {
		return Workload.Complete(op, nil, err)
	}
	return Workload.Complete(op, []any{[]any{"send", s.key, []any{offset, s.value}}}, nil)
}

func (c *client) poll(ctx context.Context, op history.Op) history.Op {
	req := make(map[string]any, len(c.offsets))
	for k, o := range c.offsets {
		req[k] = o
	}
	reply, err := c.conn.Call(ctx, c.node, map[string]any{"type": "poll", "offsets": req}, 0)
	if err == nil {
		err = workload.CheckReply(reply, "poll_ok", "msgs")
	}
	var msgs map[string]any
	if err == nil {
		msgs, err = checkMsgs(reply["msgs"])
	}
	if err != nil {
		return Workload.Complete(op, nil, err)
	}
	// Advance past what came back, then commit the highest offset polled
	// per key (not +1, as Maelstrom's client does).
	commit := map[string]any{}
	for k, pairs := range msgs {
		highest := int64(-1)
		for _, p := range pairs.([]any) {
			off, _ := history.Int(p.([]any)[0])
			highest = max(highest, off)
		}
		if cur, ok := c.offsets[k]; !ok || highest+1 > cur {
			c.offsets[k] = highest + 1
		}
		if highest >= 0 {
			commit[k] = highest
		}
	}
	if len(commit) > 0 {
		reply, err := c.conn.Call(ctx, c.node, map[string]any{"type": "commit_offsets", "offsets": commit}, 0)
		if err == nil {
			err = workload.CheckReply(reply, "commit_offsets_ok")
		}
		if err != nil {
			return Workload.Complete(op, nil, err)
		}
	}
	return Workload.Complete(op, []any{[]any{"poll", msgs}}, nil)
}

// checkMsgs enforces poll_ok's schema: {key: [[offset msg] …]} with
// integer offsets and exactly two elements per pair.
func checkMsgs(v any) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: poll_ok msgs %v is not an object", workload.ErrMalformedReply, v)
	}
	for k, pairs := range m {
		list, ok := pairs.([]any)
		if !ok {
			return nil, fmt.Errorf("%w: poll_ok msgs[%q] is not an array", workload.ErrMalformedReply, k)
		}
		for _, p := range list {
			pair, ok := p.([]any)
			if !ok || len(pair) != 2 {
				return nil, fmt.Errorf("%w: poll_ok msgs[%q] has %v, not an [offset msg] pair", workload.ErrMalformedReply, k, p)
			}
			if _, ok := history.Int(pair[0]); !ok {
				return nil, fmt.Errorf("%w: poll_ok msgs[%q] offset %v is not an integer", workload.ErrMalformedReply, k, pair[0])
			}
		}
	}
	return m, nil
}

func offsetMap(v any) (map[string]int64, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: offsets %v is not an object", workload.ErrMalformedReply, v)
	}
	out := make(map[string]int64, len(m))
	for k, o := range m {
		i, ok := history.Int(o)
		if !ok {
			return nil, fmt.Errorf("%w: offset %v for key %q is not an integer", workload.ErrMalformedReply, o, k)
		}
		out[k] = i
	}
	return out, nil
}

// summaryFigures: the counts of the errors that lose or reorder messages,
// when there are any.
func summaryFigures(r workload.Results) []string {
	var out []string
	for _, k := range []string{"lost-write", "inconsistent-offsets", "poll-skip", "nonmonotonic-poll"} {
		if n, ok := r.Num("workload", k, "count"); ok && n > 0 {
			out = append(out, fmt.Sprintf("%s %d", k, int64(n)))
		}
	}
	return out
}
