package txngraph

import (
	"slices"
	"sort"
	"time"

	"github.com/glomers/glomers/tools/workbench/edn"
)

// The cycle search: each strongly connected component searched for each class of
// cycle in Elle's order, under a budget, and a cycle named by its edges.

// Budgets on cycle search, like Elle's one second per strongly connected
// component. A component whose search runs out is reported as
// cycle-search-timeout (with the types it had already searched) and, as in
// Elle, gets one fallback cycle found by a plain depth-first walk, named
// by its edges. The per-component budget counts edge visits, so that
// results do not depend on the machine; the wall-clock limit over the
// whole search only guards against pathological histories.
var (
	componentBudget = 4_000_000 // edge visits per component, all types
	searchTimeLimit = 20 * time.Second
)

// cycleSpec is one cycle anomaly to search for: which relationships its
// edges may carry, and what else the cycle must have.
type cycleSpec struct {
	name  string
	c     constraint
	start uint8 // relationship of the edge each candidate cycle starts on
	typed bool  // the cycle found must classify as name (Elle's :type)
}

// cycleSpecs lists the cycle anomalies in Elle's search order: by depth in
// the implication and severity graphs, then by name, so data cycles come
// before process ones and those before realtime ones.
var cycleSpecs = func() []cycleSpec {
	var out []cycleSpec
	for _, v := range []struct {
		suffix string
		rel    uint8
	}{{variantNone, 0}, {variantProcess, relProcess}, {variantRealtime, relRealtime}} {
		base := []cycleSpec{
			{name: G0, c: constraint{rels: relWW, maxRW: 0}, start: relWW},
			{name: G1c, c: constraint{rels: relWW | relWR, maxRW: 0}, start: relWR},
			{name: GSingleItem, c: constraint{rels: relData, minRW: 1, maxRW: 1}, start: relRW, typed: true},
			{name: GNonadjacentItem, c: constraint{rels: relData, minRW: 2, maxRW: -1, nonadjacent: true}, start: relRW, typed: true},
			{name: G2Item, c: constraint{rels: relData, minRW: 2, maxRW: -1}, start: relRW, typed: true},
		}
		for _, s := range base {
			s.name += v.suffix
			if v.rel != 0 {
				// Variant cycles start on their process/realtime edge so
				// that every cycle found has one.
				s.c.rels |= v.rel
				s.start = v.rel
			}
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		di, dj := anomalyDepth[out[i].name], anomalyDepth[out[j].name]
		if di != dj {
			return di < dj
		}
		return out[i].name < out[j].name
	})
	return out
}()

// findCycles searches each strongly connected component of the whole graph
// for each cycle anomaly in turn, skipping those implied by one already
// found there, as Elle does. It returns descriptions of the searches that
// ran out of budget.
func (a *analysis) findCycles() []any {
	g := a.g
	if g.n == 0 || !g.touched {
		a.add(EmptyGraph, true)
		return nil
	}
	all := make([]int32, g.n)
	for i := range all {
		all[i] = int32(i)
	}
	comp := make([]int32, g.n)
	sccs := g.sccs(all, func(int32) bool { return true }, 0xff, comp)
	sort.Slice(sccs, func(i, j int) bool { return minOf(sccs[i]) < minOf(sccs[j]) })
	for ci, scc := range sccs { // renumber after sorting
		for _, v := range scc {
			comp[v] = int32(ci)
		}
	}
	s := newSearcher(g)
	sub := make([]int32, g.n)
	var timeouts []any
	deadline := time.Now().Add(searchTimeLimit)
	for ci, scc := range sccs {
		inSCC := func(v int32) bool { return comp[v] == int32(ci) }
		hasRel := uint8(0)
		for _, u := range scc {
			for i := g.off[u]; i < g.off[u+1]; i++ {
				if inSCC(g.tgt[i]) {
					hasRel |= g.mask[i]
				}
			}
		}
		a.cycleExists(scc, inSCC, sub)
		budget := s.visited + componentBudget
		redundant := map[string]bool{}
		var searched, found []string
		for _, spec := range cycleSpecs {
			if redundant[spec.name] || hasRel&spec.start == 0 {
				continue
			}
			searched = append(searched, spec.name)
			steps, complete := a.searchComponent(s, scc, inSCC, sub, spec.c, spec.start, budget)
			if !complete || time.Now().After(deadline) {
				timeouts = append(timeouts, a.timeout(spec.name, searched[:len(searched)-1], found, len(scc)))
				if fb := fallbackCycle(g, scc, inSCC); fb != nil {
					fb = a.relabel(fb)
					typ := classify(fb)
					a.add(typ, a.renderCycle(typ, fb))
				}
				break
			}
			if steps == nil {
				continue
			}
			steps = a.relabel(steps)
			typ := classify(steps)
			if spec.typed && typ != spec.name {
				// Elle's search for a typed anomaly accepts only a cycle
				// its explainer names the same.
				continue
			}
			a.add(typ, a.renderCycle(typ, steps))
			found = append(found, typ)
			for x := range impliedBy([]string{spec.name}) {
				redundant[x] = true
			}
		}
	}
	return timeouts
}

