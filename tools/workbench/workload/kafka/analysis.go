package kafka

import (
	"sort"

	"github.com/glomers/glomers/tools/workbench/edn"
	"github.com/glomers/glomers/tools/workbench/history"
)

// The indices every check shares, built once from the history: who wrote and who
// read each value, and each key's version order (the log as the polls saw it).

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
