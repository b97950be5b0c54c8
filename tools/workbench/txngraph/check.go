// Package txngraph judges transactional histories over read/write registers
// the way Elle's rw-register checker does: it infers dependencies between
// committed transactions from the values they read and wrote (values are
// unique per key), looks for cycles in that dependency graph and for
// non-cycle anomalies (aborted and intermediate reads, internal
// inconsistency, garbage reads, lost updates), and decides from the
// consistency models under test which of them fail the run.
//
// Version order comes only from what the history proves: the initial nil
// precedes every version, and a transaction that read v and then wrote v'
// of the same key puts v before v' ("writes follow reads"). From it we get
// ww (T1's version overwritten by T2), wr (T2 read T1's version) and rw
// (T2 overwrote the version T1 read) edges; strict models add realtime or
// process order. Cycles are found per strongly connected component
// (Tarjan) with a breadth-first search for a short cycle of each type.
package txngraph

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/edn"
	"github.com/glomers/glomers/tools/workbench/history"
)

// Limits on how much a run's result holds and how long cycle search may
// take. A cycle search that runs out of budget is reported as
// cycle-search-timeout, which (as in Maelstrom) does not fail the run.
const (
	maxReported      = 32        // anomalies listed per type; all are counted
	searchBudget     = 2_000_000 // edge visits per component and cycle type
	totalSearchLimit = 60_000_000
)

type kv struct{ k, v int64 }

// write is one write micro-op, indexed by the key and value it wrote.
type write struct {
	txn          int // index into analysis.txns
	intermediate bool
}

type analysis struct {
	txns      []Txn
	ok        []int   // vertex -> index into txns
	vertexOf  []int32 // txn index -> vertex, or -1
	extReads  []map[int64]version
	extWrites []map[int64]int64

	writes    map[kv][]write
	anomalies map[string][]any
	counts    map[string]int
	g         *graph
	lists     bool // list-append: values are list elements
}

func (a *analysis) add(typ string, anomaly any) {
	a.counts[typ]++
	if len(a.anomalies[typ]) < maxReported {
		a.anomalies[typ] = append(a.anomalies[typ], anomaly)
	}
}

// Check judges a txn-rw-register history under the given consistency
// models (none means strict-serializable). The result has Elle's keys
// (valid?, anomaly-types, anomalies, not, also-not) plus anomaly-counts
// and first-error.
//
// Anomaly types Elle does not report under these models (see strict.go)
// count too unless strictness is checker.AsMaelstrom; they are listed under
// "strict" (or "strict-not-judged").
func Check(h history.History, modelNames []string, strictness ...checker.Strictness) checker.Result {
	prohibited, err := prohibitedBy(modelNames)
	if err != nil {
		return checker.Result{"valid?": checker.Unknown, "error": err.Error()}
	}
	txns, parseErrs := Txns(h)
	a := &analysis{txns: txns, anomalies: map[string][]any{}, counts: map[string]int{}}
	a.index()
	a.checkReads()
	a.checkDuplicates()
	a.checkLostUpdates()
	versionEdges := a.versionOrder()
	process, realtime := needsEdges(prohibited)
	a.buildGraph(versionEdges, process, realtime)
	timeouts := a.findCycles()

	return a.result(prohibited, parseErrs, timeouts, strictTypes(modelNames), strictnessOf(strictness))
}

func strictnessOf(s []checker.Strictness) checker.Strictness {
	if len(s) > 0 {
		return s[len(s)-1]
	}
	return checker.Strict
}

