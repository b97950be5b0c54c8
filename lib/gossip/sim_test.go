package gossip

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"time"
)

// sim is a deterministic in-memory cluster: N Gossip instances, a network
// with per-message latency, partitions applied at delivery time (a
// simplification of Maelstrom, which judges them when a receiver takes a
// message; the protocol must survive either), optional duplication, and a fake clock that advances in
// fixed ticks.
type sim struct {
	nodes    []string
	g        map[string]*Gossip
	now      time.Time
	start    time.Time
	tick     time.Duration
	nextTick time.Time
	rng      *rand.Rand
	latency  func(r *rand.Rand) time.Duration
	// blocked reports whether a message from→to is dropped at delivery.
	blocked func(from, to string) bool
	dupProb float64
	// deadlineDriven ticks each node only at the NextTick of its latest
	// Ready, as challenges/broadcast does, instead of every tick.
	deadlineDriven bool
	due            map[string]time.Time // each node's latest Ready.NextTick
	// onDeliver, if set, sees every delivered message.
	onDeliver func(d delivery)

	queue   deliveries
	seq     int
	sent    int // messages handed to the network
	dropped int

	born    map[Value]time.Time            // when a client gave the value
	learned map[Value]map[string]time.Time // when each node first knew it

	// since: spread only counts values broadcast from then on, to leave
	// out the start-up transient.
	since time.Time
}

type delivery struct {
	at   time.Time
	seq  int
	from string
	to   string
	body Message
}

type deliveries []delivery

func (d deliveries) Len() int { return len(d) }
func (d deliveries) Less(i, j int) bool {
	if !d[i].at.Equal(d[j].at) {
		return d[i].at.Before(d[j].at)
	}
	return d[i].seq < d[j].seq
}
func (d deliveries) Swap(i, j int) { d[i], d[j] = d[j], d[i] }
func (d *deliveries) Push(x any)   { *d = append(*d, x.(delivery)) }
func (d *deliveries) Pop() any {
	old := *d
	x := old[len(old)-1]
	*d = old[:len(old)-1]
	return x
}

func constant(d time.Duration) func(*rand.Rand) time.Duration {
	return func(*rand.Rand) time.Duration { return d }
}

func uniform(mean time.Duration) func(*rand.Rand) time.Duration {
	return func(r *rand.Rand) time.Duration {
		return time.Duration(r.Int64N(int64(2 * mean)))
	}
}

func newSim(n int, cfg Config, seed uint64) *sim {
	s := &sim{
		g:       map[string]*Gossip{},
		start:   time.Unix(1000, 0),
		tick:    5 * time.Millisecond,
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		latency: constant(100 * time.Millisecond),
		blocked: func(string, string) bool { return false },
		born:    map[Value]time.Time{},
		learned: map[Value]map[string]time.Time{},
		due:     map[string]time.Time{},
	}
	s.now = s.start
	s.nextTick = s.start.Add(s.tick)
	for i := range n {
		s.nodes = append(s.nodes, fmt.Sprintf("n%d", i))
	}
	for _, id := range s.nodes {
		// Each node starts a little later than the previous one, as real
		// processes do, so their schedules are not in phase by accident.
		g, err := New(id, s.nodes, cfg, s.now.Add(time.Duration(s.rng.IntN(int(cfg.FlushInterval)))))
		if err != nil {
			panic(err)
		}
		s.g[id] = g
	}
	return s
}

// apply does what a step's Ready asks: send its messages and remember when
// the node wants its next Tick.
func (s *sim) apply(from string, r Ready) {
	s.due[from] = r.NextTick
	for _, o := range r.Messages {
		s.sent++
		copies := 1
		if s.dupProb > 0 && s.rng.Float64() < s.dupProb {
			copies = 2
		}
		for range copies {
			s.seq++
			heap.Push(&s.queue, delivery{at: s.now.Add(s.latency(s.rng)), seq: s.seq, from: from, to: o.To, body: o.Body})
		}
	}
}

func (s *sim) noteLearned(id string, before int) {
	vals := s.g[id].Values()
	for _, v := range vals[before:] {
		m := s.learned[v]
		if m == nil {
			m = map[string]time.Time{}
			s.learned[v] = m
		}
		m[id] = s.now
	}
}

// broadcast gives v to node id, as a client would. The client is answered
// in the same step, so the value must be readable when Broadcast returns.
func (s *sim) broadcast(id string, v Value) {
	s.born[v] = s.now
	before := len(s.g[id].Values())
	s.apply(id, s.g[id].Broadcast(v, s.now))
	if !slices.Contains(s.g[id].Values(), v) {
		panic(fmt.Sprintf("%s: value %s not readable after its Broadcast", id, v))
	}
	s.noteLearned(id, before)
}

