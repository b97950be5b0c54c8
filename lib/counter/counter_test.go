package counter

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"
)

// staleKV models seq-kv at its most pessimistic: it keeps every state, a
// caller's reads see the oldest state it is allowed to (the last one it
// caught up to), and mutations apply to the newest state and catch the
// caller up. callers are told apart through the store handle.
type staleKV struct {
	mu     sync.Mutex
	states []map[string]any
	seen   map[string]int
}

func newStaleKV() *staleKV {
	return &staleKV{states: []map[string]any{{}}, seen: map[string]int{}}
}

type handle struct {
	kv   *staleKV
	node string
}

func (s *staleKV) as(node string) handle { return handle{s, node} }

func (h handle) ReadInt(_ context.Context, key string) (int, error) {
	h.kv.mu.Lock()
	defer h.kv.mu.Unlock()
	v, ok := h.kv.states[h.kv.seen[h.node]][key]
	if !ok {
		return 0, maelstrom.NewRPCError(maelstrom.KeyDoesNotExist, "key does not exist")
	}
	return v.(int), nil
}

func (h handle) mutate(key string, v any) {
	last := h.kv.states[len(h.kv.states)-1]
	next := make(map[string]any, len(last)+1)
	for k, x := range last {
		next[k] = x
	}
	next[key] = v
	h.kv.states = append(h.kv.states, next)
	h.kv.seen[h.node] = len(h.kv.states) - 1
}

func (h handle) Write(_ context.Context, key string, value any) error {
	h.kv.mu.Lock()
	defer h.kv.mu.Unlock()
	if cur, ok := h.kv.states[h.kv.seen[h.node]][key]; ok && cur == value {
		return nil // an unchanged value does not catch the caller up
	}
	h.mutate(key, value)
	return nil
}

func (h handle) CAS(_ context.Context, key string, from, to any, create bool) error {
	h.kv.mu.Lock()
	defer h.kv.mu.Unlock()
	cur, ok := h.kv.states[len(h.kv.states)-1][key]
	switch {
	case !ok && !create:
		return maelstrom.NewRPCError(maelstrom.KeyDoesNotExist, "key does not exist")
	case ok && cur != from:
		return maelstrom.NewRPCError(maelstrom.PreconditionFailed, fmt.Sprintf("current value %v is not %v", cur, from))
	}
	h.mutate(key, to)
	return nil
}

func TestEveryNodeReadsTheFullSum(t *testing.T) {
	ctx := context.Background()
	kv := newStaleKV()
	nodes := []string{"n0", "n1", "n2"}
	counters := map[string]*Counter{}
	for _, n := range nodes {
		counters[n] = mustNew(t, kv.as(n), n, nodes)
	}
	// n2 reads first, so its view is pinned early; then everyone adds.
	if v, _ := counters["n2"].Read(ctx); v != 0 {
		t.Fatalf("initial read %d", v)
	}
	want := 0
	for i, d := range []int{3, 0, 4, 1, 2, 2} {
		n := nodes[i%3]
		if err := counters[n].Add(ctx, d); err != nil {
			t.Fatal(err)
		}
		want += d
	}
	for _, n := range nodes {
		if v, err := counters[n].Read(ctx); err != nil || v != want {
			t.Errorf("%s read %d, %v; want %d", n, v, err, want)
		}
	}
	// Without the freshness write a node's reads stay where it last was:
	// this is what the fake (and seq-kv) would show it.
	plain := 0
	for _, n := range nodes {
		v, _ := kv.as("n9").ReadInt(ctx, Key(n))
		plain += v
	}
	if plain != 0 {
		t.Errorf("a node that never wrote saw %d; the fake store is not stale enough to test anything", plain)
	}
}

func TestAddRecoversFromAStaleShare(t *testing.T) {
	ctx := context.Background()
	kv := newStaleKV()
	c := mustNew(t, kv.as("n0"), "n0", []string{"n0"})
	// An earlier incarnation's add landed but was never acknowledged.
	if err := kv.as("n0").CAS(ctx, Key("n0"), nil, 5, true); err != nil {
		t.Fatal(err)
	}
	if err := c.Add(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.Read(ctx); v != 7 {
		t.Errorf("total %d, want 7", v)
	}
}

func TestAddRefusesNegativeAndOverflowingDeltas(t *testing.T) {
	kv := newStaleKV()
	c := mustNew(t, kv.as("n0"), "n0", []string{"n0"})
	if err := c.Add(context.Background(), math.MaxInt-1); err != nil {
		t.Fatal(err)
	}
	for _, d := range []int{-1, math.MinInt, 2, math.MaxInt} {
		if err := c.Add(context.Background(), d); maelstrom.ErrorCode(err) != maelstrom.MalformedRequest {
			t.Errorf("add %d: err %v, want code 12", d, err)
		}
	}
	if got, err := c.Read(context.Background()); err != nil || got != math.MaxInt-1 {
		t.Fatalf("read %d, %v: refused adds must change nothing", got, err)
	}
}

func mustNew(t *testing.T, store Store, self string, nodes []string) *Counter {
	t.Helper()
	c, err := New(store, self, nodes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewNeedsSelfInNodes(t *testing.T) {
	if _, err := New(newStaleKV().as("n9"), "n9", []string{"n0", "n1"}); err == nil {
		t.Fatal("a node outside the list would leave its own share out of every read")
	}
}
