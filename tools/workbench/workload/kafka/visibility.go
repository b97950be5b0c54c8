package kafka

import (
	"fmt"
	"sort"

	"github.com/glomers/glomers/tools/workbench/history"
)

// Anomalies of whether and when a write became visible: reads of failed sends
// (G1a), messages below an offset some poll read that no poll ever read (lost
// writes), acknowledged sends no poll returned (unseen), and how far polls
// trailed the log in real time.

func (a *analysis) g1a() []map[string]any {
	var errs []map[string]any
	failed := a.writesBy[history.Fail]
	for _, o := range a.ops {
		if o.op.Type != history.OK {
			continue
		}
		reads := o.reads()
		for _, k := range sortedKeys(reads) {
			for _, x := range reads[k] {
				if failed[k][x.vkey] {
					errs = append(errs, map[string]any{
						"key": k, "value": x.value, "writer": a.render(a.writerOf[k][x.vkey]), "reader": a.render(o),
					})
				}
			}
		}
	}
	return errs
}

// lostWrites finds, per key, messages below the highest offset some ok
// poll read that no ok poll ever read, whose send must have happened.
func (a *analysis) lostWrites() ([]map[string]any, *checkerCrash) {
	var errs []map[string]any
	okReads := a.readsBy[history.OK]
	for _, k := range sortedKeys(okReads) {
		vs := okReads[k]
		vo := a.orders[k]
		firstIndex := map[string]int{}
		lastIndex := map[string]int{}
		if vo != nil {
			for i, off := range vo.offsets {
				for _, v := range vo.log[off] {
					if _, ok := firstIndex[v]; !ok {
						firstIndex[v] = i
					}
					lastIndex[v] = i
				}
			}
		}
		bound := -1
		for v := range vs {
			if i, ok := firstIndex[v]; ok {
				bound = max(bound, i)
			}
		}
		if bound < 0 {
			// Jepsen indexes its last-index vector at -1 here and throws.
			return nil, &checkerCrash{fmt.Sprintf(
				"lost-write analysis: key %q was polled ok but no polled value of it has a known offset (Jepsen's checker throws IndexOutOfBoundsException here)", k)}
		}
		// Values whose last appearance is at or below the bound, in index
		// order.
		byLast := make([][]string, bound+1)
		for v, i := range lastIndex {
			if i <= bound {
				byLast[i] = append(byLast[i], v)
			}
		}
		var maxRead *parsedOp
		if len(byLast[bound]) > 0 {
			sort.Strings(byLast[bound])
			if rs := a.readersOf[k][byLast[bound][0]]; len(rs) > 0 {
				maxRead = rs[0]
			}
		}
		for _, group := range byLast {
			sort.Strings(group)
			for _, v := range group {
				if vs[v] {
					continue
				}
				w := a.writerOf[k][v]
				if w == nil {
					return nil, &checkerCrash{fmt.Sprintf(
						"lost-write analysis: no writer of value %v in key %q (Jepsen throws :no-writer-of)", a.values[v], k)}
				}
				if !a.mustHaveCommitted(w) {
					continue
				}
				errs = append(errs, map[string]any{
					"key": k, "value": a.values[v], "index": firstIndex[v], "max-read-index": bound,
					"writer": a.render(w), "max-read": a.render(maxRead),
				})
			}
		}
	}
	return errs, nil
}

// unseen follows Jepsen's running tally of acknowledged sends that no ok
// poll has returned yet, and returns its final state.
func (a *analysis) unseen() map[string]any {
	sent := map[string]map[string]bool{}
	polled := map[string]map[string]bool{}
	var last map[string]map[string]bool
	var lastTime int64
	for _, o := range a.ops {
		if o.op.Type != history.OK || (o.op.F != "send" && o.op.F != "poll" && o.op.F != "txn") {
			continue
		}
		for k, ss := range o.writes() {
			if sent[k] == nil {
				sent[k] = map[string]bool{}
			}
			for _, s := range ss {
				sent[k][s.vkey] = true
			}
		}
		for k, ps := range o.reads() {
			if polled[k] == nil {
				polled[k] = map[string]bool{}
			}
			for _, x := range ps {
				polled[k][x.vkey] = true
			}
		}
		// merge-with set/difference: keys only polled keep their polled
		// set, exactly as Jepsen's tally does.
		un := map[string]map[string]bool{}
		for k, s := range sent {
			d := map[string]bool{}
			for v := range s {
				if !polled[k][v] {
					d[v] = true
				}
			}
			un[k] = d
		}
		for k, s := range polled {
			if _, ok := sent[k]; !ok {
				un[k] = s
			}
		}
		sent, last, lastTime = un, un, o.op.Time
	}
	counts := map[string]any{}
	msgs := map[string]any{}
	for _, k := range sortedKeys(last) {
		if len(last[k]) == 0 {
			continue
		}
		counts[k] = len(last[k])
		vals := make([]string, 0, len(last[k]))
		for v := range last[k] {
			vals = append(vals, v)
		}
		sorted := a.sortedValues(vals)
		if len(sorted) > 32 {
			sorted = sorted[:32]
		}
		msgs[k] = sorted
	}
	if len(counts) == 0 {
		return nil
	}
	return map[string]any{"time": lastTime, "unseen": counts, "messages": msgs}
}

// worstRealtimeLag is the largest delay, over ok polls, between a poll's
// invocation and the moment the offset after the one it had reached was
// known to exist.
func (a *analysis) worstRealtimeLag() map[string]any {
	expired := map[string][]int64{} // k → offset → time it was known to exist (-1 unknown)
	for _, o := range a.ops {
		for k, known := range o.maxOffsets() {
			e := expired[k]
			for int64(len(e)) <= known {
				e = append(e, -1)
			}
			for i := known; i >= 0 && e[i] < 0; i-- {
				e[i] = o.op.Time
			}
			expired[k] = e
		}
	}
	procOffsets := map[int]map[string]int64{}
	worstTime, worstLag := int64(0), int64(0)
	for _, o := range a.ops {
		if o.op.Type != history.OK {
			continue
		}
		switch o.op.F {
		case "assign":
			old := procOffsets[o.op.Process]
			next := map[string]int64{}
			keys, _ := o.op.Value.([]any)
			for _, k := range keys {
				ks := keyString(k)
				if v, ok := old[ks]; ok {
					next[ks] = v
				} else {
					next[ks] = -1
				}
			}
			procOffsets[o.op.Process] = next
		case "poll", "txn":
			offs := procOffsets[o.op.Process]
			if offs == nil {
				offs = map[string]int64{}
			}
			for k, v := range o.maxOffsets() {
				if cur, ok := offs[k]; !ok || v > cur {
					offs[k] = v
				}
			}
			procOffsets[o.op.Process] = offs
			inv := a.invokeTime[o.op.Index]
			for _, k := range sortedKeys(offs) {
				e := expired[k]
				i := offs[k] + 1
				if i < 0 || i >= int64(len(e)) || e[i] < 0 {
					continue // not known to have expired: no lag
				}
				if lag := inv - e[i]; lag > worstLag {
					worstTime, worstLag = inv, lag
				}
			}
		}
	}
	return map[string]any{"time": float64(worstTime) / 1e9, "lag": float64(worstLag) / 1e9}
}
