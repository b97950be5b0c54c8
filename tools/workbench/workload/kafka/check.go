package kafka

import (
	"fmt"
	"sort"
	"strings"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/edn"
	"github.com/glomers/glomers/tools/workbench/history"
)

// allowedErrors are the error types Jepsen's kafka checker reports but
// does not fail on (with assign-based consumers and no ww inference).
var allowedErrors = map[string]bool{
	"int-send-skip": true, "G0": true, "G0-process": true, "G0-realtime": true,
	"PL-1-cycle-exists": true, "strong-PL-1-cycle-exists": true,
}

// versionOrder is what the history tells us about one key's log.
type versionOrder struct {
	log     map[int64][]string // offset → distinct values seen there, first seen first
	offsets []int64            // offsets with values, ascending
	byIndex []string           // dense index → value (the first seen at that offset)
	byValue map[string]int     // value → dense index (its last offset wins)
}

// analysis holds the indices the checks share.
type analysis struct {
	ops        []*parsedOp // client completions, in history order
	invokeTime map[int]int64
	values     map[string]any // vkey → a value, for output
	writerOf   map[string]map[string]*parsedOp
	readersOf  map[string]map[string][]*parsedOp
	writesBy   map[history.Type]map[string]map[string]bool
	readsBy    map[history.Type]map[string]map[string]bool
	orders     map[string]*versionOrder
	keys       map[string]bool // every key sent or polled
}

// checkerCrash mirrors an exception inside Jepsen's checker: the workload
// result becomes :unknown with the error.
type checkerCrash struct{ msg string }

func analyze(h history.History) *analysis {
	a := &analysis{
		invokeTime: map[int]int64{},
		values:     map[string]any{},
		writerOf:   map[string]map[string]*parsedOp{},
		readersOf:  map[string]map[string][]*parsedOp{},
		writesBy:   map[history.Type]map[string]map[string]bool{},
		readsBy:    map[history.Type]map[string]map[string]bool{},
		orders:     map[string]*versionOrder{},
		keys:       map[string]bool{},
	}
	for _, p := range h.Pairs() {
		if p.Completion == nil {
			continue
		}
		a.invokeTime[p.Completion.Index] = p.Invoke.Time
	}
	for _, op := range h {
		if !op.IsClient() || op.Type == history.Invoke {
			continue
		}
		o := parseOp(op)
		a.ops = append(a.ops, &o)
		for k, ss := range o.writes() {
			a.keys[k] = true
			for _, s := range ss {
				a.values[s.vkey] = s.value
				setAdd(a.writesBy, op.Type, k, s.vkey)
				if a.writerOf[k] == nil {
					a.writerOf[k] = map[string]*parsedOp{}
				}
				a.writerOf[k][s.vkey] = &o
			}
		}
		for k, ps := range o.reads() {
			a.keys[k] = true
			if a.readsBy[op.Type] == nil {
				a.readsBy[op.Type] = map[string]map[string]bool{}
			}
			if a.readsBy[op.Type][k] == nil {
				a.readsBy[op.Type][k] = map[string]bool{}
			}
			for _, x := range ps {
				a.values[x.vkey] = x.value
				setAdd(a.readsBy, op.Type, k, x.vkey)
				if a.readersOf[k] == nil {
					a.readersOf[k] = map[string][]*parsedOp{}
				}
				a.readersOf[k][x.vkey] = append(a.readersOf[k][x.vkey], &o)
			}
		}
	}
	return a
}

func setAdd(m map[history.Type]map[string]map[string]bool, t history.Type, k, v string) {
	if m[t] == nil {
		m[t] = map[string]map[string]bool{}
	}
	if m[t][k] == nil {
		m[t][k] = map[string]bool{}
	}
	m[t][k][v] = true
}

// mustHaveCommitted: the op was ok, or info and one of its sends was read
// by an ok poll.
func (a *analysis) mustHaveCommitted(o *parsedOp) bool {
	if o.op.Type == history.OK {
		return true
	}
	if o.op.Type != history.Info {
		return false
	}
	for _, s := range o.sends {
		if a.readsBy[history.OK][s.key][s.vkey] {
			return true
		}
	}
	return false
}

