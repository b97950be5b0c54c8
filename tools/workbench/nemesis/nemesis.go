// Package nemesis injects network partitions the way Maelstrom's (Jepsen's
// combined) partition nemesis does: it alternates start-partition and
// stop-partition, each after a gap uniform in [0, 2×interval) (the first
// one at once, as Jepsen's stagger does), and each partition takes one of
// four shapes over the server nodes only. A partition is a grudge — for
// every node, the nodes whose messages it drops.
package nemesis

import (
	"context"
	"math/rand/v2"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/glomers/glomers/tools/workbench/edn"
)

// Grudge maps a destination to the sources whose messages it drops.
type Grudge map[string]map[string]bool

// Partition shapes, as Jepsen names them.
const (
	One            = "one"             // isolate one random node
	MinorityThird  = "minority-third"  // split off floor((N-1)/3) random nodes
	Majority       = "majority"        // random halves, smaller half floor(N/2)
	MajoritiesRing = "majorities-ring" // every node sees a majority, no two the same
)

// Shapes lists the shapes a start-partition picks from.
var Shapes = []string{One, MinorityThird, Majority, MajoritiesRing}

// Complete makes the grudge of a set of components: every node drops
// messages from every node outside its own component.
func Complete(components [][]string) Grudge {
	g := Grudge{}
	for i, comp := range components {
		for _, dest := range comp {
			drops := map[string]bool{}
			for j, other := range components {
				if i == j {
					continue
				}
				for _, src := range other {
					drops[src] = true
				}
			}
			if len(drops) > 0 {
				g[dest] = drops
			}
		}
	}
	return g
}

// ForShape builds a grudge of the given shape over nodes.
func ForShape(shape string, nodes []string, rng *rand.Rand) Grudge {
	shuffled := slices.Clone(nodes)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	n := len(shuffled)
	switch shape {
	case One:
		if n == 0 {
			return Grudge{}
		}
		return Complete([][]string{shuffled[:1], shuffled[1:]})
	case MinorityThird:
		k := (n - 1) / 3
		if k < 0 {
			k = 0
		}
		return Complete([][]string{shuffled[:k], shuffled[k:]})
	case Majority:
		return Complete([][]string{shuffled[:n/2], shuffled[n/2:]})
	case MajoritiesRing:
		return majoritiesRing(shuffled, rng)
	}
	return Grudge{}
}

// majority is the smallest number of nodes that is more than half.
func majority(n int) int { return n/2 + 1 }

// majoritiesRing gives every node a view of a majority such that no two
// nodes see quite the same majority. Up to 5 nodes it is Jepsen's exact
// ring: nodes in a shuffled ring, each window of a majority of consecutive
// nodes is the view of the node in its middle (for 3 nodes this makes the
// grudge one-way). Larger clusters grow views at random, always linking a
// least-connected node to another least-connected node it does not see yet,
// until every node sees a majority; those links are symmetric.
func majoritiesRing(shuffled []string, rng *rand.Rand) Grudge {
	n := len(shuffled)
	m := majority(n)
	sees := make(map[string]map[string]bool, n)
	for _, a := range shuffled {
		sees[a] = map[string]bool{a: true}
	}
	if n <= 5 {
		for k := 0; k < n; k++ {
			window := make([]string, m)
			for i := range window {
				window[i] = shuffled[(k+i)%n]
			}
			center := window[m/2]
			for _, x := range window {
				sees[center][x] = true
			}
		}
	} else {
		for {
			// The node that sees the fewest others (ties broken by the
			// shuffled order).
			a := ""
			for _, x := range shuffled {
				if a == "" || len(sees[x]) < len(sees[a]) {
					a = x
				}
			}
			if a == "" || len(sees[a]) >= m {
				break
			}
			// Link it to a random one among the least-connected nodes it
			// does not see yet.
			var cands []string
			least := n + 1
			for _, x := range shuffled {
				if sees[a][x] {
					continue
				}
				switch l := len(sees[x]); {
				case l < least:
					least, cands = l, []string{x}
				case l == least:
					cands = append(cands, x)
				}
			}
			if len(cands) == 0 {
				break
			}
			b := cands[rng.IntN(len(cands))]
			sees[a][b], sees[b][a] = true, true
		}
	}
	g := Grudge{}
	for _, dest := range shuffled {
		for _, src := range shuffled {
			if !sees[dest][src] {
				if g[dest] == nil {
					g[dest] = map[string]bool{}
				}
				g[dest][src] = true
			}
		}
	}
	return g
}

// Describe turns a grudge into a JSON-friendly map dest → sorted sources,
// for the history.
func Describe(g Grudge) map[string]any {
	out := make(map[string]any, len(g))
	for dest, srcs := range g {
		list := make([]string, 0, len(srcs))
		for s := range srcs {
			list = append(list, s)
		}
		sort.Strings(list)
		out[dest] = list
	}
	return out
}

// Event is one nemesis operation as it should be recorded: Jepsen records
// an invocation and a completion, both of type info.
type Event struct {
	F     string // start-partition or stop-partition
	Value any    // the shape on invocation; the grudge, or network-healed, on completion
	Done  bool   // false: invocation; true: completion
}

// Config drives a partition schedule.
type Config struct {
	Nodes    []string      // server nodes only
	Interval time.Duration // mean gap between nemesis ops
	Rand     *rand.Rand    // the nemesis's own seeded source
	// Apply installs a grudge on the network (nil heals).
	Apply func(Grudge)
	// Record is told each invocation and completion, in order.
	Record func(Event)
	// Sleep waits d or until ctx ends; nil uses real time. Tests fake it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Partitioner alternates partitions and heals.
type Partitioner struct {
	cfg    Config
	active atomic.Bool
}

// New makes a partitioner.
func New(cfg Config) *Partitioner {
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	return &Partitioner{cfg: cfg}
}

// Active reports whether a partition is in force.
func (p *Partitioner) Active() bool { return p.active.Load() }

// Run alternates start and stop until ctx ends. It does not heal on exit;
// call Heal for the final phase.
func (p *Partitioner) Run(ctx context.Context) {
	// Jepsen's stagger: the first op at once, then gaps uniform in
	// [0, 2×interval).
	for first := true; ; first = false {
		if !first {
			gap := time.Duration(p.cfg.Rand.Float64() * 2 * float64(p.cfg.Interval))
			if err := p.cfg.Sleep(ctx, gap); err != nil {
				return
			}
		}
		if ctx.Err() != nil {
			return
		}
		if p.active.Load() {
			p.stop()
		} else {
			p.start()
		}
	}
}

func (p *Partitioner) start() {
	shape := Shapes[p.cfg.Rand.IntN(len(Shapes))]
	p.cfg.Record(Event{F: "start-partition", Value: edn.Keyword(shape)})
	g := ForShape(shape, p.cfg.Nodes, p.cfg.Rand)
	p.cfg.Apply(g)
	p.active.Store(true)
	p.cfg.Record(Event{F: "start-partition", Value: Describe(g), Done: true})
}

func (p *Partitioner) stop() {
	p.cfg.Record(Event{F: "stop-partition"})
	p.cfg.Apply(nil)
	p.active.Store(false)
	p.cfg.Record(Event{F: "stop-partition", Value: edn.Keyword("network-healed"), Done: true})
}

// Heal is the nemesis's final op: a stop-partition, recorded whether or
// not a partition is in force (as Jepsen's final generator does).
func (p *Partitioner) Heal() { p.stop() }

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
