package crdt

import (
	"math/rand/v2"
	"sort"
	"time"

	"github.com/glomers/glomers/lib/gossip"
)

// replica is what the simulator drives: GSet and Counter both are one.
type replica interface {
	Receive(from string, m gossip.Message, now time.Time) gossip.Ready
	Tick(now time.Time) gossip.Ready
}

// sim is a deterministic cluster on a fake clock: messages take a random
// latency, are dropped at delivery while their endpoints are on opposite
// sides of a partition (Maelstrom's partitions drop, not delay), and may
// be duplicated. Each node is ticked at its latest Ready.NextTick, as the
// challenges' timers do.
type sim struct {
	nodes   []string
	r       map[string]replica
	now     time.Time
	rng     *rand.Rand
	queue   []flight
	due     map[string]time.Time
	dupProb float64
	// side, if set, puts each node on a side of a partition; messages
	// between different sides are dropped.
	side    map[string]int
	sent    int
	dropped int
}

type flight struct {
	at       time.Time
	from, to string
	body     gossip.Message
}

func newSim(seed uint64, nodes []string, make func(self string, now time.Time) replica) *sim {
	s := &sim{nodes: nodes, r: map[string]replica{}, now: time.Unix(1000, 0), rng: rand.New(rand.NewPCG(seed, 7)), due: map[string]time.Time{}}
	for _, n := range nodes {
		s.r[n] = make(n, s.now)
	}
	return s
}

// act takes a Ready from node's step: its messages go on the network and
// its NextTick becomes the node's timer.
func (s *sim) act(node string, r gossip.Ready) {
	s.due[node] = r.NextTick
	for _, o := range r.Messages {
		copies := 1
		if s.rng.Float64() < s.dupProb {
			copies = 2
		}
		for range copies {
			s.sent++
			lat := time.Duration(1+s.rng.IntN(20)) * time.Millisecond
			s.queue = append(s.queue, flight{at: s.now.Add(lat), from: node, to: o.To, body: o.Body})
		}
	}
}

// run advances the clock by d in 1 ms steps, delivering and ticking.
func (s *sim) run(d time.Duration) {
	end := s.now.Add(d)
	for s.now.Before(end) {
		s.now = s.now.Add(time.Millisecond)
		sort.SliceStable(s.queue, func(i, j int) bool { return s.queue[i].at.Before(s.queue[j].at) })
		for len(s.queue) > 0 && !s.queue[0].at.After(s.now) {
			f := s.queue[0]
			s.queue = s.queue[1:]
			if s.side != nil && s.side[f.from] != s.side[f.to] {
				s.dropped++
				continue
			}
			s.act(f.to, s.r[f.to].Receive(f.from, f.body, s.now))
		}
		for _, n := range s.nodes {
			if t := s.due[n]; !t.IsZero() && !t.After(s.now) {
				s.act(n, s.r[n].Tick(s.now))
			}
		}
	}
}