// versionOrders builds each key's log from sends whose effects must be
// visible and from every poll, and reports offsets holding two values.
func (a *analysis) versionOrders() []map[string]any {
	add := func(k string, off int64, v string) {
		if off < 0 {
			return
		}
		vo := a.orders[k]
		if vo == nil {
			vo = &versionOrder{log: map[int64][]string{}, byValue: map[string]int{}}
			a.orders[k] = vo
		}
		for _, x := range vo.log[off] {
			if x == v {
				return
			}
		}
		vo.log[off] = append(vo.log[off], v)
	}
	for _, o := range a.ops {
		if a.mustHaveCommitted(o) {
			for _, s := range o.sends {
				if s.hasOffset {
					add(s.key, s.offset, s.vkey)
				}
			}
		}
		for _, p := range o.polls {
			for _, k := range p.keys {
				for _, x := range p.msgs[k] {
					add(k, x.offset, x.vkey)
				}
			}
		}
	}
	var errs []map[string]any
	for _, k := range sortedKeys(a.orders) {
		vo := a.orders[k]
		for off := range vo.log {
			vo.offsets = append(vo.offsets, off)
		}
		sort.Slice(vo.offsets, func(i, j int) bool { return vo.offsets[i] < vo.offsets[j] })
		for i, off := range vo.offsets {
			vals := vo.log[off]
			vo.byIndex = append(vo.byIndex, vals[0])
			for _, v := range vals {
				vo.byValue[v] = i
			}
			if len(vals) > 1 {
				errs = append(errs, map[string]any{
					"key": k, "offset": off, "index": i, "values": a.sortedValues(vals),
				})
			}
		}
	}
	return errs
}

// index is a value's dense index in k's version order.
func (a *analysis) index(k, v string) (int, bool) {
	vo := a.orders[k]
	if vo == nil {
		return 0, false
	}
	i, ok := vo.byValue[v]
	return i, ok
}

func (a *analysis) byIndex(k string, from, to int) []any {
	vo := a.orders[k]
	var out []any
	for i := from; i < to && vo != nil && i < len(vo.byIndex); i++ {
		out = append(out, a.values[vo.byIndex[i]])
	}
	return out
}

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

func (p pair) version() (string, any)    { return p.vkey, p.value }
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

// sortedValues orders canonical values numerically when they are integers.
func (a *analysis) sortedValues(vs []string) []any {
	cp := append([]string(nil), vs...)
	sort.Slice(cp, func(i, j int) bool {
		x, xok := history.Int(a.values[cp[i]])
		y, yok := history.Int(a.values[cp[j]])
		if xok && yok {
			return x < y
		}
		return cp[i] < cp[j]
	})
	out := make([]any, len(cp))
	for i, v := range cp {
		out[i] = a.values[v]
	}
	return out
}

// render quotes an op as history.Op.Render does, with the micro-op names
// of a send or poll as keywords, as Jepsen prints them.
func (a *analysis) render(o *parsedOp) any {
	if o == nil {
		return nil
	}
	m := o.op.Render()
	if mops, ok := o.op.Value.([]any); ok && (o.op.F == "send" || o.op.F == "poll") {
		var out []any
		for _, mop := range mops {
			if xs, ok := mop.([]any); ok && len(xs) > 0 {
				cp := append([]any{edn.Keyword(fname(xs[0]))}, xs[1:]...)
				out = append(out, cp)
				continue
			}
			out = append(out, mop)
		}
		m["value"] = out
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// condense truncates an error list the way Jepsen's condense-error does.
func condense(typ string, errs []map[string]any) map[string]any {
	byDelta := func() {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i]["delta"].(int) < errs[j]["delta"].(int) })
	}
	n := len(errs)
	shown := errs
	switch typ {
	case "duplicate":
		sort.SliceStable(errs, func(i, j int) bool { return errs[i]["count"].(int) < errs[j]["count"].(int) })
		shown = errs[:min(32, n)]
	case "inconsistent-offsets":
		sort.SliceStable(errs, func(i, j int) bool {
			return len(errs[i]["values"].([]any)) < len(errs[j]["values"].([]any))
		})
		shown = errs[:min(32, n)]
	case "int-nonmonotonic-poll", "int-nonmonotonic-send", "nonmonotonic-poll", "nonmonotonic-send":
		byDelta()
		shown = errs[:min(8, n)]
	case "int-poll-skip", "int-send-skip", "poll-skip":
		byDelta()
		shown = errs[max(0, n-8):]
	}
	list := make([]any, len(shown))
	for i, e := range shown {
		list[i] = e
	}
	return map[string]any{"count": n, "errs": list}
}

