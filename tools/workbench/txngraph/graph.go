package txngraph

// Relationships between transactions, one bit each so an edge can carry
// several (T1 may both overwrite and be read by T2).
const (
	relWW       uint8 = 1 << iota // T2 overwrote a version T1 wrote
	relWR                         // T2 read a version T1 wrote
	relRW                         // T2 overwrote a version T1 read (anti-dependency)
	relProcess                    // same process, T1 before T2
	relRealtime                   // T1 completed before T2 was invoked
)

const relData = relWW | relWR | relRW

func relName(r uint8) string {
	switch r {
	case relWW:
		return "ww"
	case relWR:
		return "wr"
	case relRW:
		return "rw"
	case relProcess:
		return "process"
	case relRealtime:
		return "realtime"
	}
	return "?"
}

// version is a register state: a value, or the initial nil (for list-append,
// the empty list) that a key has before anyone writes it.
type version struct {
	value   int64
	initial bool
}

// why justifies one relationship between two transactions.
type why struct {
	key         int64
	from, to    version // for ww/rw: the ordered versions; wr: from only
	fromSet, ok bool
}

type edgeKey struct {
	u, v int32
	rel  uint8
}

// graph is a dependency graph over ok transactions 0..n-1, built as a map
// of edges and then frozen into adjacency arrays for the searches.
type graph struct {
	n     int
	build map[uint64]uint8
	whys  map[edgeKey]why

	// touched records that some relationship was inferred, even one a
	// txn has with itself: Elle's graph keeps such a txn as a vertex, and
	// reports an empty transaction graph only when it has no vertex.
	touched bool

	off    []int32 // out-edges of u are tgt[off[u]:off[u+1]]
	tgt    []int32
	mask   []uint8
	frozen bool
}

func newGraph(n int) *graph {
	return &graph{n: n, build: map[uint64]uint8{}, whys: map[edgeKey]why{}}
}

// link adds a relationship; self-edges carry no information and are dropped.
func (g *graph) link(u, v int32, rel uint8, w why) {
	g.touched = true
	if u == v {
		return
	}
	k := uint64(u)<<32 | uint64(uint32(v))
	g.build[k] |= rel
	ek := edgeKey{u, v, rel}
	if _, ok := g.whys[ek]; !ok {
		w.ok = true
		g.whys[ek] = w
	}
}

func (g *graph) edgeCount() int { return len(g.build) }

func (g *graph) freeze() {
	counts := make([]int32, g.n+1)
	for k := range g.build {
		counts[k>>32+1]++
	}
	for i := 1; i <= g.n; i++ {
		counts[i] += counts[i-1]
	}
	g.off = counts
	g.tgt = make([]int32, len(g.build))
	g.mask = make([]uint8, len(g.build))
	fill := make([]int32, g.n)
	for k, m := range g.build {
		u := int32(k >> 32)
		i := g.off[u] + fill[u]
		fill[u]++
		g.tgt[i] = int32(uint32(k))
		g.mask[i] = m
	}
	// Sort each adjacency list so searches (and so reports) are
	// deterministic whatever the map order was.
	for u := 0; u < g.n; u++ {
		lo, hi := g.off[u], g.off[u+1]
		for i := lo + 1; i < hi; i++ {
			for j := i; j > lo && g.tgt[j] < g.tgt[j-1]; j-- {
				g.tgt[j], g.tgt[j-1] = g.tgt[j-1], g.tgt[j]
				g.mask[j], g.mask[j-1] = g.mask[j-1], g.mask[j]
			}
		}
	}
	g.build = nil
	g.frozen = true
}

// maskOf returns the relationships on edge u→v (0 if none).
func (g *graph) maskOf(u, v int32) uint8 {
	for i := g.off[u]; i < g.off[u+1]; i++ {
		if g.tgt[i] == v {
			return g.mask[i]
		}
	}
	return 0
}

