package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/edn"
)

func nodes(n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, fmt.Sprintf("n%d", i))
	}
	return out
}

// views returns, for every node, the set of nodes it can hear from.
func views(g Grudge, all []string) map[string]map[string]bool {
	v := map[string]map[string]bool{}
	for _, d := range all {
		v[d] = map[string]bool{}
		for _, s := range all {
			if !g[d][s] {
				v[d][s] = true
			}
		}
	}
	return v
}

func symmetric(t *testing.T, g Grudge) {
	t.Helper()
	for d, srcs := range g {
		for s := range srcs {
			if !g[s][d] {
				t.Errorf("grudge not symmetric: %s drops %s but not vice versa", d, s)
			}
		}
	}
}

func TestShapes(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 7} {
		all := nodes(n)
		for seed := uint64(0); seed < 20; seed++ {
			rng := rand.New(rand.NewPCG(seed, 1))
			t.Run(fmt.Sprintf("n%d/seed%d", n, seed), func(t *testing.T) {
				one := ForShape(One, all, rng)
				symmetric(t, one)
				isolated := 0
				for _, v := range views(one, all) {
					if len(v) == 1 && n > 1 {
						isolated++
					}
				}
				wantIsolated := 1
				if n == 2 {
					wantIsolated = 2 // each side of a 1–1 split is alone
				}
				if n > 1 && isolated != wantIsolated {
					t.Errorf("one: %d isolated nodes, want 1 (%v)", isolated, one)
				}

				third := ForShape(MinorityThird, all, rng)
				symmetric(t, third)
				small := 0
				for _, v := range views(third, all) {
					if len(v) == (n-1)/3 {
						small++
					}
				}
				if want := (n - 1) / 3; want > 0 && small != want {
					t.Errorf("minority-third: %d nodes in the small side, want %d", small, want)
				}
				if (n-1)/3 == 0 && len(third) != 0 {
					t.Errorf("minority-third with %d nodes should cut nothing, got %v", n, third)
				}

				maj := ForShape(Majority, all, rng)
				symmetric(t, maj)
				sizes := map[int]int{}
				for _, v := range views(maj, all) {
					sizes[len(v)]++
				}
				if n > 1 && sizes[n/2] < n/2 {
					t.Errorf("majority: sizes %v, want a side of %d", sizes, n/2)
				}

				ring := ForShape(MajoritiesRing, all, rng)
				if n > 5 {
					symmetric(t, ring)
				}
				seen := map[string]bool{}
				for node, v := range views(ring, all) {
					if !v[node] {
						t.Errorf("majorities-ring: %s cannot hear itself", node)
					}
					if len(v) < n/2+1 {
						t.Errorf("majorities-ring: %s sees %d nodes, want a majority of %d", node, len(v), n)
					}
					key := fmt.Sprint(v)
					if n >= 3 && n <= 5 && seen[key] {
						t.Errorf("majorities-ring: two nodes share the view %s", key)
					}
					seen[key] = true
				}
				if n <= 5 {
					for node, v := range views(ring, all) {
						if len(v) != n/2+1 {
							t.Errorf("%d-node ring: %s sees %d nodes, want exactly %d", n, node, len(v), n/2+1)
						}
					}
				}
			})
		}
	}
}

func TestShapesAreDeterministicPerSeed(t *testing.T) {
	all := nodes(5)
	for _, s := range Shapes {
		a := ForShape(s, all, rand.New(rand.NewPCG(7, 7)))
		b := ForShape(s, all, rand.New(rand.NewPCG(7, 7)))
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s differs for the same seed", s)
		}
	}
}

func TestScheduleAlternatesWithStaggeredGaps(t *testing.T) {
	var events []Event
	var gaps []time.Duration
	var applied []Grudge
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := New(Config{
		Nodes: nodes(5), Interval: 10 * time.Second, Rand: rand.New(rand.NewPCG(1, 1)),
		Apply:  func(g Grudge) { applied = append(applied, g) },
		Record: func(e Event) { events = append(events, e) },
		Sleep: func(ctx context.Context, d time.Duration) error {
			gaps = append(gaps, d)
			if len(gaps) == 6 {
				cancel()
				return ctx.Err()
			}
			return nil
		},
	})
	p.Run(ctx)
	// First op at once, then 5 more before the 6th sleep cancels.
	if len(events) != 12 {
		t.Fatalf("got %d events, want 12 (6 ops × invoke+complete)", len(events))
	}
	for i, e := range events {
		wantF := "start-partition"
		if (i/2)%2 == 1 {
			wantF = "stop-partition"
		}
		if e.F != wantF || e.Done != (i%2 == 1) {
			t.Errorf("event %d = %+v, want %s done=%v", i, e, wantF, i%2 == 1)
		}
	}
	for _, g := range gaps {
		if g < 0 || g >= 20*time.Second {
			t.Errorf("gap %v outside [0, 20s)", g)
		}
	}
	if applied[1] != nil || applied[0] == nil && len(nodes(5)) > 1 {
		t.Errorf("applied %v: want a grudge then a heal", applied)
	}
	if !p.Active() {
		// 6 ops: start stop start stop start stop → healed.
	} else {
		t.Error("after an even number of ops the network should be healed")
	}
	p.Heal()
	if last := events[len(events)-1]; last.F != "stop-partition" || last.Value != edn.Keyword("network-healed") {
		t.Errorf("Heal recorded %+v", last)
	}
}
