package crdt

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/glomers/glomers/lib/gossip"
)

var five = []string{"n1", "n2", "n3", "n4", "n5"}

func TestPNCounterAddAndValue(t *testing.T) {
	var c PNCounter
	c.Add("n1", 5)
	c.Add("n1", -3)
	if x := c.Add("n2", -4); x != (Component{Node: "n2", P: 0, N: 4}) {
		t.Errorf("n2 component %+v", x)
	}
	if x := c.Add("n1", 0); x != (Component{Node: "n1", P: 5, N: 3}) {
		t.Errorf("zero delta changed the component: %+v", x)
	}
	if v := c.Value(); v != -2 {
		t.Errorf("value %d, want 5-3-4 = -2", v)
	}
}

// Merge is a join: any order of any versions, with repeats, ends in the
// same state, the per-node maximum. (Merging by sum, or keeping the last
// version received, fails this.)
func TestPNCounterMergeIsOrderAndDuplicateFree(t *testing.T) {
	var origin PNCounter
	var versions []Component
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		versions = append(versions, origin.Add(five[rng.IntN(5)], int64(rng.IntN(10)-5)))
	}
	for trial := range 20 {
		order := append(slices.Clone(versions), versions[:50]...) // duplicates
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		var c PNCounter
		for _, x := range order {
			if _, err := c.Merge(x); err != nil {
				t.Fatal(err)
			}
		}
		if c.Value() != origin.Value() || !slices.Equal(c.Components(), origin.Components()) {
			t.Fatalf("trial %d: merged %v (%d), origin %v (%d)", trial, c.Components(), c.Value(), origin.Components(), origin.Value())
		}
	}
	var c PNCounter
	if _, err := c.Merge(Component{Node: "n1", P: 1, N: -1}); err == nil {
		t.Error("negative N accepted")
	}
	if changed, _ := c.Merge(Component{Node: "n1", P: 1}); !changed {
		t.Error("first version reported unchanged")
	}
	if changed, _ := c.Merge(Component{Node: "n1", P: 1}); changed {
		t.Error("repeated version reported changed")
	}
	var d PNCounter
	d.Add("n2", 7)
	d.MergeAll(&c)
	if d.Value() != 8 {
		t.Errorf("MergeAll value %d, want 8", d.Value())
	}
}

func counterSim(seed uint64, cfg gossip.Config) *sim {
	return newSim(seed, five, func(self string, now time.Time) replica {
		c, err := NewCounter(self, five, cfg, now)
		if err != nil {
			panic(err)
		}
		return c
	})
}

// Under a partition each side keeps taking adds and converges on its own
// updates; after the heal every replica reaches the total of every add,
// within a few retransmission timeouts. Message duplication is harmless.
func TestCounterConvergesAfterPartition(t *testing.T) {
	for _, cfg := range []gossip.Config{gossip.Latency, gossip.Messages} {
		for seed := range uint64(4) {
			s := counterSim(seed, cfg)
			s.dupProb = 0.1
			var total int64
			var n1Side int64 // adds made on n1's side (n1 is gossip's hub)
			s.side = map[string]int{"n1": 0, "n2": 0, "n3": 1, "n4": 1, "n5": 1}
			for range 300 {
				node := five[s.rng.IntN(5)]
				d := int64(s.rng.IntN(10) - 5)
				total += d
				if s.side[node] == 0 {
					n1Side += d
				}
				s.act(node, s.r[node].(*Counter).Add(d, s.now))
				s.run(time.Duration(s.rng.IntN(20)) * time.Millisecond)
			}
			s.run(time.Second)
			if got := s.r["n1"].(*Counter).Value(); got != n1Side {
				t.Fatalf("%v seed %d: during the partition n1 reads %d, want its side's %d (the partition leaked)", cfg.FlushInterval, seed, got, n1Side)
			}
			s.side = nil
			s.run(10 * time.Second)
			for _, n := range five {
				if got := s.r[n].(*Counter).Value(); got != total {
					t.Errorf("%v seed %d: %s reads %d after the heal, want %d", cfg.FlushInterval, seed, n, got, total)
				}
			}
			if s.dropped == 0 {
				t.Errorf("seed %d: the partition dropped nothing", seed)
			}
		}
	}
}

// Values that are not components (a broken peer) are counted and ignored.
func TestCounterIgnoresMalformedComponents(t *testing.T) {
	now := time.Unix(0, 0)
	c, err := NewCounter("n2", []string{"n1", "n2"}, gossip.Latency, now)
	if err != nil {
		t.Fatal(err)
	}
	c.Add(3, now)
	c.Receive("n1", gossip.Message{Type: gossip.MessageType, Seq: 0, Values: []gossip.Value{
		`{"node":"n1","p":4,"n":1}`, `{"node":"n1","p":-4,"n":1}`, `17`, `{"node":"n1"}`, `{"node":"n1","p":2,"n":0}`,
	}}, now)
	if c.Value() != 3+4-1 || c.Rejected != 3 {
		t.Errorf("value %d (want 6), rejected %d (want 3)", c.Value(), c.Rejected)
	}
}

func TestGSetConvergesAfterPartition(t *testing.T) {
	for seed := range uint64(4) {
		s := newSim(seed, five, func(self string, now time.Time) replica {
			g, err := NewGSet(self, five, gossip.Latency, now)
			if err != nil {
				panic(err)
			}
			return g
		})
		s.dupProb = 0.1
		s.side = map[string]int{"n1": 0, "n2": 1, "n3": 1, "n4": 0, "n5": 1}
		var added []gossip.Value
		for i := range 200 {
			node := five[s.rng.IntN(5)]
			v := gossip.IntValue(int64(i))
			added = append(added, v)
			s.act(node, s.r[node].(*GSet).Add(v, s.now))
			if !s.r[node].(*GSet).Has(v) {
				t.Fatalf("%s does not hold %s right after adding it", node, v)
			}
			s.run(time.Duration(s.rng.IntN(20)) * time.Millisecond)
		}
		s.run(time.Second)
		if n := len(s.r["n2"].(*GSet).Elements()); n == len(added) {
			t.Fatalf("seed %d: n2 holds all %d elements during the partition", seed, n)
		}
		s.side = nil
		s.run(10 * time.Second)
		for _, n := range five {
			got := s.r[n].(*GSet).Elements()
			if len(got) != len(added) {
				t.Errorf("seed %d: %s holds %d of %d elements after the heal", seed, n, len(got), len(added))
			}
			for _, v := range added {
				if !s.r[n].(*GSet).Has(v) {
					t.Errorf("seed %d: %s lacks %s", seed, n, v)
					break
				}
			}
		}
	}
}

func ExampleCounter() {
	now := time.Unix(0, 0)
	// n2 is a leaf: it sends its new component to the hub, n1, at once.
	c, _ := NewCounter("n2", []string{"n1", "n2"}, gossip.Latency, now)
	r := c.Add(-2, now)
	fmt.Println(c.Value(), r.Messages[0].To, r.Messages[0].Body.Values)
	// Output: -2 n1 [{"node":"n2","p":0,"n":2}]
}
