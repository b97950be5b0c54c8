package txngraph

import (
	"fmt"
	"sort"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
)

// List-append anomalies, as Elle names them.
const (
	IncompatibleOrder = "incompatible-order"
	DuplicateElements = "duplicate-elements"
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

// CheckListAppend judges a txn-list-append history like Elle's list-append
// checker: each key's version order is the longest list read (every other
// read must be a prefix of it), appends of consecutive elements give ww
// edges, the appender of a read list's last element precedes the reader
// (wr), and a reader precedes whoever appended the element after what it
// saw (rw).
func CheckListAppend(h history.History, modelNames []string, strictness ...checker.Strictness) checker.Result {
	prohibited, err := prohibitedBy(modelNames)
	if err != nil {
		return checker.Result{"valid?": checker.Unknown, "error": err.Error()}
	}
	txns, parseErrs := appendTxns(h)
	a := &analysis{txns: txns, anomalies: map[string][]any{}, counts: map[string]int{}, lists: true}
	a.vertexOf = make([]int32, len(txns))
	for i, t := range txns {
		a.vertexOf[i] = -1
		if t.Type == history.OK {
			a.vertexOf[i] = int32(len(a.ok))
			a.ok = append(a.ok, i)
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
	orders := a.listChecks()
	process, realtime := needsEdges(prohibited)
	a.listGraph(orders, process, realtime)
	timeouts := a.findCycles()
	return a.result(prohibited, parseErrs, timeouts, strictTypes(modelNames), strictnessOf(strictness))
}

func appendTxns(h history.History) ([]Txn, []error) { return pairTxns(h, ParseAppendMops) }

// listChecks finds the per-key orders and the anomalies visible in single
// reads: garbage, aborted (G1a) and intermediate (G1b) reads, duplicates,
// incompatible orders, and reads that contradict the txn's own appends.
func (a *analysis) listChecks() map[int64][]int64 {
	longest := map[int64][]int64{}
	for _, i := range a.ok {
		t := a.txns[i]
		own := map[int64][]int64{}  // appends so far, per key
		seen := map[int64][]int64{} // last read, per key
		known := map[int64]bool{}   // whether seen holds the whole list
		internalDone := false
		for _, m := range t.Mops {
			if m.F == "append" {
				own[m.Key] = append(own[m.Key], m.Value)
				if known[m.Key] {
					seen[m.Key] = append(append([]int64(nil), seen[m.Key]...), m.Value)
				}
				continue
			}
			if m.Raw != nil {
				a.add(GarbageRead, map[string]any{"op": a.renderTxn(i), "mop": renderMop(m)})
				continue
			}
			list := m.List
			if !internalDone && !internallyConsistent(list, seen[m.Key], known[m.Key], own[m.Key]) {
				a.add(Internal, map[string]any{"op": a.renderTxn(i), "mop": renderMop(m)})
				internalDone = true
			}
			seen[m.Key], known[m.Key], own[m.Key] = list, true, nil
			dup := map[int64]bool{}
			for _, e := range list {
				if dup[e] {
					a.add(DuplicateElements, map[string]any{"op": a.renderTxn(i), "mop": renderMop(m), "element": e})
					break
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
			if len(list) > len(longest[m.Key]) {
				longest[m.Key] = list
			}
		}
	}
	// Every read must be a prefix of the longest read of its key.
	bad := map[int64]bool{}
	for _, i := range a.ok {
		for _, m := range a.txns[i].Mops {
			if m.F != "r" || m.List == nil || bad[m.Key] {
				continue
			}
			l := longest[m.Key]
			for j, e := range m.List {
				if j >= len(l) || l[j] != e {
					a.add(IncompatibleOrder, map[string]any{"key": m.Key, "values": []any{m.List, l}})
					bad[m.Key] = true
					break
				}
			}
		}
	}
	for k := range bad {
		delete(longest, k)
	}
	return longest
}

// internallyConsistent: a read must show the txn's earlier read followed
// by its appends since, or, if it has not read the key, end with its
// appends.
func internallyConsistent(list, seen []int64, known bool, own []int64) bool {
	if known {
		if len(list) != len(seen) {
			return false
		}
		for i := range list {
			if list[i] != seen[i] {
				return false
			}
		}
		return true
	}
	if len(list) < len(own) {
		return false
	}
	tail := list[len(list)-len(own):]
	for i := range own {
		if tail[i] != own[i] {
			return false
		}
	}
	return true
}

func (a *analysis) listGraph(orders map[int64][]int64, process, realtime bool) {
	g := newGraph(len(a.ok))
	a.g = g
	okAppender := func(k, e int64) (int32, bool) {
		ws := a.writes[kv{k, e}]
		if len(ws) != 1 {
			return -1, false
		}
		v := a.vertexOf[ws[0].txn]
		return v, v >= 0
	}
	keys := make([]int64, 0, len(orders))
	for k := range orders {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, k := range keys {
		order := orders[k]
		for i := 1; i < len(order); i++ {
			u, ok1 := okAppender(k, order[i-1])
			v, ok2 := okAppender(k, order[i])
			if ok1 && ok2 {
				g.link(u, v, relWW, why{key: k, from: version{value: order[i-1]}, to: version{value: order[i]}})
			}
		}
	}
	for vtx, i := range a.ok {
		touched := map[int64]bool{}
		for _, m := range a.txns[i].Mops {
			first := !touched[m.Key]
			touched[m.Key] = true
			if m.F != "r" || !first || m.Raw != nil {
				continue
			}
			order, ok := orders[m.Key]
			if !ok {
				continue
			}
			n := len(m.List)
			from := version{initial: true}
			if n > 0 {
				from = version{value: m.List[n-1]}
				if w, ok := okAppender(m.Key, m.List[n-1]); ok {
					g.link(w, int32(vtx), relWR, why{key: m.Key, from: from})
				}
			}
			if n < len(order) {
				if w, ok := okAppender(m.Key, order[n]); ok {
					g.link(int32(vtx), w, relRW, why{key: m.Key, from: from, to: version{value: order[n]}})
				}
			}
		}
	}
	a.orderEdges(g, process, realtime)
	g.freeze()
}
