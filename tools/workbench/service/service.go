// Package service holds the workbench's copies of Maelstrom's built-in
// services: lin-kv (linearizable key/value store), seq-kv (sequentially
// consistent, deliberately stale), lww-kv (two unmerged last-write-wins
// replicas) and lin-tso (timestamp oracle). Each is a plain state machine,
// a request body in and a reply body out, with its randomness injected, so
// it can be tested without a network; Start joins them to the simulated
// network under their Maelstrom names.
package service

import (
	"math/rand/v2"
	"sync"
)

// Service is one of Maelstrom's services. Handle computes the reply body to
// a request body from src (without in_reply_to, which the caller adds). It
// returns an ErrUnknownType error, and no reply, for request types the
// service does not know. Handle is safe for concurrent use.
type Service interface {
	Handle(src string, body map[string]any) (map[string]any, error)
}

// Names of the services, as nodes address them.
const (
	LinKV  = "lin-kv"
	SeqKV  = "seq-kv"
	LWWKV  = "lww-kv"
	LinTSO = "lin-tso"
)

// Defaults builds Maelstrom's default service set, drawing randomness from
// rng (one source shared by all, under their own locks).
func Defaults(rng *rand.Rand) map[string]Service {
	r := &lockedRand{r: rng}
	return map[string]Service{
		LinKV:  NewLinearizableKV(),
		SeqKV:  NewSequentialKV(r.IntN),
		LWWKV:  NewEventualKV(r.IntN),
		LinTSO: NewTSO(),
	}
}

// lockedRand lets several services share one seeded source.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (l *lockedRand) IntN(n int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.IntN(n)
}

// LinearizableKV applies every request, in arrival order, to one map.
type LinearizableKV struct {
	mu    sync.Mutex
	state *kvState
}

func NewLinearizableKV() *LinearizableKV { return &LinearizableKV{state: newKVState()} }

func (l *LinearizableKV) Handle(src string, body map[string]any) (map[string]any, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	next, _, reply, err := persistentKV.apply(l.state, body)
	if err != nil {
		return nil, err
	}
	l.state = next
	return reply, nil
}

// historySize is how many past states seq-kv keeps (Maelstrom's ring
// buffer of 32).
const historySize = 32

// SequentialKV is Maelstrom's seq-kv. It remembers the last 32 map states
// and, per caller, the index of the newest state that caller has observed.
// A request runs speculatively on a random state between the caller's index
// and the newest; if that leaves the state unchanged (reads, failed CAS,
// rewriting the same value) its result stands, otherwise it is re-run on
// the newest state and the result becomes a new state.
type SequentialKV struct {
	mu     sync.Mutex
	intN   func(int) int
	states [historySize]*kvState // state with index i lives at i % historySize
	last   int
	seen   map[string]int
}

// NewSequentialKV makes a seq-kv drawing random indices from intN (which
// returns a uniform int in [0, n)).
func NewSequentialKV(intN func(int) int) *SequentialKV {
	s := &SequentialKV{intN: intN, seen: map[string]int{}}
	s.states[0] = newKVState()
	return s
}

func (s *SequentialKV) Handle(src string, body map[string]any) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	from := s.seen[src]
	// Maelstrom draws (rand-int (last - seen)), which excludes the newest
	// state unless the caller has already seen it: a caller that only reads
	// keeps seeing the past. An index more than 31 behind wraps around the
	// ring buffer exactly as Maelstrom's does.
	i := from
	if s.last > from {
		i = from + s.intN(s.last-from)
	}
	_, changed, reply, err := persistentKV.apply(s.states[i%historySize], body)
	if err != nil {
		return nil, err
	}
	if !changed {
		s.seen[src] = i
		return reply, nil
	}
	next, _, reply, _ := persistentKV.apply(s.states[s.last%historySize], body)
	s.last++
	s.states[s.last%historySize] = next
	s.seen[src] = s.last
	return reply, nil
}

// eventualReplicas is how many replicas Maelstrom's lww-kv simulates.
const eventualReplicas = 2

// EventualKV is Maelstrom's lww-kv as it actually behaves: two replicas,
// each request applied to one chosen at random. Maelstrom also computes a
// last-write-wins merge of one replica into another on every request, but
// then discards it, so the replicas never converge; we skip the merge.
// CAS on a missing key is always error 20 (create_if_not_exists ignored).
type EventualKV struct {
	mu       sync.Mutex
	intN     func(int) int
	replicas [eventualReplicas]*kvState
}

func NewEventualKV(intN func(int) int) *EventualKV {
	e := &EventualKV{intN: intN}
	for i := range e.replicas {
		e.replicas[i] = newKVState()
	}
	return e
}

func (e *EventualKV) Handle(src string, body map[string]any) (map[string]any, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	i := e.intN(eventualReplicas)
	next, _, reply, err := lwwKV.apply(e.replicas[i], body)
	if err != nil {
		return nil, err
	}
	e.replicas[i] = next
	return reply, nil
}

// TSO is lin-tso: {"type":"ts"} → {"type":"ts_ok","ts":n}, n = 0, 1, 2, …
type TSO struct {
	mu   sync.Mutex
	next int64
}

func NewTSO() *TSO { return &TSO{} }

func (t *TSO) Handle(src string, body map[string]any) (map[string]any, error) {
	if body["type"] != "ts" {
		return nil, ErrUnknownType{Type: body["type"]}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	ts := t.next
	t.next++
	return map[string]any{"type": "ts_ok", "ts": ts}, nil
}
