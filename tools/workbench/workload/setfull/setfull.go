// Package setfull is Jepsen's set-full checker, which Maelstrom runs for
// both of its set workloads: broadcast (adds are "broadcast" ops) and g-set
// (adds are "add" ops). Every acknowledged element must eventually show up
// in every read; the time it takes is the stable latency. The broadcast
// and g-set workloads call Check with their add f and Strict for the
// workbench's stricter verdict on invented elements.
package setfull

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/edn"
	"github.com/glomers/glomers/tools/workbench/history"
)

// Check is Jepsen's set-full checker in its default (not linearizable)
// mode, with the ops whose f is add in the role of adds (Maelstrom's
// broadcast workload uses "broadcast", g-set "add") and "read" ops
// returning the set as a list. Its verdict is Maelstrom's, key for key:
//
//   - For every value whose add was invoked, only ok reads that complete
//     after that invocation count. The value is known from the earlier of
//     its add's ok and the first read that returned it.
//   - last-present / last-absent are the latest reads (by invocation) that
//     did / did not contain it. It is stable if some read contained it and
//     no later-invoked read missed it; lost if it was known, and a read
//     invoked after both the last read that had it and the moment it
//     became known missed it; otherwise never-read.
//   - :valid? is false if anything was lost, :unknown if nothing is stable.
//
// Two things Maelstrom does not fail a run for, and neither do we:
// values in reads that were never added are ignored, and duplicates
// never count (Jepsen 0.3.7's duplicate test is `count < 1`, which no
// count satisfies, so :duplicated is always empty). A node that makes up
// values is therefore not rejected for the invented values themselves.
// We report them as diagnostics (:unexpected, :repeated-in-read) without
// touching :valid?, so results stay comparable with Maelstrom's; a node
// that invents values in place of the real ones still fails, because the
// real ones are then lost — that is how the broadcast-invent fixture is
// built, and how such a bug shows up under the real Maelstrom too.
func Check(h history.History, add string) checker.Result {
	a := analyse(h, add)
	rs := make([]elementResult, 0, len(a.order))
	for _, k := range a.order {
		rs = append(rs, a.elements[k].result())
	}
	sortResults(rs)

	var stable, lost, neverRead, stale []elementResult
	var stableLat, lostLat, disseminationLat []int64
	for _, r := range rs {
		switch r.outcome {
		case "stable":
			stable = append(stable, r)
			stableLat = append(stableLat, r.stableLatency)
			disseminationLat = append(disseminationLat, r.disseminationLatency)
			if r.stableLatency > 0 {
				stale = append(stale, r)
			}
		case "lost":
			lost = append(lost, r)
			lostLat = append(lostLat, r.lostLatency)
		default:
			neverRead = append(neverRead, r)
		}
	}

	valid := checker.Valid
	switch {
	case len(lost) > 0:
		valid = checker.Invalid
	case len(stable) == 0:
		valid = checker.Unknown
	}

	worstOut := worstStale(stale)

	res := checker.Result{
		"valid?":           valid,
		"attempt-count":    len(rs),
		"stable-count":     len(stable),
		"lost-count":       len(lost),
		"lost":             elementsOf(lost),
		"never-read-count": len(neverRead),
		"never-read":       elementsOf(neverRead),
		"stale-count":      len(stale),
		"stale":            elementsOf(stale),
		"worst-stale":      worstOut,
		"duplicated-count": 0,
		"duplicated":       map[string]any{},
		// Diagnostics beyond Maelstrom's keys; they never change valid?.
		"unexpected-count":       len(a.unexpected),
		"unexpected":             sortedValues(a.unexpected),
		"repeated-in-read-count": len(a.repeated),
		"repeated-in-read":       repeatedOut(a.repeated),
	}
	if q := checker.Quantiles(stableLat); q != nil {
		res["stable-latencies"] = q
	}
	if q := checker.Quantiles(disseminationLat); q != nil {
		res["dissemination-latencies"] = q
	}
	if q := checker.Quantiles(lostLat); q != nil {
		res["lost-latencies"] = q
	}
	switch {
	case len(lost) > 0:
		res["first-error"] = lost[0].describeLost(len(lost))
	case valid == checker.Unknown:
		res["first-error"] = fmt.Sprintf("no %s value became stable: %d attempted, %d never read after being acknowledged", add, len(rs), len(neverRead))
	}
	return res
}

// worstStale is :worst-stale, the details of the (at most 8) elements
// that took longest to become stable.
func worstStale(stale []elementResult) []any {
	worst := append([]elementResult(nil), stale...)
	// Highest stable latency first; among equals, Clojure's reverse of a
	// stable sort puts the later element first.
	sort.SliceStable(worst, func(i, j int) bool { return worst[i].stableLatency < worst[j].stableLatency })
	for i, j := 0, len(worst)-1; i < j; i, j = i+1, j-1 {
		worst[i], worst[j] = worst[j], worst[i]
	}
	worst = worst[:min(8, len(worst))]
	worstOut := make([]any, 0, len(worst))
	for _, r := range worst {
		worstOut = append(worstOut, r.detail())
	}
	return worstOut
}

