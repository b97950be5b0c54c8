package txngraph

import (
	"slices"
	"sort"

	"github.com/glomers/glomers/tools/workbench/edn"
)

// Elle also proves, per component, that a model fails without naming a
// cycle: it projects the component onto the relationships a model forbids
// cycles over and reports "<model>-cycle-exists" when that projection is
// still cyclic. Such an anomaly survives in the result only if no named
// anomaly already rules the model out (e.g. when the named searches ran
// out of budget, or found only cycles their explainer named otherwise).

// cycleExistsSpec is one model and the subgraph that must be acyclic if it
// holds; with then set, the subgraph is rels extended by one hop of then
// (snapshot isolation: any path that ends in a single rw edge).
type cycleExistsSpec struct {
	model string // canonical name
	rels  uint8
	then  uint8
}

var cycleExistsSpecs = []cycleExistsSpec{
	{model: "PL-1", rels: relWW},
	{model: "PL-2", rels: relWW | relWR},
	{model: "PL-SI", rels: relWW | relWR, then: relRW},
	{model: "PL-2.99", rels: relData},
	{model: "PL-3", rels: relData},
	{model: "strong-session-PL-1", rels: relWW | relProcess},
	{model: "strong-session-PL-2", rels: relWW | relWR | relProcess},
	{model: "strong-session-snapshot-isolation", rels: relWW | relWR | relProcess, then: relRW},
	{model: "strong-session-serializable", rels: relData | relProcess},
	{model: "strong-PL-1", rels: relWW | relRealtime},
	{model: "strong-PL-2", rels: relWW | relWR | relRealtime},
	{model: "strong-snapshot-isolation", rels: relWW | relWR | relRealtime, then: relRW},
	{model: "PL-SS", rels: relData | relRealtime},
}

func cycleExistsType(model string) string { return model + "-cycle-exists" }

// cycleExists adds the cycle-exists anomalies of one component, in the
// order of cycleExistsSpecs; every model stronger than one found cyclic is
// skipped, as it fails too.
func (a *analysis) cycleExists(scc []int32, inSCC func(int32) bool, sub []int32) {
	g := a.g
	redundant := map[string]bool{}
	for _, spec := range cycleExistsSpecs {
		if redundant[spec.model] {
			continue
		}
		var cyclic []int32
		if spec.then == 0 {
			if subs := g.sccs(scc, inSCC, spec.rels, sub); len(subs) > 0 {
				cyclic = smallest(subs)
			}
		} else {
			cyclic = extendedCycle(g, scc, inSCC, spec.rels, spec.then)
		}
		if cyclic == nil {
			continue
		}
		idx := make([]int, len(cyclic))
		for i, v := range cyclic {
			idx[i] = a.txns[a.vtx[v]].Complete.Index
		}
		sort.Ints(idx)
		a.add(cycleExistsType(spec.model), map[string]any{
			"type": edn.Keyword(cycleExistsType(spec.model)), "not": edn.Keyword(friendlyName(spec.model)),
			"scc-size": len(cyclic), "scc": idx})
		for m := range reach(modelDAG.in, []string{spec.model}) {
			redundant[m] = true
		}
	}
}

func smallest(subs [][]int32) []int32 {
	best := subs[0]
	for _, s := range subs[1:] {
		if len(s) < len(best) {
			best = s
		}
	}
	return best
}

// extendedCycle looks for a cycle in the graph of the component's rels
// edges plus an edge x→z for every x→y over rels followed by y→z over
// then. It returns the vertices of the smallest cyclic component of that
// graph (a single vertex if it has an edge to itself), or nil.
func extendedCycle(g *graph, scc []int32, in func(int32) bool, rels, then uint8) []int32 {
	local := map[int32]int32{}
	for i, v := range scc {
		local[v] = int32(i)
	}
	ext := newGraph(len(scc))
	var selfLoop []int32
	for _, x := range scc {
		for i := g.off[x]; i < g.off[x+1]; i++ {
			y := g.tgt[i]
			if g.mask[i]&rels == 0 || !in(y) {
				continue
			}
			ext.link(local[x], local[y], relWW, why{})
			for j := g.off[y]; j < g.off[y+1]; j++ {
				z := g.tgt[j]
				if g.mask[j]&then == 0 || !in(z) {
					continue
				}
				if z == x && selfLoop == nil {
					selfLoop = []int32{x}
				}
				ext.link(local[x], local[z], relWW, why{})
			}
		}
	}
	ext.freeze()
	all := make([]int32, len(scc))
	for i := range all {
		all[i] = int32(i)
	}
	comp := make([]int32, len(scc))
	subs := ext.sccs(all, func(int32) bool { return true }, relWW, comp)
	if selfLoop != nil || len(subs) == 0 {
		return selfLoop // a single vertex with an edge to itself is smallest
	}
	out := slices.Clone(smallest(subs))
	for i, v := range out {
		out[i] = scc[v]
	}
	return out
}

func isCycleExists(t string) bool {
	const suffix = "-cycle-exists"
	return len(t) > len(suffix) && t[len(t)-len(suffix):] == suffix
}
