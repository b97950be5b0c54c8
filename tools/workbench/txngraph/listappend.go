package txngraph

import (
	"fmt"
	"slices"
	"sort"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
)

// ParseAppendMops reads a txn-list-append value: ["r", k, [e…] | null]
// and ["append", k, e]. A read value that is not a list of integers is
// kept in Raw (a garbage read).
func ParseAppendMops(v any) ([]Mop, error) {
	return parseTriples(v, func(i int, triple []any) (Mop, error) {
		f, _ := triple[0].(string)
		k, err := mopKey(i, triple[1])
		if err != nil {
			return Mop{}, err
		}
		m := Mop{F: f, Key: k}
		var ok bool
		switch f {
		case "append":
			if m.Value, ok = history.Int(triple[2]); !ok {
				return Mop{}, fmt.Errorf("micro-op %d appends non-integer %v", i, triple[2])
			}
		case "r":
			switch x := triple[2].(type) {
			case nil:
				m.Nil = true
			case []any:
				m.List = make([]int64, 0, len(x))
				for _, e := range x {
					n, ok := history.Int(e)
					if !ok {
						m.List, m.Raw = nil, triple[2]
						break
					}
					m.List = append(m.List, n)
				}
			default:
				m.Raw = triple[2]
			}
		default:
			return Mop{}, fmt.Errorf("micro-op %d has f %v, want \"r\" or \"append\"", i, triple[0])
		}
		return m, nil
	})
}

// CheckListAppend judges a txn-list-append history as Elle's list-append
// checker does. Each key's version order is the longest list read of it
// (every read must be a prefix of the next longer one, else the key has an
// incompatible-order). Over the ok
// and info txns, each append depends (ww) on the appender of the element
// just before it in that order and (rw) on every txn that read the list
// ending there, and each read depends (wr) on the appender of its last
// element. An append never read follows the last element known.
func CheckListAppend(h history.History, modelNames []string, strictness ...checker.Strictness) checker.Result {
	return checkListAppend(h, modelNames, nil, strictnessOf(strictness))
}

func checkListAppend(h history.History, modelNames []string, prefer func(int64, []int64) bool, s checker.Strictness) checker.Result {
	prohibited, err := prohibitedBy(modelNames)
	if err != nil {
		return checker.Result{"valid?": checker.Unknown, "error": err.Error()}
	}
	txns, parseErrs := appendTxns(h)
	a := &analysis{txns: txns, anomalies: map[string][]any{}, counts: map[string]int{}, lists: true, preferRead: prefer}
	a.vertexOf = make([]int32, len(txns))
	for i, t := range txns {
		a.vertexOf[i] = -1
		if t.Type == history.OK {
			a.ok = append(a.ok, i)
		}
		if t.Type != history.Fail {
			a.vertexOf[i] = int32(len(a.vtx))
			a.vtx = append(a.vtx, i)
		}
	}
	// Who appended each element, and whether it was that txn's last
	// append to the key.
	a.writes = map[kv][]write{}
	for i, t := range txns {
		last := map[int64]int{}
		for j, m := range t.Mops {
			if m.F == "append" {
				last[m.Key] = j
			}
		}
		for j, m := range t.Mops {
			if m.F == "append" {
				x := kv{m.Key, m.Value}
				a.writes[x] = append(a.writes[x], write{txn: i, intermediate: last[m.Key] != j})
			}
		}
	}
	a.checkDuplicates()
	a.listChecks()
	orders := a.appendOrders(a.vtx, true)
	// Elle looks for dirty updates in orders built from every txn,
	// failed ones included.
	all := make([]int, len(txns))
	for i := range all {
		all[i] = i
	}
	a.checkDirtyUpdates(a.appendOrders(all, false))
	a.checkLostUpdates("append")
	process, realtime := needsEdges(prohibited)
	a.listGraph(orders, process, realtime)
	timeouts := a.findCycles()
	return a.result(prohibited, parseErrs, timeouts, true, strictTypes(modelNames), s)
}

func appendTxns(h history.History) ([]Txn, []error) { return pairTxns(h, ParseAppendMops) }