// element is set-full's per-value state.
type element struct {
	value       any
	invoked     *indexed // the add's invocation
	known       *indexed // the add's ok, or the first read completion that had it
	lastPresent *indexed // read invocation
	lastAbsent  *indexed // read invocation
	// onNode is, per server node, whether the latest-invoked ok read on
	// that node had the value: the failure text names the nodes that have
	// it and those that miss it.
	onNode map[string]nodeRead
}

// nodeRead is the latest read on one node, by invocation.
type nodeRead struct {
	at      int
	present bool
}

// indexed is an op with its position in the history, which is what
// set-full compares (the op's own Index may not have been set).
type indexed struct {
	at int
	op history.Op
}

type analysis struct {
	elements   map[string]*element
	order      []string            // keys in first-invocation order
	unexpected map[string]any      // values read before any add of them was invoked
	repeated   map[string]repeated // values a single read returned more than once
}

type repeated struct {
	value any
	times int
}

func analyse(h history.History, add string) analysis {
	a := analysis{
		elements:   map[string]*element{},
		unexpected: map[string]any{},
		repeated:   map[string]repeated{},
	}
	invoked := map[string]bool{}
	reads := map[int]indexed{} // process → open read invocation
	for i, op := range h {
		if !op.IsClient() {
			continue
		}
		switch op.F {
		case add:
			k := history.Key(op.Value)
			if op.Type == history.Invoke {
				// A repeated value starts over, as set-full's assoc does.
				if _, seen := a.elements[k]; !seen {
					a.order = append(a.order, k)
				}
				a.elements[k] = &element{value: op.Value, invoked: &indexed{i, op}}
				invoked[k] = true
				continue
			}
			if e := a.elements[k]; e != nil && op.Type == history.OK && e.known == nil {
				e.known = &indexed{i, op}
			}
		case "read":
			if op.Type == history.Invoke {
				reads[op.Process] = indexed{i, op}
				continue
			}
			inv, ok := reads[op.Process]
			delete(reads, op.Process)
			if op.Type != history.OK || !ok {
				continue
			}
			vals, _ := op.Value.([]any)
			present := make(map[string]int, len(vals))
			for _, v := range vals {
				k := history.Key(v)
				present[k]++
				if n := present[k]; n > 1 && n > a.repeated[k].times {
					a.repeated[k] = repeated{value: v, times: n}
				}
				if !invoked[k] {
					// Returned before any client added it: made up.
					a.unexpected[k] = v
				}
			}
			done := &indexed{i, op}
			node := inv.op.Node
			if node == "" {
				node = op.Node
			}
			for _, k := range a.order {
				e := a.elements[k]
				if node != "" {
					if e.onNode == nil {
						e.onNode = map[string]nodeRead{}
					}
					if last, seen := e.onNode[node]; !seen || last.at < inv.at {
						e.onNode[node] = nodeRead{at: inv.at, present: present[k] > 0}
					}
				}
				if present[k] > 0 {
					if e.known == nil {
						e.known = done
					}
					if e.lastPresent == nil || e.lastPresent.at < inv.at {
						e.lastPresent = &inv
					}
				} else if e.lastAbsent == nil || e.lastAbsent.at < inv.at {
					e.lastAbsent = &inv
				}
			}
		}
	}
	return a
}

// elementResult is set-full-element-results.
type elementResult struct {
	e             *element
	outcome       string // stable, lost, never-read
	stableLatency int64  // ms
	lostLatency   int64  // ms
	// disseminationLatency (ms, stable values only) runs from the
	// add's invocation to the invocation of the last read that
	// missed the value: how long a value takes to be visible everywhere,
	// whenever its node chose to acknowledge it. stableLatency starts at
	// the acknowledgement instead, so a node that holds its ok shortens
	// it without spreading anything faster.
	disseminationLatency int64
}

func (e *element) result() elementResult {
	idx := func(x *indexed) int {
		if x == nil {
			return -1
		}
		return x.at
	}
	r := elementResult{e: e, outcome: "never-read"}
	stable := e.lastPresent != nil && idx(e.lastAbsent) < idx(e.lastPresent)
	lost := e.known != nil && e.lastAbsent != nil && idx(e.lastPresent) < idx(e.lastAbsent) && e.known.at < e.lastAbsent.at
	latency := func(from, after *indexed) int64 {
		var t int64 // 0 when there is no such read, as in set-full
		if after != nil {
			t = after.op.Time + 1
		}
		return max(0, t-from.op.Time) / int64(time.Millisecond)
	}
	switch {
	case stable:
		r.outcome = "stable"
		r.stableLatency = latency(e.known, e.lastAbsent)
		r.disseminationLatency = latency(e.invoked, e.lastAbsent)
	case lost:
		r.outcome = "lost"
		r.lostLatency = latency(e.known, e.lastPresent)
	}
	return r
}