// result assembles the verdict from the anomalies found.
func (a *analysis) result(prohibited map[string]bool, parseErrs []error, timeouts []any, strict map[string]bool, s checker.Strictness) checker.Result {
	res := checker.Result{}
	var found, reportable []string
	for t := range a.counts {
		found = append(found, t)
		if prohibited[t] || t == EmptyGraph {
			reportable = append(reportable, t)
		}
	}
	sort.Strings(found)
	sort.Strings(reportable)
	if len(parseErrs) > 0 {
		var msgs []string
		for i, e := range parseErrs {
			if i == maxReported {
				break
			}
			msgs = append(msgs, e.Error())
		}
		res["unparsed-txns"] = msgs
	}
	if len(timeouts) > 0 {
		res["cycle-search-timeout"] = timeouts
	}
	counts := map[string]any{}
	for t, n := range a.counts {
		counts[t] = n
	}
	res["anomaly-counts"] = counts
	reportable = judgeStrict(res, reportable, strict, s)
	if len(reportable) == 0 {
		res["valid?"] = checker.Valid
		return res
	}
	// Elle would say :unknown for an empty graph alone; Maelstrom's wrapper
	// turns any remaining anomaly type into false, and so do we.
	res["valid?"] = checker.Invalid
	sorted := slices.Sorted(slices.Values(reportable))
	types := make([]edn.Keyword, len(sorted))
	anomalies := map[string]any{}
	for i, t := range sorted {
		types[i] = edn.Keyword(t)
		anomalies[t] = a.anomalies[t]
	}
	res["anomaly-types"] = types
	res["anomalies"] = anomalies
	if s == checker.AsMaelstrom {
		found = slices.DeleteFunc(found, func(t string) bool { return strict[t] })
	}
	not, alsoNot := boundary(found)
	res["not"] = keywords(not)
	res["also-not"] = keywords(alsoNot)
	res["first-error"] = a.firstError(reportable, strict)
	return res
}

func keywords(names []string) []edn.Keyword {
	out := make([]edn.Keyword, len(names))
	for i, n := range names {
		out[i] = edn.Keyword(n)
	}
	return out
}

// index computes each ok txn's external reads (the first access of a key,
// when it is a read) and external writes (the last write of each key), and
// indexes every write of every txn by key and value.
func (a *analysis) index() {
	a.vertexOf = make([]int32, len(a.txns))
	a.writes = map[kv][]write{}
	for i, t := range a.txns {
		a.vertexOf[i] = -1
		if t.Type == history.OK {
			a.vertexOf[i] = int32(len(a.ok))
			a.ok = append(a.ok, i)
		}
		last := map[int64]int{} // key -> position of its last write
		for j, m := range t.Mops {
			if m.F == "w" {
				last[m.Key] = j
			}
		}
		for j, m := range t.Mops {
			if m.F == "w" {
				a.writes[kv{m.Key, m.Value}] = append(a.writes[kv{m.Key, m.Value}], write{txn: i, intermediate: last[m.Key] != j})
			}
		}
	}
	a.extReads = make([]map[int64]version, len(a.ok))
	a.extWrites = make([]map[int64]int64, len(a.ok))
	for vtx, i := range a.ok {
		reads, writes := map[int64]version{}, map[int64]int64{}
		touched := map[int64]bool{}
		for _, m := range a.txns[i].Mops {
			if m.F == "r" && !touched[m.Key] && m.Raw == nil {
				reads[m.Key] = version{m.Value, m.Nil}
			}
			touched[m.Key] = true
			if m.F == "w" {
				writes[m.Key] = m.Value
			}
		}
		a.extReads[vtx], a.extWrites[vtx] = reads, writes
	}
}

// checkReads looks at every read of every ok txn: against the txn's own
// earlier accesses (internal), and against who wrote the value read
// (garbage, G1a, G1b).
func (a *analysis) checkReads() {
	for _, i := range a.ok {
		t := a.txns[i]
		state := map[int64]version{}
		internalDone := false
		for j, m := range t.Mops {
			if m.F == "w" {
				state[m.Key] = version{value: m.Value}
				continue
			}
			if m.Raw != nil {
				a.add(GarbageRead, map[string]any{"op": a.renderTxn(i), "mop": renderMop(m)})
				continue
			}
			// Like Elle, an earlier nil read says nothing: the key may
			// have been created since by someone else.
			if s, ok := state[m.Key]; ok && !s.initial && (m.Nil || s.value != m.Value) && !internalDone {
				a.add(Internal, map[string]any{"op": a.renderTxn(i), "mop": renderMop(m),
					"expected": renderVersion(s)})
				internalDone = true
			}
			state[m.Key] = version{m.Value, m.Nil}
			if m.Nil {
				continue
			}
			ws := a.writes[kv{m.Key, m.Value}]
			if len(ws) == 0 {
				a.add(GarbageRead, map[string]any{"op": a.renderTxn(i), "mop": renderMop(m)})
				continue
			}
			for _, w := range ws {
				wt := a.txns[w.txn]
				switch {
				case w.txn == i:
					// Reading a value this txn only writes later.
					if !internalDone && laterWrite(t.Mops, j, m) {
						a.add(Internal, map[string]any{"op": a.renderTxn(i), "mop": renderMop(m),
							"expected": "a value written before this read"})
						internalDone = true
					}
				case wt.Type == history.Fail:
					a.add(G1a, map[string]any{"op": a.renderTxn(i), "mop": renderMop(m), "writer": a.renderTxn(w.txn)})
				case w.intermediate:
					a.add(G1b, map[string]any{"op": a.renderTxn(i), "mop": renderMop(m), "writer": a.renderTxn(w.txn)})
				}
			}
		}
	}
}