// Check runs Jepsen's kafka analysis (without the Elle cycle search).
func Check(h history.History) checker.Result {
	a := analyze(h)
	errors := map[string][]map[string]any{}
	put := func(typ string, errs []map[string]any) {
		if len(errs) > 0 {
			errors[typ] = errs
		}
	}
	put("inconsistent-offsets", a.versionOrders())
	put("G1a", a.g1a())
	lost, crash := a.lostWrites()
	if crash != nil {
		return checker.Result{"valid?": checker.Unknown, "error": crash.msg, "first-error": crash.msg}
	}
	put("lost-write", lost)
	intPollSkips, intPollBackwards, intSendSkips, intSendBackwards := a.internal()
	put("int-poll-skip", intPollSkips)
	put("int-nonmonotonic-poll", intPollBackwards)
	put("int-send-skip", intSendSkips)
	put("int-nonmonotonic-send", intSendBackwards)
	pollSkips, pollBackwards := a.pollSkips()
	put("poll-skip", pollSkips)
	put("nonmonotonic-poll", pollBackwards)
	put("nonmonotonic-send", a.nonmonotonicSends())
	put("duplicate", a.duplicates())
	unseen := a.unseen()

	var types, bad []any
	typeNames := sortedKeys(errors)
	if unseen != nil {
		typeNames = append(typeNames, "unseen")
		sort.Strings(typeNames)
	}
	firstBad := ""
	for _, t := range typeNames {
		types = append(types, edn.Keyword(t))
		if !allowedErrors[t] {
			bad = append(bad, edn.Keyword(t))
			if firstBad == "" {
				firstBad = t
			}
		}
	}
	res := checker.Result{
		"valid?":             checker.Of(len(bad) == 0),
		"worst-realtime-lag": a.worstRealtimeLag(),
		"bad-error-types":    orEmpty(bad),
		"error-types":        orEmpty(types),
		"info-txn-causes":    a.infoCauses(),
	}
	for t, errs := range errors {
		res[t] = condense(t, errs)
	}
	if unseen != nil {
		res["unseen"] = unseen
	}
	if firstBad != "" {
		res["first-error"] = describe(firstBad, errors[firstBad], unseen)
	}
	return res
}

func orEmpty(xs []any) []any {
	if xs == nil {
		return []any{}
	}
	return xs
}

func (a *analysis) infoCauses() []any {
	seen := map[string]bool{}
	out := []any{}
	for _, o := range a.ops {
		if o.op.Type != history.Info || (o.op.F != "send" && o.op.F != "poll" && o.op.F != "txn") {
			continue
		}
		k := history.Key(o.op.Error)
		if !seen[k] {
			seen[k] = true
			out = append(out, o.op.Error)
		}
	}
	return out
}

// describe is the one-line first-error: the error type and its first case,
// naming the ops involved by index and process.
func describe(typ string, errs []map[string]any, unseen map[string]any) string {
	if typ == "unseen" {
		return fmt.Sprintf("unseen: acknowledged sends never returned by any poll, per key %v (e.g. messages %v)",
			unseen["unseen"], unseen["messages"])
	}
	if len(errs) == 0 {
		return typ
	}
	e := errs[0]
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%d cases): key %v", typ, len(errs), e["key"])
	for _, f := range []string{"value", "values", "offset", "index", "max-read-index", "delta", "skipped", "count", "offsets"} {
		if v, ok := e[f]; ok {
			fmt.Fprintf(&b, " %s %v", f, v)
		}
	}
	for _, f := range []string{"writer", "reader", "max-read", "op"} {
		if m, ok := e[f].(map[string]any); ok {
			fmt.Fprintf(&b, "; %s: op %v (process %v)", f, m["index"], m["process"])
		}
	}
	if ops, ok := e["ops"].([]any); ok {
		for i, x := range ops {
			if m, ok := x.(map[string]any); ok {
				fmt.Fprintf(&b, "; op%d %v (process %v)", i+1, m["index"], m["process"])
			}
		}
	}
	return b.String()
}