// detail is a :worst-stale entry.
func (r elementResult) detail() map[string]any {
	m := map[string]any{
		"element":        r.e.value,
		"outcome":        edn.Keyword(r.outcome),
		"stable-latency": r.stableLatency,
		"lost-latency":   nil,
		"known":          opMap(r.e.known),
		"last-absent":    opMap(r.e.lastAbsent),
	}
	return m
}

func opMap(x *indexed) any {
	if x == nil {
		return nil
	}
	m := x.op.Render()
	m["index"] = x.at
	return m
}

// describeLost is the first-error text of a lost value. It names the
// nodes: the one the value went to, the read that last saw it and where,
// the read that now misses it and where, and which nodes' latest reads have
// it or not, so that the message diagram can be opened there.
func (r elementResult) describeLost(n int) string {
	e := r.e
	var b strings.Builder
	fmt.Fprintf(&b, "value %v lost (%d lost in all): %s to %s at op %d (t=%s), known from op %d (%s, t=%s)", e.value, n,
		e.invoked.op.F, nodeName(e.invoked.op.Node), e.invoked.at, time.Duration(e.invoked.op.Time).Round(time.Millisecond),
		e.known.at, e.known.op.Type, time.Duration(e.known.op.Time).Round(time.Millisecond))
	if e.lastPresent != nil {
		fmt.Fprintf(&b, ", last seen by the read invoked at op %d on %s", e.lastPresent.at, nodeName(e.lastPresent.op.Node))
	} else {
		b.WriteString(", never seen by any read")
	}
	la := e.lastAbsent.op
	final := ""
	if la.Final {
		final = " final"
	}
	fmt.Fprintf(&b, ", missing from the%s read invoked at op %d (process %d", final, e.lastAbsent.at, la.Process)
	if la.Node != "" {
		fmt.Fprintf(&b, " on %s", la.Node)
	}
	fmt.Fprintf(&b, ", t=%s) and every read after", time.Duration(la.Time).Round(time.Millisecond))
	var have, miss []string
	for node, last := range e.onNode {
		if last.present {
			have = append(have, node)
		} else {
			miss = append(miss, node)
		}
	}
	if len(have)+len(miss) > 0 {
		sort.Strings(have)
		sort.Strings(miss)
		fmt.Fprintf(&b, "; the latest read on %s has it, on %s misses it", nodeList(have), nodeList(miss))
	}
	return b.String()
}

func nodeName(n string) string {
	if n == "" {
		return "an unknown node"
	}
	return n
}

// nodeList shortens long lists: a 25-node cluster must not make the line
// unreadable.
func nodeList(nodes []string) string {
	switch {
	case len(nodes) == 0:
		return "no node"
	case len(nodes) > 8:
		return strings.Join(nodes[:8], ", ") + fmt.Sprintf(" and %d more", len(nodes)-8)
	}
	return strings.Join(nodes, ", ")
}

// sortResults orders results by value, as set-full sorts its element map:
// numerically when every value is an integer, else by canonical text.
func sortResults(rs []elementResult) {
	vals := make([]any, len(rs))
	for i, r := range rs {
		vals[i] = r.e.value
	}
	less := valueLess(vals)
	sort.SliceStable(rs, func(i, j int) bool { return less(rs[i].e.value, rs[j].e.value) })
}

func valueLess(vals []any) func(a, b any) bool {
	allInts := true
	for _, v := range vals {
		if _, ok := history.Int(v); !ok {
			allInts = false
			break
		}
	}
	if allInts {
		return func(a, b any) bool {
			x, _ := history.Int(a)
			y, _ := history.Int(b)
			return x < y
		}
	}
	return func(a, b any) bool { return history.Key(a) < history.Key(b) }
}

func elementsOf(rs []elementResult) []any {
	out := make([]any, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.e.value)
	}
	return out
}

func sortedValues(m map[string]any) []any {
	out := make([]any, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	less := valueLess(out)
	sort.Slice(out, func(i, j int) bool { return less(out[i], out[j]) })
	return out
}

// repeatedOut lists values returned more than once by one read, with the
// most copies any single read held, as [value count] pairs.
func repeatedOut(m map[string]repeated) []any {
	vals := make([]any, 0, len(m))
	for _, r := range m {
		vals = append(vals, r.value)
	}
	less := valueLess(vals)
	sort.Slice(vals, func(i, j int) bool { return less(vals[i], vals[j]) })
	out := make([]any, 0, len(vals))
	for _, v := range vals {
		out = append(out, []any{v, m[history.Key(v)].times})
	}
	return out
}