// sccs finds the strongly connected components with more than one vertex
// of the subgraph made of the vertices for which in(v) holds and the edges
// carrying any of rels. comp receives a component number per vertex (-1 for
// vertices in no such component). Iterative Tarjan, so deep graphs do not
// grow the goroutine stack.
func (g *graph) sccs(vertices []int32, in func(int32) bool, rels uint8, comp []int32) [][]int32 {
	index := make(map[int32]int32, len(vertices))
	low := make(map[int32]int32, len(vertices))
	onStack := make(map[int32]bool)
	var stack []int32
	var out [][]int32
	next := int32(0)
	type frame struct {
		v int32
		i int32 // next edge index to look at
	}
	for _, v := range vertices {
		comp[v] = -1
	}
	for _, root := range vertices {
		if _, seen := index[root]; seen {
			continue
		}
		call := []frame{{root, g.off[root]}}
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			v := f.v
			if f.i < g.off[v+1] {
				i := f.i
				f.i++
				w := g.tgt[i]
				if g.mask[i]&rels == 0 || !in(w) {
					continue
				}
				if _, seen := index[w]; !seen {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{w, g.off[w]})
				} else if onStack[w] && index[w] < low[v] {
					low[v] = index[w]
				}
				continue
			}
			call = call[:len(call)-1]
			if len(call) > 0 {
				p := call[len(call)-1].v
				if low[v] < low[p] {
					low[p] = low[v]
				}
			}
			if low[v] == index[v] {
				var c []int32
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					c = append(c, w)
					if w == v {
						break
					}
				}
				if len(c) > 1 {
					id := int32(len(out))
					for _, w := range c {
						comp[w] = id
					}
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// step is one edge of a cycle, labelled with the relationship that
// justifies it.
type step struct {
	from, to int32
	rel      uint8
}

// constraint describes which cycles a search accepts.
type constraint struct {
	rels        uint8 // relationships the rest of the cycle may use
	minRW       int   // rw edges the cycle needs, counting the first edge
	maxRW       int   // at most this many rw edges; -1 for any
	nonadjacent bool  // no two rw edges in a row, cyclically
}

// searcher holds the scratch arrays of the product-state BFS, reused
// across searches: 6 states per vertex (rw count 0, 1, 2+ × whether the
// last edge was rw).
type searcher struct {
	g       *graph
	gen     uint32
	seen    []uint32
	parent  []int32
	prel    []uint8
	queue   []int32
	visited int // edge visits so far, for the budget
}

func newSearcher(g *graph) *searcher {
	n := g.n * 6
	return &searcher{g: g, seen: make([]uint32, n), parent: make([]int32, n), prel: make([]uint8, n)}
}

func state(v int32, rw int, last bool) int32 {
	s := v*6 + int32(rw*2)
	if last {
		s++
	}
	return s
}

// close looks for a path from start.to back to start.from, inside the
// vertices for which in holds, that makes start into a cycle meeting c. It
// returns the cycle's steps beginning with start, or nil. It gives up
// (returning nil, false) once the searcher has visited budget edges.
func (s *searcher) close(start step, in func(int32) bool, c constraint, budget int) ([]step, bool) {
	g := s.g
	s.gen++
	if s.gen == 0 { // wrapped: clear
		for i := range s.seen {
			s.seen[i] = 0
		}
		s.gen = 1
	}
	startRW := start.rel == relRW
	rw0 := 0
	if startRW {
		rw0 = 1
	}
	if c.maxRW >= 0 && rw0 > c.maxRW {
		return nil, true
	}
	first := state(start.to, rw0, startRW)
	s.seen[first] = s.gen
	s.parent[first] = -1
	s.queue = append(s.queue[:0], first)
	for qi := 0; qi < len(s.queue); qi++ {
		cur := s.queue[qi]
		v := cur / 6
		rw := int(cur%6) / 2
		last := cur%2 == 1
		if v == start.from {
			if rw >= c.minRW && (c.maxRW < 0 || rw <= c.maxRW) && !(c.nonadjacent && last && startRW) {
				return s.path(start, cur), true
			}
			continue // a cycle through start.from twice is not simple
		}
		for i := g.off[v]; i < g.off[v+1]; i++ {
			s.visited++
			if s.visited > budget {
				return nil, false
			}
			w := g.tgt[i]
			m := g.mask[i] & c.rels
			if m == 0 || !in(w) {
				continue
			}
			for b := uint8(1); b != 0 && b <= m; b <<= 1 {
				if m&b == 0 {
					continue
				}
				rw2, last2 := rw, false
				if b == relRW {
					if c.nonadjacent && last {
						continue
					}
					rw2, last2 = min(rw+1, 2), true
					if c.maxRW >= 0 && rw2 > c.maxRW {
						continue
					}
				}
				ns := state(w, rw2, last2)
				if s.seen[ns] == s.gen {
					continue
				}
				s.seen[ns] = s.gen
				s.parent[ns] = cur
				s.prel[ns] = b
				s.queue = append(s.queue, ns)
			}
		}
	}
	return nil, true
}

func (s *searcher) path(start step, end int32) []step {
	var rev []step
	for cur := end; s.parent[cur] >= 0; cur = s.parent[cur] {
		p := s.parent[cur]
		rev = append(rev, step{from: p / 6, to: cur / 6, rel: s.prel[cur]})
	}
	out := []step{start}
	for i := len(rev) - 1; i >= 0; i-- {
		out = append(out, rev[i])
	}
	return out
}