// advance runs the cluster until the clock reaches until, calling every
// node's Tick once per tick and delivering messages when due.
func (s *sim) advance(until time.Time) {
	if s.deadlineDriven {
		s.advanceByDeadlines(until)
		return
	}
	for s.now.Before(until) {
		next := s.nextTick
		if until.Before(next) {
			next = until
		}
		for len(s.queue) > 0 && !s.queue[0].at.After(next) {
			d := heap.Pop(&s.queue).(delivery)
			if d.at.After(s.now) {
				s.now = d.at
			}
			s.deliver(d)
		}
		s.now = next
		if s.now.Equal(s.nextTick) {
			for _, id := range s.nodes {
				before := len(s.g[id].Values())
				s.apply(id, s.g[id].Tick(s.now))
				s.noteLearned(id, before)
			}
			s.nextTick = s.nextTick.Add(s.tick)
		}
	}
}

// deliver hands d to its receiver now, unless a partition drops it (as
// Maelstrom does, at delivery time).
func (s *sim) deliver(d delivery) {
	if s.blocked(d.from, d.to) {
		s.dropped++
		return
	}
	if s.onDeliver != nil {
		s.onDeliver(d)
	}
	before := len(s.g[d.to].Values())
	s.apply(d.to, s.g[d.to].Receive(d.from, d.body, s.now))
	s.noteLearned(d.to, before)
}

func (s *sim) run(d time.Duration) { s.advance(s.now.Add(d)) }

// missing lists, per node, the born values it does not know.
func (s *sim) missing() map[string][]Value {
	out := map[string][]Value{}
	for v := range s.born {
		for _, id := range s.nodes {
			if !slices.Contains(s.g[id].Values(), v) {
				out[id] = append(out[id], v)
			}
		}
	}
	return out
}

// spread returns, for each born value known everywhere, the time from its
// broadcast until the last node learned it, sorted ascending.
func (s *sim) spread() []time.Duration {
	var ds []time.Duration
	for v, b := range s.born {
		m := s.learned[v]
		if len(m) < len(s.nodes) || b.Before(s.since) {
			continue
		}
		var last time.Time
		for _, t := range m {
			if t.After(last) {
				last = t
			}
		}
		ds = append(ds, last.Sub(b))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds
}

func quantile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return ds[min(len(ds)-1, int(float64(len(ds))*p))]
}

// workload3d drives Fly.io's 3d/3e load: rate client ops per second, half of
// them broadcasts of 0,1,2,… to uniformly random nodes, for d. It returns
// the number of client ops (broadcasts and reads), the msgs-per-op
// denominator.
func (s *sim) workload3d(rate float64, d time.Duration) (ops int, next int64) {
	end := s.now.Add(d)
	for {
		gap := time.Duration(s.rng.Float64() * 2 / rate * float64(time.Second))
		at := s.now.Add(gap)
		if at.After(end) {
			s.advance(end)
			return ops, next
		}
		s.advance(at)
		ops++
		if s.rng.IntN(2) == 0 {
			s.broadcast(s.nodes[s.rng.IntN(len(s.nodes))], IntValue(next))
			next++
		}
	}
}

// quiescent reports whether no node holds unacknowledged state.
func (s *sim) quiescent() error {
	for _, id := range s.nodes {
		for p, l := range s.g[id].links {
			if len(l.pending) > 0 || len(l.inflight) > 0 || len(l.above) > 0 || l.probing || !l.ackOwedSince.IsZero() {
				return fmt.Errorf("%s→%s: pending %d inflight %d above %d probing %v ackOwed %v",
					id, p, len(l.pending), len(l.inflight), len(l.above), l.probing, !l.ackOwedSince.IsZero())
			}
		}
	}
	return nil
}

// advanceByDeadlines is advance for deadline-driven nodes: the next event
// is the earliest of a delivery and any node's NextTick.
func (s *sim) advanceByDeadlines(until time.Time) {
	idle := 0 // ticks in a row that did not move the clock
	for {
		t, who := until, ""
		if len(s.queue) > 0 && !s.queue[0].at.After(t) {
			t = s.queue[0].at
		}
		for _, id := range s.nodes {
			d := s.due[id]
			if d.IsZero() {
				continue
			}
			if d.Before(s.now) {
				d = s.now
			}
			if d.Before(t) {
				t, who = d, id
			}
		}
		if t.After(s.now) {
			s.now, idle = t, 0
		}
		switch {
		case who != "":
			if idle++; idle > 10*len(s.nodes) {
				panic(fmt.Sprintf("%s: NextTick %v keeps asking for ticks that do nothing", who, t))
			}
			before := len(s.g[who].Values())
			s.apply(who, s.g[who].Tick(s.now))
			s.noteLearned(who, before)
		case len(s.queue) > 0 && !s.queue[0].at.After(until):
			s.deliver(heap.Pop(&s.queue).(delivery))
		default:
			s.now = until
			return
		}
	}
}
