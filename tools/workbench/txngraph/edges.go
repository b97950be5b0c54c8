package txngraph

import (
	"sort"
)

// Edges from the order transactions ran in, not from the values they saw: the
// session models need each process's order, the strict ones real time.

// orderEdges adds the edges that come from the order txns ran in rather
// than from the values they saw, as the consistency models need them:
// each process's txns in sequence, and realtime precedence.
func (a *analysis) orderEdges(g *graph, process, realtime bool) {
	if process {
		last := map[int]int32{}
		for vtx, i := range a.vtx {
			p := a.txns[i].Process
			if prev, ok := last[p]; ok {
				g.link(prev, int32(vtx), relProcess, why{})
			}
			last[p] = int32(vtx)
		}
	}
	if realtime {
		a.realtimeEdges(g)
	}
}

// realtimeEdges links each ok txn to every ok txn invoked after it
// completed, keeping only a frontier of latest completions so the edge
// count stays near (txns × concurrency); the rest follow transitively.
func (a *analysis) realtimeEdges(g *graph) {
	type event struct {
		pos    int
		vtx    int32
		invoke bool
	}
	var events []event
	for vtx, i := range a.vtx {
		t := a.txns[i]
		// An info txn never completes (CompletePos is the history's
		// end): it can follow others in real time, never precede them.
		events = append(events, event{t.InvokePos, int32(vtx), true}, event{t.CompletePos, int32(vtx), false})
	}
	sort.Slice(events, func(i, j int) bool { return events[i].pos < events[j].pos })
	frontier := map[int32]bool{}
	preds := make([][]int32, len(a.vtx)) // frontier when each txn was invoked
	for _, e := range events {
		if e.invoke {
			for f := range frontier {
				preds[e.vtx] = append(preds[e.vtx], f)
				g.link(f, e.vtx, relRealtime, why{})
			}
			continue
		}
		for _, p := range preds[e.vtx] {
			delete(frontier, p)
		}
		preds[e.vtx] = nil
		frontier[e.vtx] = true
	}
}