func laterWrite(mops []Mop, j int, r Mop) bool {
	for _, m := range mops[j+1:] {
		if m.F == "w" && m.Key == r.Key && m.Value == r.Value {
			return true
		}
	}
	return false
}

func (a *analysis) checkDuplicates() {
	var dups []kv
	for k, ws := range a.writes {
		if len(ws) > 1 {
			dups = append(dups, k)
		}
	}
	sort.Slice(dups, func(i, j int) bool {
		return dups[i].k < dups[j].k || dups[i].k == dups[j].k && dups[i].v < dups[j].v
	})
	for _, d := range dups {
		var writers []any
		for _, w := range a.writes[d] {
			writers = append(writers, a.renderTxn(w.txn))
		}
		a.add(DuplicateW, map[string]any{"key": d.k, "value": d.v, "writers": writers})
	}
}

// checkLostUpdates finds ok txns that read the same version of a key and
// both wrote that key: whichever came second lost the first's update.
func (a *analysis) checkLostUpdates() {
	type kver struct {
		k int64
		v version
	}
	groups := map[kver][]int32{}
	var order []kver
	for vtx := range a.ok {
		for k, r := range a.extReads[vtx] {
			if _, w := a.extWrites[vtx][k]; w {
				kv := kver{k, r}
				if groups[kv] == nil {
					order = append(order, kv)
				}
				groups[kv] = append(groups[kv], int32(vtx))
			}
		}
	}
	sort.Slice(order, func(i, j int) bool { return groups[order[i]][0] < groups[order[j]][0] })
	for _, kv := range order {
		vs := groups[kv]
		if len(vs) < 2 {
			continue
		}
		var txns []any
		for _, v := range vs {
			txns = append(txns, a.renderTxn(a.ok[v]))
		}
		a.add(LostUpdate, map[string]any{"key": kv.k, "value": renderVersion(kv.v), "txns": txns})
	}
}

// versionOrder infers, per key, which versions directly follow which from
// writes-follow-reads. A key whose inferred order has a cycle is reported
// and its order ignored, since no order can be built from it.
func (a *analysis) versionOrder() map[int64][][2]int64 {
	edges := map[int64][][2]int64{}
	for vtx := range a.ok {
		for k, r := range a.extReads[vtx] {
			if w, ok := a.extWrites[vtx][k]; ok && !r.initial && r.value != w {
				edges[k] = append(edges[k], [2]int64{r.value, w})
			}
		}
	}
	for k, es := range edges {
		if cyc := versionCycle(es); cyc != nil {
			a.add(CyclicVersion, map[string]any{"key": k, "scc": cyc})
			delete(edges, k)
		}
	}
	return edges
}