// fallbackCycle walks depth-first from the component's first vertex,
// always to the first successor not yet on the walk, until it reaches one
// that is: any cycle, as Elle's fallback after a timeout. Each edge is
// labelled by the first relationship it carries, data ones first.
func fallbackCycle(g *graph, scc []int32, in func(int32) bool) []step {
	start := minOf(scc)
	onPath := map[int32]int{start: 0}
	path := []int32{start}
	var rels []uint8
	for {
		u := path[len(path)-1]
		next, rel := int32(-1), uint8(0)
		for i := g.off[u]; i < g.off[u+1]; i++ {
			w := g.tgt[i]
			if !in(w) {
				continue
			}
			if j, ok := onPath[w]; ok {
				// Close the loop at w.
				var steps []step
				for k := j; k < len(path)-1; k++ {
					steps = append(steps, step{from: path[k], to: path[k+1], rel: rels[k]})
				}
				return append(steps, step{from: u, to: w, rel: firstRel(g.mask[i])})
			}
			if next < 0 {
				next, rel = w, firstRel(g.mask[i])
			}
		}
		if next < 0 {
			return nil // not strongly connected after all
		}
		onPath[next] = len(path)
		path = append(path, next)
		rels = append(rels, rel)
	}
}

func firstRel(m uint8) uint8 {
	for _, r := range []uint8{relWW, relWR, relRW, relProcess, relRealtime} {
		if m&r != 0 {
			return r
		}
	}
	return 0
}

// timeout describes a component whose search ran out of budget while
// looking for typ, like Elle's cycle-search-timeout anomaly.
func (a *analysis) timeout(typ string, searched, found []string, size int) map[string]any {
	var absent []edn.Keyword
	for _, t := range searched {
		if !slices.Contains(found, t) {
			absent = append(absent, edn.Keyword(t))
		}
	}
	return map[string]any{"type": edn.Keyword(CycleTimeout), "anomaly-spec-type": edn.Keyword(typ),
		"does-not-contain": absent, "scc-size": size}
}

func minOf(vs []int32) int32 {
	m := vs[0]
	for _, v := range vs {
		m = min(m, v)
	}
	return m
}

// searchComponent looks for one cycle meeting c inside a component. It
// narrows to the sub-components of the relationships c may use, then tries
// each start edge whose ends share a sub-component, until one closes into
// an acceptable cycle or the budget runs out.
func (a *analysis) searchComponent(s *searcher, scc []int32, inSCC func(int32) bool, sub []int32, c constraint, start uint8, budget int) ([]step, bool) {
	g := a.g
	subs := g.sccs(scc, inSCC, c.rels|start, sub)
	for si := range subs {
		in := func(v int32) bool { return inSCC(v) && sub[v] == int32(si) }
		for _, u := range subs[si] {
			for i := g.off[u]; i < g.off[u+1]; i++ {
				v := g.tgt[i]
				if g.mask[i]&start == 0 || !in(v) {
					continue
				}
				steps, complete := s.close(step{from: u, to: v, rel: start}, in, c, budget)
				if steps != nil {
					return steps, true
				}
				if !complete {
					return nil, false
				}
			}
		}
	}
	return nil, true
}

// relabel names each step of a cycle by the relationship Elle's explainer
// would give it when an edge carries several: its data explainers come
// before the process or realtime one, and among them list-append tries ww,
// wr, rw in turn while rw-register tries wr before ww and rw. The cycle's
// class follows from these labels, so a search that used an edge for its rw
// can find a cycle Elle calls something else.
func (a *analysis) relabel(steps []step) []step {
	order := []uint8{relWR, relWW, relRW, relProcess, relRealtime}
	if a.lists {
		order = []uint8{relWW, relWR, relRW, relProcess, relRealtime}
	}
	out := make([]step, len(steps))
	for i, st := range steps {
		out[i] = st
		m := a.g.maskOf(st.from, st.to)
		for _, r := range order {
			if m&r != 0 {
				out[i].rel = r
				break
			}
		}
	}
	return out
}

// classify names a cycle by its edges, as Elle's cycle explainer does:
// by its rw edges (none: G0 or G1c; one: G-single-item; several:
// G-nonadjacent-item unless two are adjacent, then G2-item), suffixed
// -realtime or -process if it has such an edge.
func classify(steps []step) string {
	var wr, rw, proc, rt int
	adjacentRW := false
	for i, st := range steps {
		switch st.rel {
		case relWR:
			wr++
		case relRW:
			rw++
			if steps[(i+1)%len(steps)].rel == relRW {
				adjacentRW = true
			}
		case relProcess:
			proc++
		case relRealtime:
			rt++
		}
	}
	var base string
	switch {
	case rw == 1:
		base = GSingleItem
	case rw > 1 && adjacentRW:
		base = G2Item
	case rw > 1:
		base = GNonadjacentItem
	case wr > 0:
		base = G1c
	default:
		base = G0
	}
	switch {
	case rt > 0:
		return base + variantRealtime
	case proc > 0:
		return base + variantProcess
	}
	return base
}
