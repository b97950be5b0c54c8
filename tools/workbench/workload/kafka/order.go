package kafka

import (
	"sort"

	"github.com/glomers/glomers/tools/workbench/history"
)

// Anomalies of order: offsets skipped or gone backwards within one op
// (internal), across one process's polls or sends, and a value logged at more than
// one offset (duplicates).

// step is how one value of a key follows another in the key's version order.
type step struct {
	// delta is to − from: 1 for the next value, more for a skip, less than 1
	// for a step backwards. It is 1 when the order does not know both values,
	// so that unknown values are never reported.
	delta int
	// from and to are the two values' dense indices (when known is true).
	from, to int
	known    bool
}

// stepBetween measures how v2 follows v1 in key k's version order.
func (a *analysis) stepBetween(k, v1, v2 string) step {
	i1, in1 := a.index(k, v1)
	i2, in2 := a.index(k, v2)
	if in1 && in2 {
		return step{delta: i2 - i1, from: i1, to: i2, known: true}
	}
	return step{delta: 1}
}

// internal finds skips and backward steps between consecutive polls (or
// sends) of one key inside a single op.
func (a *analysis) internal() (pollSkip, pollNM, sendSkip, sendNM []map[string]any) {
	for _, o := range a.ops {
		skips, backwards := internalSteps(a, o, o.reads())
		pollSkip, pollNM = append(pollSkip, skips...), append(pollNM, backwards...)
		skips, backwards = internalSteps(a, o, o.writes())
		sendSkip, sendNM = append(sendSkip, skips...), append(sendNM, backwards...)
	}
	return
}

// versioned is a value an op polled (pair) or sent (sendMop).
type versioned interface {
	version() (vkey string, value any)
}

func (p pair) version() (string, any) { return p.vkey, p.value }

func (s sendMop) version() (string, any) { return s.vkey, s.value }

// internalSteps compares each of o's values of a key with the one before it
// in the same op: it should be the next in the key's version order.
func internalSteps[V versioned](a *analysis, o *parsedOp, byKey map[string][]V) (skips, backwards []map[string]any) {
	for _, k := range sortedKeys(byKey) {
		vs := byKey[k]
		for j := 1; j < len(vs); j++ {
			prevKey, prev := vs[j-1].version()
			curKey, cur := vs[j].version()
			st := a.stepBetween(k, prevKey, curKey)
			vals := []any{prev, cur}
			switch {
			case st.delta > 1:
				skips = append(skips, map[string]any{"key": k, "values": vals, "delta": st.delta,
					"skipped": a.byIndex(k, st.from+1, st.to), "op": a.render(o)})
			case st.delta < 1:
				backwards = append(backwards, map[string]any{"key": k, "values": vals, "delta": st.delta, "op": a.render(o)})
			}
		}
	}
	return
}

// byProcess groups completions by process, keeping history order.
func (a *analysis) byProcess(keep func(*parsedOp) bool) ([]int, map[int][]*parsedOp) {
	m := map[int][]*parsedOp{}
	for _, o := range a.ops {
		if keep(o) {
			m[o.op.Process] = append(m[o.op.Process], o)
		}
	}
	procs := make([]int, 0, len(m))
	for p := range m {
		procs = append(procs, p)
	}
	sort.Ints(procs)
	return procs, m
}

// restrict keeps only the keys an assign names.
func restrict[V any](m map[string]V, o *parsedOp) map[string]V {
	keys, _ := o.op.Value.([]any)
	out := map[string]V{}
	for _, k := range keys {
		ks := keyString(k)
		if v, ok := m[ks]; ok {
			out[ks] = v
		}
	}
	return out
}

// pollSkips compares each process's successive polls of a key: the next
// poll should start right after where the previous one ended.
func (a *analysis) pollSkips() (skips, nonmonotonic []map[string]any) {
	procs, ops := a.byProcess(func(*parsedOp) bool { return true })
	for _, p := range procs {
		last := map[string]*parsedOp{}
		for _, o := range ops[p] {
			switch o.op.F {
			case "assign", "subscribe":
				if o.op.Type != history.Fail {
					last = restrict(last, o)
				}
				continue
			case "poll", "txn":
			default:
				continue
			}
			reads := o.reads()
			for _, k := range o.readKeys() {
				prev := last[k]
				if prev == nil {
					continue
				}
				pr := prev.reads()[k]
				cur := reads[k]
				// Either poll may have returned nothing for k: then there is
				// no step to measure.
				st := step{delta: 1}
				var val, val2 any
				if len(pr) > 0 && len(cur) > 0 {
					last, first := pr[len(pr)-1], cur[0]
					val, val2 = last.value, first.value
					st = a.stepBetween(k, last.vkey, first.vkey)
				}
				switch {
				case st.delta > 1:
					skips = append(skips, map[string]any{"key": k, "delta": st.delta,
						"skipped": a.byIndex(k, st.from+1, st.to), "ops": []any{a.render(prev), a.render(o)}})
				case st.delta < 1:
					nonmonotonic = append(nonmonotonic, map[string]any{"key": k, "values": []any{val, val2},
						"delta": st.delta, "ops": []any{a.render(prev), a.render(o)}})
				}
			}
			if o.op.Type == history.OK {
				for _, k := range o.readKeys() {
					last[k] = o
				}
			}
		}
	}
	return
}

// nonmonotonicSends compares each process's successive sends to a key.
func (a *analysis) nonmonotonicSends() []map[string]any {
	var errs []map[string]any
	procs, ops := a.byProcess(func(o *parsedOp) bool { return o.op.Type == history.OK || o.op.Type == history.Info })
	for _, p := range procs {
		last := map[string]*parsedOp{}
		for _, o := range ops[p] {
			switch o.op.F {
			case "assign", "subscribe":
				last = restrict(last, o)
				continue
			case "send", "txn":
			default:
				continue
			}
			writes := o.writes()
			for _, k := range sortedKeys(writes) {
				if prev := last[k]; prev != nil {
					pw := prev.writes()[k]
					v, v2 := pw[len(pw)-1], writes[k][0]
					if st := a.stepBetween(k, v.vkey, v2.vkey); st.known && st.delta < 1 {
						errs = append(errs, map[string]any{"key": k, "values": []any{v.value, v2.value},
							"delta": st.delta, "ops": []any{a.render(prev), a.render(o)}})
					}
				}
				last[k] = o
			}
		}
	}
	return errs
}

// duplicates finds values that appear at more than one offset of a key.
func (a *analysis) duplicates() []map[string]any {
	var errs []map[string]any
	for _, k := range sortedKeys(a.orders) {
		vo := a.orders[k]
		count := map[string]int{}
		var order []string
		for _, off := range vo.offsets {
			for _, v := range vo.log[off] {
				if count[v] == 0 {
					order = append(order, v)
				}
				count[v]++
			}
		}
		for _, v := range order {
			if count[v] < 2 {
				continue
			}
			var offs []any
			for _, off := range vo.offsets {
				for _, x := range vo.log[off] {
					if x == v {
						offs = append(offs, off)
					}
				}
			}
			errs = append(errs, map[string]any{"key": k, "value": a.values[v], "count": count[v], "offsets": offs})
		}
	}
	return errs
}