// versionCycle returns the values of some cyclic component of the version
// graph es, or nil if it is acyclic.
func versionCycle(es [][2]int64) []int64 {
	ids := map[int64]int32{}
	var vals []int64
	id := func(v int64) int32 {
		if i, ok := ids[v]; ok {
			return i
		}
		ids[v] = int32(len(vals))
		vals = append(vals, v)
		return ids[v]
	}
	type e struct{ u, v int32 }
	var list []e
	for _, x := range es {
		list = append(list, e{id(x[0]), id(x[1])})
	}
	g := newGraph(len(vals))
	for _, x := range list {
		g.link(x.u, x.v, relWW, why{})
	}
	g.freeze()
	all := make([]int32, len(vals))
	for i := range all {
		all[i] = int32(i)
	}
	comp := make([]int32, len(vals))
	sccs := g.sccs(all, func(int32) bool { return true }, relWW, comp)
	if len(sccs) == 0 {
		return nil
	}
	var out []int64
	for _, v := range sccs[0] {
		out = append(out, vals[v])
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (a *analysis) buildGraph(versionEdges map[int64][][2]int64, process, realtime bool) {
	g := newGraph(len(a.ok))
	a.g = g
	writers := map[kv][]int32{}          // ext writes of ok txns
	readers := map[kv][]int32{}          // ext reads of non-nil versions
	nilReaders := map[int64][]int32{}    // ext reads of nil
	keyWriters := map[int64][]kvWriter{} // every ext write of a key
	for vtx := range a.ok {
		v := int32(vtx)
		for k, w := range a.extWrites[vtx] {
			writers[kv{k, w}] = append(writers[kv{k, w}], v)
			keyWriters[k] = append(keyWriters[k], kvWriter{v, w})
		}
		for k, r := range a.extReads[vtx] {
			if r.initial {
				nilReaders[k] = append(nilReaders[k], v)
			} else {
				readers[kv{k, r.value}] = append(readers[kv{k, r.value}], v)
			}
		}
	}
	// wr: the one writer of a version precedes each reader. With several
	// writers (duplicates, reported separately) the order is ambiguous.
	for x, rs := range readers {
		if ws := writers[x]; len(ws) == 1 {
			for _, r := range rs {
				g.link(ws[0], r, relWR, why{key: x.k, from: version{value: x.v}})
			}
		}
	}
	// nil precedes every version: whoever read nil precedes (rw) every
	// writer of that key.
	for k, rs := range nilReaders {
		for _, r := range rs {
			for _, w := range keyWriters[k] {
				g.link(r, w.vtx, relRW, why{key: k, from: version{initial: true}, to: version{value: w.value}})
			}
		}
	}
	for k, es := range versionEdges {
		for _, e := range es {
			from, to := kv{k, e[0]}, kv{k, e[1]}
			w := why{key: k, from: version{value: e[0]}, to: version{value: e[1]}}
			for _, t2 := range writers[to] {
				for _, t1 := range writers[from] {
					g.link(t1, t2, relWW, w)
				}
				for _, t1 := range readers[from] {
					g.link(t1, t2, relRW, w)
				}
			}
		}
	}
	a.orderEdges(g, process, realtime)
	g.freeze()
}

// orderEdges adds the edges that come from the order txns ran in rather
// than from the values they saw, as the consistency models need them:
// each process's txns in sequence, and realtime precedence.
func (a *analysis) orderEdges(g *graph, process, realtime bool) {
	if process {
		last := map[int]int32{}
		for vtx, i := range a.ok {
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

type kvWriter struct {
	vtx   int32
	value int64
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
	for vtx, i := range a.ok {
		t := a.txns[i]
		events = append(events, event{t.InvokePos, int32(vtx), true}, event{t.CompletePos, int32(vtx), false})
	}
	sort.Slice(events, func(i, j int) bool { return events[i].pos < events[j].pos })
	frontier := map[int32]bool{}
	preds := make([][]int32, len(a.ok)) // frontier when each txn was invoked
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

// findCycles searches each strongly connected component of the whole graph
// for cycles of each type, most severe first, skipping types implied by
// one already found there. It returns descriptions of searches that ran out
// of budget.
func (a *analysis) findCycles() []any {
	g := a.g
	if g.n > 0 && !g.touched {
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
		foundAt := map[[2]int]bool{} // (base index, variant index) found
		implied := func(bi, vi int) bool {
			for f := range foundAt {
				if f[0] <= bi && f[1] <= vi {
					return true
				}
			}
			return false
		}
		for vi, variant := range variants {
			var vrel uint8
			switch variant {
			case variantProcess:
				vrel = relProcess
			case variantRealtime:
				vrel = relRealtime
			}
			if vrel != 0 && hasRel&vrel == 0 {
				continue
			}
			for bi, base := range cycleBase {
				if implied(bi, vi) {
					continue
				}
				if s.visited > totalSearchLimit {
					timeouts = append(timeouts, map[string]any{"type": edn.Keyword(base + variant), "scc-size": len(scc)})
					continue
				}
				c, startRel := cycleSpec(base, vrel)
				if hasRel&startRel == 0 {
					continue
				}
				steps, complete := a.searchComponent(s, scc, inSCC, sub, c, startRel)
				if steps == nil {
					if !complete {
						timeouts = append(timeouts, map[string]any{"type": edn.Keyword(base + variant), "scc-size": len(scc)})
					}
					continue
				}
				typ := classify(steps)
				a.add(typ, a.renderCycle(typ, steps))
				fb, fv := typeIndex(typ)
				foundAt[[2]int{fb, fv}] = true
				foundAt[[2]int{bi, vi}] = true
			}
		}
	}
	return timeouts
}

func minOf(vs []int32) int32 {
	m := vs[0]
	for _, v := range vs {
		m = min(m, v)
	}
	return m
}

// cycleSpec says which cycles count as the given type and which
// relationship the first edge of such a cycle can be chosen from.
func cycleSpec(base string, vrel uint8) (constraint, uint8) {
	var c constraint
	var start uint8
	switch base {
	case G0:
		c, start = constraint{rels: relWW, maxRW: 0}, relWW
	case G1c:
		c, start = constraint{rels: relWW | relWR, maxRW: 0}, relWR
	case GSingle:
		c, start = constraint{rels: relWW | relWR | relRW, minRW: 1, maxRW: 1}, relRW
	case GNonadjacent:
		c, start = constraint{rels: relData, minRW: 2, maxRW: -1, nonadjacent: true}, relRW
	case G2Item:
		c, start = constraint{rels: relData, minRW: 2, maxRW: -1}, relRW
	}
	if vrel != 0 {
		// Variant cycles start on their process/realtime edge so that
		// every cycle found needs one.
		c.rels |= vrel
		start = vrel
	}
	return c, start
}

// searchComponent looks for one cycle meeting c inside a component. It
// narrows to the sub-components of the relationships c may use, then tries
// each start edge whose ends share a sub-component, until one closes into
// an acceptable cycle or the budget runs out.
func (a *analysis) searchComponent(s *searcher, scc []int32, inSCC func(int32) bool, sub []int32, c constraint, start uint8) ([]step, bool) {
	g := a.g
	subs := g.sccs(scc, inSCC, c.rels|start, sub)
	budget := s.visited + searchBudget
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

// classify names a cycle by its edges, as Elle's cycle explainer does.
func classify(steps []step) string {
	// ww edges need no count: a cycle of nothing else is G0, the default.
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
		base = GSingle
	case rw > 1 && adjacentRW:
		base = G2Item
	case rw > 1:
		base = GNonadjacent
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

func typeIndex(typ string) (int, int) {
	vi := 0
	for i, v := range variants {
		if v != "" && strings.HasSuffix(typ, v) {
			vi = i
			typ = strings.TrimSuffix(typ, v)
		}
	}
	for i, b := range cycleBase {
		if b == typ {
			return i, vi
		}
	}
	return len(cycleBase), vi
}

// firstError describes the first reportable anomaly in one line.
func (a *analysis) firstError(types []string, strict map[string]bool) string {
	for _, t := range types {
		list := a.anomalies[t]
		if len(list) == 0 {
			if t == EmptyGraph {
				return "empty-transaction-graph: no dependencies between transactions could be inferred"
			}
			continue
		}
		m, _ := list[0].(map[string]any)
		label := t
		if strict[t] {
			label += " [strict]"
		}
		if expl, ok := m["explanation"].(string); ok {
			return fmt.Sprintf("%s (%d found): %s", label, a.counts[t], strings.ReplaceAll(expl, "\n", " "))
		}
		return fmt.Sprintf("%s (%d found): %s", label, a.counts[t], describe(m))
	}
	return ""
}

func describe(m map[string]any) string {
	var parts []string
	for _, k := range []string{"op", "mop", "expected", "writer", "key", "value", "writers", "txns", "scc"} {
		if v, ok := m[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %s", k, brief(v)))
		}
	}
	return strings.Join(parts, ", ")
}

func brief(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return fmt.Sprintf("{index %v, process %v, %v %v}", x["index"], x["process"], x["type"], x["value"])
	case []any:
		var parts []string
		for _, e := range x {
			parts = append(parts, brief(e))
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	return fmt.Sprint(v)
}
