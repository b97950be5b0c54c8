package linkv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/anishathalye/porcupine"
)

// A key whose history cannot be linearized is explained the way Knossos
// does in spirit: take the longest linearizable prefix porcupine found,
// replay it to get the register's value at its end, and name the
// operations that real time lets come next but the register refuses
// (a read of another value, a CAS acknowledged ok whose from does not
// hold). Those are the operations that cannot be linearized.

// Bounds on what a result carries per failing key: results.edn stays
// readable, and the page and history hold the rest.
const (
	maxPaths = 3 // equally long prefixes shown (they may end in different values)
	maxTail  = 3 // last steps of each prefix shown
	maxStuck = 5 // refused operations shown per prefix
	// reorderBudget bounds the search for the other values a prefix's
	// operations can leave in the register, in configurations visited.
	reorderBudget = 20000
)

// opMeta is what the checker keeps of a porcupine operation's place in the
// run: the invocation's history index and node, and the value the history
// shows for it ([key value] as read, or the invocation's [key arg]).
type opMeta struct {
	index int
	node  string
	value any
}

// impasse is where one longest linearizable prefix of a key stops.
type impasse struct {
	prefix []int    // ids (indices into the key's operations) in linearization order
	states []string // the register's value after each step of prefix
	held   string   // the register's value after prefix (canonical form)
	writer int      // id of the prefix's op that last set the value; -1: still initial
	stuck  []int    // ops that could come next in real time but the register refuses, by completion
}

// impasses works out, from porcupine's partial linearizations of one key
// (checked without partitions, so ids index ops), where each of the
// longest ones stops: at most maxPaths, longest first and in a fixed order.
func impasses(ops []porcupine.Operation, info porcupine.LinearizationInfo) []impasse {
	parts := info.PartialLinearizations()
	if len(parts) != 1 {
		return nil
	}
	partials := slices.Clone(parts[0])
	// Porcupine returns them as a set, in map order.
	slices.SortFunc(partials, func(a, b []int) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return slices.Compare(a, b)
	})
	var out []impasse
	for _, p := range partials {
		if len(out) == maxPaths || (len(out) > 0 && len(p) < len(out[0].prefix)) {
			break
		}
		if imp, ok := impasseAfter(ops, p); ok {
			out = append(out, imp)
		}
	}
	if len(out) == 0 {
		// Nothing linearizes at all (e.g. the first op is a read of a value
		// never written): the empty prefix is where it stops.
		if imp, ok := impasseAfter(ops, nil); ok {
			out = append(out, imp)
		}
	}
	return out
}

// impasseAfter replays prefix on the register and finds the ops that
// cannot follow it; ok is false if prefix does not replay or some op could
// in fact extend it (then it is not where the search got stuck).
func impasseAfter(ops []porcupine.Operation, prefix []int) (impasse, bool) {
	imp := impasse{prefix: prefix, writer: -1}
	state := casRegister.Init()
	done := make([]bool, len(ops))
	for _, id := range prefix {
		if id < 0 || id >= len(ops) || done[id] {
			return impasse{}, false
		}
		in := ops[id].Input.(regInput)
		if in.f == "write" || (in.f == "cas" && in.from == state.(string)) {
			imp.writer = id
		}
		ok, next := casRegister.Step(state, ops[id].Input, ops[id].Output)
		if !ok {
			return impasse{}, false
		}
		state = next
		done[id] = true
		imp.states = append(imp.states, state.(string))
	}
	imp.held = state.(string)
	// Real time lets an op come next if it was invoked before every op not
	// yet linearized had completed (porcupine orders a call before a
	// return at the same instant).
	firstReturn := int64(math.MaxInt64)
	for id, op := range ops {
		if !done[id] && op.Return < firstReturn {
			firstReturn = op.Return
		}
	}
	for id, op := range ops {
		if done[id] || op.Call > firstReturn {
			continue
		}
		if ok, _ := casRegister.Step(state, op.Input, op.Output); ok {
			return impasse{}, false
		}
		imp.stuck = append(imp.stuck, id)
	}
	if len(imp.stuck) == 0 {
		return impasse{}, false
	}
	slices.SortStableFunc(imp.stuck, func(a, b int) int {
		if ops[a].Return != ops[b].Return {
			return cmpInt64(ops[a].Return, ops[b].Return)
		}
		return cmpInt64(ops[a].Call, ops[b].Call)
	})
	return imp, true
}

// ending is a value the register can hold after a set of operations, and
// the operation that put it there (-1: the initial null).
type ending struct {
	held   string
	writer int
}

