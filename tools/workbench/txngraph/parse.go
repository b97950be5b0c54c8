package txngraph

import (
	"fmt"

	"github.com/glomers/glomers/tools/workbench/history"
)

// Mop is one micro-operation of a transaction: a read ["r", k, v] or a
// write ["w", k, v]. Keys and values are integers; a read of a key that was
// never written returns null, which is Nil here.
type Mop struct {
	F     string
	Key   int64
	Value int64
	Nil   bool
	// Raw holds a read value that is not an integer (Maelstrom's reply
	// schema lets any JSON through). Nobody wrote it: a garbage read.
	Raw any
	// List is what a list-append read returned (F "r", Nil false).
	List []int64
}

func (m Mop) String() string {
	if m.Raw != nil {
		return fmt.Sprintf("[%s %d %v]", m.F, m.Key, m.Raw)
	}
	if m.List != nil {
		return fmt.Sprintf("[%s %d %v]", m.F, m.Key, m.List)
	}
	if m.Nil {
		return fmt.Sprintf("[%s %d nil]", m.F, m.Key)
	}
	return fmt.Sprintf("[%s %d %d]", m.F, m.Key, m.Value)
}

// Txn is one transaction of the history: its invocation, how it completed,
// and its micro-ops (with read values filled in only when it completed ok).
type Txn struct {
	Type     history.Type // ok, fail or info (never completed counts as info)
	Process  int
	Invoke   history.Op
	Complete history.Op // the completion; for an unfinished txn, the invocation
	Mops     []Mop
	// Positions in the history, for realtime order. An unfinished or info
	// txn has CompletePos = len(history): it may end any time.
	InvokePos, CompletePos int
}

// ParseMops reads a transaction value ([[f k v] ...]) as the workload
// client and history store leave it: keys and values may be int64,
// float64 or json.Number; f a string.
func ParseMops(v any) ([]Mop, error) {
	return parseTriples(v, func(i int, triple []any) (Mop, error) {
		f, ok := triple[0].(string)
		if !ok || (f != "r" && f != "w") {
			return Mop{}, fmt.Errorf("micro-op %d has f %v, want \"r\" or \"w\"", i, triple[0])
		}
		k, err := mopKey(i, triple[1])
		if err != nil {
			return Mop{}, err
		}
		m := Mop{F: f, Key: k}
		if triple[2] == nil {
			if f == "w" {
				return Mop{}, fmt.Errorf("micro-op %d writes null", i)
			}
			m.Nil = true
		} else if m.Value, ok = history.Int(triple[2]); !ok {
			if f == "w" {
				return Mop{}, fmt.Errorf("micro-op %d writes non-integer %v", i, triple[2])
			}
			m.Raw = triple[2]
		}
		return m, nil
	})
}

// parseTriples reads a txn value as a list of [f k v] micro-ops, each
// turned into a Mop by mop (which gets its position, for error texts).
// The first micro-op that is not a triple, or that mop refuses, fails the
// whole value.
func parseTriples(v any, mop func(i int, triple []any) (Mop, error)) ([]Mop, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("txn value %v is not a list", v)
	}
	mops := make([]Mop, 0, len(list))
	for i, raw := range list {
		triple, ok := raw.([]any)
		if !ok || len(triple) != 3 {
			return nil, fmt.Errorf("micro-op %d (%v) is not [f k v]", i, raw)
		}
		m, err := mop(i, triple)
		if err != nil {
			return nil, err
		}
		mops = append(mops, m)
	}
	return mops, nil
}

// mopKey reads micro-op i's key, which must be an integer.
func mopKey(i int, k any) (int64, error) {
	n, ok := history.Int(k)
	if !ok {
		return 0, fmt.Errorf("micro-op %d has non-integer key %v", i, k)
	}
	return n, nil
}

// Txns extracts the transactions of a history (ops with f "txn"). Txns
// whose value cannot be read are returned as errors and otherwise ignored.
func Txns(h history.History) ([]Txn, []error) { return pairTxns(h, ParseMops) }

// pairTxns matches invocations with completions and reads each txn's
// micro-ops with parse.
func pairTxns(h history.History, parse func(any) ([]Mop, error)) ([]Txn, []error) {
	var txns []Txn
	var errs []error
	open := map[int]int{} // process -> index into txns
	for pos, op := range h {
		if !op.IsClient() || op.F != "txn" {
			continue
		}
		if op.Type == history.Invoke {
			open[op.Process] = len(txns)
			txns = append(txns, Txn{Type: history.Info, Process: op.Process, Invoke: op, Complete: op,
				InvokePos: pos, CompletePos: len(h)})
			continue
		}
		i, ok := open[op.Process]
		if !ok {
			continue
		}
		delete(open, op.Process)
		t := &txns[i]
		t.Type = op.Type
		t.Complete = op
		if op.Type != history.Info {
			t.CompletePos = pos
		}
	}
	out := txns[:0]
	for _, t := range txns {
		// Only an ok completion carries the values read; otherwise what
		// was attempted is the invocation's value.
		src := t.Invoke.Value
		if t.Type == history.OK {
			src = t.Complete.Value
		}
		mops, err := parse(src)
		if err != nil {
			errs = append(errs, fmt.Errorf("op %d (process %d): %w", t.Complete.Index, t.Process, err))
			continue
		}
		t.Mops = mops
		out = append(out, t)
	}
	return out, errs
}

// valueID identifies what a read micro-op returned (nil, a register value,
// a list, or raw garbage) within one key, cheaply: lists hash their
// elements rather than print them, since a history's lists can be long.
// Two reads with the same ID read the same value, except for a 64-bit hash
// collision between two different lists of the same length.
type valueID struct {
	kind   byte // 'n' nil, 'v' value, 'l' list, 'g' garbage
	value  int64
	length int
	hash   uint64
}

func readID(m Mop) valueID {
	switch {
	case m.Raw != nil:
		return valueID{kind: 'g', hash: fnv64(fmt.Sprint(m.Raw))}
	case m.List != nil:
		h := uint64(14695981039346656037)
		for _, e := range m.List {
			h ^= uint64(e)
			h *= 1099511628211
		}
		return valueID{kind: 'l', length: len(m.List), hash: h}
	case m.Nil:
		return valueID{kind: 'n'}
	}
	return valueID{kind: 'v', value: m.Value}
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
