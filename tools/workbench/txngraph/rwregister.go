package txngraph

import (
	"sort"

	"github.com/glomers/glomers/tools/workbench/edn"
	"github.com/glomers/glomers/tools/workbench/history"
)

// checkReads looks at every read of every ok txn: against the txn's own
// earlier accesses (internal), and against who wrote the value read
// (garbage, G1a, G1b).
func (a *analysis) checkReads() {
	for _, i := range a.ok {
		t := a.txns[i]
		state := map[int64]version{}
		internalDone := false
		for _, m := range t.Mops {
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
				case wt.Type == history.Fail:
					a.add(G1a, map[string]any{"op": a.renderTxn(i), "mop": renderMop(m), "writer": a.renderTxn(w.txn)})
				case w.intermediate:
					a.add(G1b, map[string]any{"op": a.renderTxn(i), "mop": renderMop(m), "writer": a.renderTxn(w.txn)})
				}
			}
		}
	}
}

// checkLostUpdates finds ok txns that read the same value of a key and then
// wrote (micro-op writeF) that key: whichever came second lost the first's
// update. As in Elle, the value is the txn's first read of the key, and a
// write counts if that read came before it.
func (a *analysis) checkLostUpdates(writeF string) {
	type group struct {
		key   int64
		value any
		txns  []int
	}
	type keyRead struct {
		k  int64
		id valueID
	}
	groups := map[keyRead]*group{}
	var order []keyRead
	for _, i := range a.ok {
		read := map[int64]Mop{}
		wrote := map[int64]bool{}
		for _, m := range a.txns[i].Mops {
			r, haveRead := read[m.Key]
			switch {
			case m.F == writeF && !wrote[m.Key]:
				if !haveRead {
					continue
				}
				wrote[m.Key] = true
				id := keyRead{m.Key, readID(r)}
				g := groups[id]
				if g == nil {
					g = &group{key: m.Key, value: renderMop(r)[2]}
					groups[id] = g
					order = append(order, id)
				}
				g.txns = append(g.txns, i)
			case m.F == "r" && !haveRead:
				read[m.Key] = m
			}
		}
	}
	for _, id := range order {
		g := groups[id]
		if len(g.txns) < 2 {
			continue
		}
		var txns []any
		for _, i := range g.txns {
			txns = append(txns, a.renderTxn(i))
		}
		a.add(LostUpdate, map[string]any{"key": g.key, "value": g.value, "txns": txns})
	}
}

// versionOrder infers, per key, which versions directly follow which, the
// way Elle's rw-register checker does with Maelstrom's options: the
// initial nil precedes every version read or written, and a txn that read
// v and then wrote v' of the same key puts v before v' ("writes follow
// reads"). Elle adds the second source only if it leaves every key's
// version graph acyclic; otherwise each cycle is a cyclic-versions anomaly
// and the writes-follow-reads edges are all dropped, for every key.
func (a *analysis) versionOrder() map[int64][][2]version {
	edges := map[int64][][2]version{}
	wfr := map[int64][][2]int64{}
	for vtx := range a.ok {
		for k, w := range a.extWrites[vtx] {
			edges[k] = append(edges[k], [2]version{{initial: true}, {value: w}})
		}
		for k, r := range a.extReads[vtx] {
			if r.initial {
				continue
			}
			edges[k] = append(edges[k], [2]version{{initial: true}, r})
			if w, ok := a.extWrites[vtx][k]; ok && r.value != w {
				wfr[k] = append(wfr[k], [2]int64{r.value, w})
			}
		}
	}
	ks := make([]int64, 0, len(wfr))
	for k := range wfr {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	cyclic := false
	for _, k := range ks {
		for _, scc := range versionCycles(wfr[k]) {
			cyclic = true
			a.add(CyclicVersion, map[string]any{"key": k, "scc": scc,
				"sources": []edn.Keyword{"initial-state", "wfr-keys"}})
		}
	}
	if cyclic {
		return edges
	}
	for k, es := range wfr {
		for _, e := range es {
			edges[k] = append(edges[k], [2]version{{value: e[0]}, {value: e[1]}})
		}
	}
	return edges
}

// versionCycles returns the values of each cyclic component of the version
// graph es, each sorted, in order of their smallest value.
func versionCycles(es [][2]int64) [][]int64 {
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
	var out [][]int64
	for _, scc := range g.sccs(all, func(int32) bool { return true }, relWW, comp) {
		var vs []int64
		for _, v := range scc {
			vs = append(vs, vals[v])
		}
		sort.Slice(vs, func(i, j int) bool { return vs[i] < vs[j] })
		out = append(out, vs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// buildGraph turns the version order into ww and rw edges between ok txns
// (the external writers of v1 precede those of v2, and its external
// readers precede them too, for each v1 → v2), adds wr edges from each
// version's one writer to its readers, and the process or realtime order.
func (a *analysis) buildGraph(versionEdges map[int64][][2]version, process, realtime bool) {
	g := newGraph(len(a.ok))
	a.g = g
	writers := map[kv][]int32{}       // ext writes of ok txns
	readers := map[kv][]int32{}       // ext reads of non-nil versions
	nilReaders := map[int64][]int32{} // ext reads of nil
	for vtx := range a.ok {
		v := int32(vtx)
		for k, w := range a.extWrites[vtx] {
			writers[kv{k, w}] = append(writers[kv{k, w}], v)
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
	for k, es := range versionEdges {
		for _, e := range es {
			w := why{key: k, from: e[0], to: e[1]}
			for _, t2 := range writers[kv{k, e[1].value}] {
				if e[0].initial {
					for _, t1 := range nilReaders[k] {
						g.link(t1, t2, relRW, w)
					}
					continue
				}
				for _, t1 := range writers[kv{k, e[0].value}] {
					g.link(t1, t2, relWW, w)
				}
				for _, t1 := range readers[kv{k, e[0].value}] {
					g.link(t1, t2, relRW, w)
				}
			}
		}
	}
	a.orderEdges(g, process, realtime)
	g.freeze()
}