// endings finds the values the register can hold once exactly the
// operations of prefix are linearized, in every order real time and the
// register allow: porcupine keeps one order per length, but concurrent
// writes leave the register holding either value, and a read refused
// after the prefix returned none of them. It searches depth first over
// (set linearized, value), each configuration once; complete is false if
// it ran out of budget, and then the endings are the ones it found.
func endings(ops []porcupine.Operation, prefix []int) (found []ending, complete bool) {
	n := len(prefix)
	done := make([]bool, n)
	seen := map[string]bool{}
	held := map[string]bool{}
	budget := reorderBudget
	var visit func(count int, state string, writer int) bool
	visit = func(count int, state string, writer int) bool {
		key := make([]byte, 0, n+len(state)+1)
		for _, d := range done {
			if d {
				key = append(key, '1')
			} else {
				key = append(key, '0')
			}
		}
		key = append(append(key, '|'), state...)
		if seen[string(key)] {
			return true
		}
		seen[string(key)] = true
		if budget--; budget < 0 {
			return false
		}
		if count == n {
			if !held[state] {
				held[state] = true
				found = append(found, ending{state, writer})
			}
			return true
		}
		firstReturn := int64(math.MaxInt64)
		for i, id := range prefix {
			if !done[i] && ops[id].Return < firstReturn {
				firstReturn = ops[id].Return
			}
		}
		for i, id := range prefix {
			op := ops[id]
			if done[i] || op.Call > firstReturn {
				continue
			}
			ok, next := casRegister.Step(state, op.Input, op.Output)
			if !ok {
				continue
			}
			w := writer
			if in := op.Input.(regInput); in.f == "write" || (in.f == "cas" && in.from == state) {
				w = id
			}
			done[i] = true
			more := visit(count+1, next.(string), w)
			done[i] = false
			if !more {
				return false
			}
		}
		return true
	}
	complete = visit(0, casRegister.Init().(string), -1)
	return found, complete
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// explanation is a failing key's entry under the result's
// "non-linearizable" and the one line that names its first refused op.
func explanation(key any, ops []porcupine.Operation, imps []impasse) (map[string]any, string) {
	paths := make([]any, 0, len(imps))
	for _, imp := range imps {
		tail := []any{}
		for i := max(0, len(imp.prefix)-maxTail); i < len(imp.prefix); i++ {
			step := describeOp(ops[imp.prefix[i]])
			step["value-after"] = decodeValue(imp.states[i])
			tail = append(tail, step)
		}
		stuck := []any{}
		for _, id := range imp.stuck[:min(len(imp.stuck), maxStuck)] {
			d := describeOp(ops[id])
			d["expected"] = decodeValue(imp.held)
			stuck = append(stuck, d)
		}
		path := map[string]any{
			"linearized-count":    len(imp.prefix),
			"prefix-tail":         tail,
			"value":               decodeValue(imp.held),
			"cannot-follow":       stuck,
			"cannot-follow-count": len(imp.stuck),
		}
		if imp.writer >= 0 {
			path["written-by"] = ops[imp.writer].Metadata.(*opMeta).index
		}
		paths = append(paths, path)
	}
	entry := map[string]any{"op-count": len(ops), "final-paths": paths}
	if len(imps) == 0 {
		return entry, fmt.Sprintf("key %v: its %d reads, writes and CASes cannot be linearized as one register starting at null",
			key, len(ops))
	}
	first := imps[0]
	entry["linearized-count"] = len(first.prefix)
	op := ops[first.stuck[0]]
	m := op.Metadata.(*opMeta)
	in := op.Input.(regInput)
	var what string
	switch in.f {
	case "read":
		what = fmt.Sprintf("the read at op %d (%s) returned %s", m.index, where(op), op.Output.(regOutput).value)
	case "cas":
		what = fmt.Sprintf("the cas %s → %s at op %d (%s) succeeded", in.from, in.to, m.index, where(op))
	default:
		what = fmt.Sprintf("the %s at op %d (%s)", in.f, m.index, where(op))
	}
	// The same operations in another order real time allows may leave
	// another value; the op is refused after each (else a longer prefix
	// would exist), so the line names them all, the found prefix's first.
	ends, complete := endings(ops, first.prefix)
	ends = slices.DeleteFunc(ends, func(e ending) bool {
		ok, _ := casRegister.Step(e.held, op.Input, op.Output)
		return ok || e.held == first.held
	})
	ends = append([]ending{{first.held, first.writer}}, ends...)
	var held []string
	values := []any{}
	for _, e := range ends {
		h := e.held + " (initial)"
		if e.writer >= 0 {
			h = fmt.Sprintf("%s (written by op %d)", e.held, ops[e.writer].Metadata.(*opMeta).index)
		}
		held = append(held, h)
		values = append(values, decodeValue(e.held))
	}
	if !complete {
		held = append(held, "…")
	}
	entry["values"] = values
	return entry, fmt.Sprintf("key %v cannot be linearized: %s, but the register held %s after the longest linearizable prefix found (%d of the key's %d ops)",
		key, what, strings.Join(held, " or "), len(first.prefix), len(ops))
}

// where says who ran op, where and when: "process 3 on n1, 1.204–1.206 s".
func where(op porcupine.Operation) string {
	m := op.Metadata.(*opMeta)
	s := fmt.Sprintf("process %d", op.ClientId)
	if m.node != "" {
		s += " on " + m.node
	}
	end := "?"
	if op.Return != math.MaxInt64 {
		end = fmt.Sprintf("%.3f", float64(op.Return)/1e9)
	}
	return fmt.Sprintf("%s, %.3f–%s s", s, float64(op.Call)/1e9, end)
}

// describeOp is an op as a result shows it, in the history's terms.
func describeOp(op porcupine.Operation) map[string]any {
	m := op.Metadata.(*opMeta)
	d := map[string]any{
		"index":       m.index,
		"process":     op.ClientId,
		"f":           op.Input.(regInput).f,
		"value":       m.value,
		"invoke-time": op.Call,
	}
	if m.node != "" {
		d["node"] = m.node
	}
	if op.Return != math.MaxInt64 {
		d["complete-time"] = op.Return
	}
	return d
}

// decodeValue turns a register state (a value's canonical JSON text) back
// into a value the result files can hold.
func decodeValue(canonical string) any {
	d := json.NewDecoder(bytes.NewReader([]byte(canonical)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return canonical
	}
	return v
}