// listChecks finds the anomalies visible in single reads: garbage,
// aborted (G1a) and intermediate (G1b) reads, duplicate elements, and
// reads that contradict the txn's own appends (internal).
func (a *analysis) listChecks() {
	for _, i := range a.ok {
		t := a.txns[i]
		state := map[int64]expected{}
		internalDone := false
		for _, m := range t.Mops {
			if m.F == "append" {
				state[m.Key] = state[m.Key].then(m.Value)
				continue
			}
			if m.Raw != nil {
				a.add(GarbageRead, map[string]any{"op": a.renderTxn(i), "mop": renderMop(m)})
				continue
			}
			list := m.List
			if exp := state[m.Key]; !internalDone && !exp.admits(m) {
				a.add(Internal, map[string]any{"op": a.renderTxn(i), "mop": renderMop(m), "expected": exp.render()})
				internalDone = true
			}
			if m.Nil {
				state[m.Key] = expected{kind: expectNil}
			} else {
				state[m.Key] = expected{kind: expectList, list: list}
			}
			dup := map[int64]bool{}
			dupDone := false
			for _, e := range list {
				if dup[e] {
					if !dupDone {
						a.add(DuplicateElements, map[string]any{"op": a.renderTxn(i), "mop": renderMop(m), "element": e})
						dupDone = true
					}
					continue
				}
				dup[e] = true
				ws := a.writes[kv{m.Key, e}]
				if len(ws) == 0 {
					a.add(GarbageRead, map[string]any{"op": a.renderTxn(i), "mop": renderMop(m), "element": e})
					continue
				}
				for _, w := range ws {
					if a.txns[w.txn].Type == history.Fail {
						a.add(G1a, map[string]any{"op": a.renderTxn(i), "mop": renderMop(m), "element": e, "writer": a.renderTxn(w.txn)})
					}
				}
			}
			if n := len(list); n > 0 {
				for _, w := range a.writes[kv{m.Key, list[n-1]}] {
					if w.intermediate && w.txn != i {
						a.add(G1b, map[string]any{"op": a.renderTxn(i), "mop": renderMop(m), "writer": a.renderTxn(w.txn)})
					}
				}
			}
		}
	}
}

