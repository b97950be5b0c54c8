// Package txngraph judges Maelstrom's transactional histories
// (txn-rw-register and txn-list-append) the way Elle, Maelstrom's checker,
// does, and names what it finds as Elle names it: it infers dependencies
// between transactions from the values they read and wrote (values are
// unique per key), looks for cycles in that dependency graph and for
// non-cycle anomalies (aborted and intermediate reads, internal
// inconsistency, lost updates, and for lists incompatible orders,
// duplicate elements and dirty updates), and decides from the consistency
// models under test, by Elle's table of which model proscribes what, which
// of them fail the run. docs/anomalies.md describes the names.
//
// Version orders come only from what the history proves. For registers:
// the initial nil precedes every version, and a transaction that read v
// and then wrote v' of the same key puts v before v' (writes follow
// reads); for lists, the longest read of a key. From them come ww (T2
// overwrote T1's version), wr (T2 read T1's version) and rw (T2 overwrote
// the version T1 read) edges; strict models add realtime order, session
// models process order. Each strongly connected component (Tarjan) is
// searched for each class of cycle in Elle's order, breadth-first, and a
// cycle is named by its edges as Elle's explainer names them.
package txngraph

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/edn"
	"github.com/glomers/glomers/tools/workbench/history"
)

// maxReported bounds the anomalies listed per type; all are counted.
const maxReported = 32

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

type kv struct{ k, v int64 }

// write is one write micro-op, indexed by the key and value it wrote.
type write struct {
	txn          int // index into analysis.txns
	intermediate bool
}

type analysis struct {
	txns      []Txn
	ok        []int   // the ok txns (indices into txns)
	vtx       []int   // graph vertex -> index into txns
	vertexOf  []int32 // txn index -> vertex, or -1
	extReads  []map[int64]version
	extWrites []map[int64]int64

	writes    map[kv][]write
	anomalies map[string][]any
	counts    map[string]int
	g         *graph
	lists     bool // list-append: values are list elements
	// preferRead, if set, picks among a key's tied longest reads (tests
	// use it to replay Elle's choices).
	preferRead func(k int64, read []int64) bool
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
	a.checkLostUpdates("w")
	versionEdges := a.versionOrder()
	process, realtime := needsEdges(prohibited)
	a.buildGraph(versionEdges, process, realtime)
	timeouts := a.findCycles()
	// Maelstrom's txn-rw-register wraps Elle's checker to drop
	// cycle-search-timeout from the anomaly types (searches there time
	// out often and concern G2 only); the timeouts stay in the result.
	return a.result(prohibited, parseErrs, timeouts, false, strictTypes(modelNames), strictnessOf(strictness))
}

func strictnessOf(s []checker.Strictness) checker.Strictness {
	if len(s) > 0 {
		return s[len(s)-1]
	}
	return checker.Strict
}

// result assembles the verdict from the anomalies found.
//
// As in Elle, the prohibited anomalies make the run invalid; the "unknown"
// ones (empty-transaction-graph, and cycle-search-timeout when
// timeoutIsType) are reported too and make it unknown if nothing else is
// wrong. Maelstrom's rw-register wrapper instead treats any reported type
// as invalid, which the caller gets by leaving timeouts out of the types.
// Strict types (strict.go) count unless s is checker.AsMaelstrom.
func (a *analysis) result(prohibited map[string]bool, parseErrs []error, timeouts []any, timeoutIsType bool, strict map[string]bool, s checker.Strictness) checker.Result {
	res := checker.Result{}
	if timeoutIsType && len(timeouts) > 0 {
		a.counts[CycleTimeout] = len(timeouts)
		a.anomalies[CycleTimeout] = timeouts
	}
	// Cycle-exists anomalies are a fallback: keep only those no reported
	// named anomaly already explains.
	var named []string
	for t := range a.counts {
		if !isCycleExists(t) && (prohibited[t] || t == EmptyGraph || t == CycleTimeout) {
			named = append(named, t)
		}
	}
	impossible := impossibleModels(named)
	for t := range a.counts {
		if isCycleExists(t) && (!prohibited[t] || impossible[strings.TrimSuffix(t, "-cycle-exists")]) {
			delete(a.counts, t)
			delete(a.anomalies, t)
		}
	}
	var found, reportable []string
	bad := false
	for t := range a.counts {
		found = append(found, t)
		switch {
		case prohibited[t]:
			reportable = append(reportable, t)
			bad = true
		case t == EmptyGraph || t == CycleTimeout:
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
	res["valid?"] = checker.Invalid
	bad = false
	for _, t := range reportable {
		bad = bad || prohibited[t]
	}
	if !bad && timeoutIsType {
		res["valid?"] = checker.Unknown
	}
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
	a.vtx = a.ok
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