// appendOrders computes each key's version order from the non-empty lists
// the given txns read (a key they append exactly once has just that
// element), and, if report, reports keys whose reads are not all prefixes
// of one another as incompatible-order.
func (a *analysis) appendOrders(txns []int, report bool) map[int64][]int64 {
	reads := map[int64][][]int64{}
	type keyRead struct {
		k  int64
		id valueID
	}
	seen := map[keyRead]bool{}
	appends := map[int64][]int64{}
	for _, i := range txns {
		for _, m := range a.txns[i].Mops {
			switch {
			case m.F == "append":
				appends[m.Key] = append(appends[m.Key], m.Value)
			case m.F == "r" && len(m.List) > 0:
				id := keyRead{m.Key, readID(m)}
				if !seen[id] {
					seen[id] = true
					reads[m.Key] = append(reads[m.Key], m.List)
				}
			}
		}
	}
	for k, es := range appends {
		if len(es) == 1 {
			reads[k] = [][]int64{es}
		}
	}
	keys := make([]int64, 0, len(reads))
	for k := range reads {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	orders := map[int64][]int64{}
	for _, k := range keys {
		vs := slices.Clone(reads[k])
		sort.SliceStable(vs, func(i, j int) bool {
			if len(vs[i]) != len(vs[j]) {
				return len(vs[i]) < len(vs[j])
			}
			return slices.Compare(vs[i], vs[j]) < 0
		})
		for j := 1; j < len(vs); j++ {
			if report && !isPrefix(vs[j-1], vs[j]) {
				a.add(IncompatibleOrder, map[string]any{"key": k, "values": []any{vs[j-1], vs[j]}})
				break
			}
		}
		// Elle takes the longest read as the order. Of several (reads
		// that disagree), it takes whichever its hash set of reads yields
		// last, an order we do not reproduce; we take the first read in
		// the history, so on such keys the edges can differ from Elle's.
		longest := reads[k][0]
		for _, v := range reads[k] {
			if len(v) > len(longest) || len(v) == len(longest) && a.preferRead != nil && a.preferRead(k, v) {
				longest = v
			}
		}
		orders[k] = distinct(longest)
	}
	return orders
}

func isPrefix(a, b []int64) bool {
	return len(a) <= len(b) && slices.Equal(a, b[:len(a)])
}

func distinct(xs []int64) []int64 {
	seen := map[int64]bool{}
	out := make([]int64, 0, len(xs))
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// checkDirtyUpdates walks each key's version order looking for an element
// appended by a failed txn that is followed by one appended by an ok txn:
// the committed txn built on state that was rolled back.
func (a *analysis) checkDirtyUpdates(orders map[int64][]int64) {
	keys := make([]int64, 0, len(orders))
	for k := range orders {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, k := range keys {
		prevType, prevTxn := history.OK, -1 // the initial state is committed
		var vs []any
		for _, e := range orders[k] {
			ws := a.writes[kv{k, e}]
			if len(ws) == 0 {
				continue // a garbage element, reported as such
			}
			w := ws[len(ws)-1].txn
			vs = append(vs, e)
			switch typ := a.txns[w].Type; {
			case typ == history.OK:
				if prevType == history.Fail {
					a.add(DirtyUpdate, map[string]any{"key": k, "values": vs,
						"txns": []any{a.renderTxn(prevTxn), "...", a.renderTxn(w)}})
				}
				prevType, prevTxn, vs = typ, w, []any{e}
			case typ == history.Fail && prevType != history.Fail:
				prevType, prevTxn, vs = typ, w, []any{e}
			}
			// An info appender (or a failed one after a failed one) keeps
			// the range open: we cannot tell yet.
		}
	}
}

// listGraph builds the dependency graph over ok and info txns from the
// version orders, then adds process or realtime order.
func (a *analysis) listGraph(orders map[int64][]int64, process, realtime bool) {
	g := newGraph(len(a.vtx))
	a.g = g
	// The (non-failed) appender of each element, and the readers of each
	// list by its last element (nil key for the empty list).
	type kve struct {
		k       int64
		e       int64
		initial bool
	}
	appender := map[kv]int32{}
	readers := map[kve][]int32{}
	for vtx, i := range a.vtx {
		for _, m := range a.txns[i].Mops {
			switch {
			case m.F == "append":
				appender[kv{m.Key, m.Value}] = int32(vtx)
			case m.F == "r" && m.Raw == nil && !(m.Nil && a.txns[i].Type != history.OK):
				x := kve{k: m.Key, initial: true}
				if n := len(m.List); n > 0 {
					x = kve{k: m.Key, e: m.List[n-1]}
				}
				readers[x] = append(readers[x], int32(vtx))
			}
		}
	}
	pos := map[kv]int{}
	for k, order := range orders {
		for i, e := range order {
			pos[kv{k, e}] = i
		}
	}
	// before returns the element appended just before e, or initial.
	before := func(k, e int64) kve {
		order := orders[k]
		i, ok := pos[kv{k, e}]
		if !ok {
			i = len(order)
		}
		if i == 0 {
			return kve{k: k, initial: true}
		}
		return kve{k: k, e: order[i-1]}
	}
	for vtx, i := range a.vtx {
		self := int32(vtx)
		for _, m := range a.txns[i].Mops {
			switch {
			case m.F == "append":
				prev := before(m.Key, m.Value)
				to := version{value: m.Value}
				from := version{initial: true}
				if !prev.initial {
					from = version{value: prev.e}
					if w, ok := appender[kv{m.Key, prev.e}]; ok {
						g.link(w, self, relWW, why{key: m.Key, from: from, to: to})
					}
				}
				for _, r := range readers[prev] {
					g.link(r, self, relRW, why{key: m.Key, from: from, to: to})
				}
			case m.F == "r" && len(m.List) > 0:
				last := m.List[len(m.List)-1]
				if w, ok := appender[kv{m.Key, last}]; ok {
					g.link(w, self, relWR, why{key: m.Key, from: version{value: last}})
				}
			}
		}
	}
	a.orderEdges(g, process, realtime)
	g.freeze()
}

// expected is what a txn's next read of a key must show, given its own
// earlier micro-ops on the key, as Elle's internal check tracks it.
type expected struct {
	kind byte    // expectAny, expectNil, expectList or expectSuffix
	list []int64 // the whole list, or the suffix the txn appended
}

const (
	expectAny    byte = iota // not touched yet: anything goes
	expectNil                // read nil: says nothing of later reads
	expectList               // exactly this list
	expectSuffix             // a list ending in these elements
)

// then is the expectation after the txn appends e.
func (x expected) then(e int64) expected {
	switch x.kind {
	case expectAny:
		return expected{kind: expectSuffix, list: []int64{e}}
	case expectNil:
		return expected{kind: expectList, list: []int64{e}}
	}
	return expected{kind: x.kind, list: append(slices.Clip(x.list), e)}
}

// admits says whether read m is consistent with the expectation.
func (x expected) admits(m Mop) bool {
	switch x.kind {
	case expectList:
		return !m.Nil && slices.Equal(m.List, x.list)
	case expectSuffix:
		return !m.Nil && len(m.List) >= len(x.list) && slices.Equal(m.List[len(m.List)-len(x.list):], x.list)
	}
	return true
}

func (x expected) render() any {
	if x.kind == expectSuffix {
		return append([]any{"..."}, anySlice(x.list)...)
	}
	return anySlice(x.list)
}

func anySlice(xs []int64) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}
