// Package history holds the operations a workbench run records: every client
// invocation and its completion, and the nemesis's own operations. Checkers
// judge a run only from its History, so a stored history can be re-checked
// later without re-running any node.
package history

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Type is the kind of a history entry, as in Jepsen.
type Type string

const (
	Invoke Type = "invoke" // a client started an operation
	OK     Type = "ok"     // it definitely happened
	Fail   Type = "fail"   // it definitely did not happen
	Info   Type = "info"   // unknown: it may or may not have happened
)

// NemesisProcess is the Process of nemesis operations (partitions).
const NemesisProcess = -1

// Op is one history entry. An invocation and its completion share Process
// and F; the completion follows the invocation in the history.
type Op struct {
	Index   int    `json:"index"`
	Type    Type   `json:"type"`
	Process int    `json:"process"`
	F       string `json:"f"`
	// Value is a JSON-compatible value. After a round trip through
	// results on disk numbers may come back as float64 or json.Number, so
	// checkers read numbers through Int/Float below, never by type assertion.
	Value any   `json:"value"`
	Time  int64 `json:"time"` // nanoseconds since the test started
	// Error describes why a completion is fail or info, e.g.
	// ["key-does-not-exist" "text"] or "net-timeout".
	Error any `json:"error,omitempty"`
	// Final marks operations of the final phase (after heal and quiet).
	Final bool `json:"final,omitempty"`
	// Node is the server node the client talked to ("" for nemesis).
	Node string `json:"node,omitempty"`
}

// IsClient reports whether the op was issued by a client (not the nemesis).
func (o Op) IsClient() bool { return o.Process != NemesisProcess }

// History is a run's ordered list of operations.
type History []Op

// Pair is an invocation with its completion. Completion is nil when the
// operation never completed (the run ended first).
type Pair struct {
	Invoke     Op
	Completion *Op
}

// Pairs matches every client invocation with the completion that follows it
// on the same process, in invocation order.
func (h History) Pairs() []Pair {
	var pairs []Pair
	open := map[int]int{} // process -> index into pairs
	for _, op := range h {
		if !op.IsClient() {
			continue
		}
		if op.Type == Invoke {
			open[op.Process] = len(pairs)
			pairs = append(pairs, Pair{Invoke: op})
			continue
		}
		if i, ok := open[op.Process]; ok {
			c := op
			pairs[i].Completion = &c
			delete(open, op.Process)
		}
	}
	return pairs
}

// Reindex sets every op's Index to its position.
func (h History) Reindex() {
	for i := range h {
		h[i].Index = i
	}
}

// Int reads an integer from a JSON-compatible value.
func Int(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case int32:
		return int64(n), true
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int64(n), true
		}
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
	case string:
		// not a number
	}
	return 0, false
}

// Float reads a number from a JSON-compatible value.
func Float(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// Key is a canonical string for a JSON-compatible value, for use as a map
// key when values are compared by equality (unique-ids, set elements).
// 1 and 1.0 give different keys, as in Maelstrom (Clojure longs and
// doubles differ).
func Key(v any) string {
	switch n := v.(type) {
	case json.Number:
		return string(n)
	case int:
		return strconv.Itoa(n)
	case int64:
		return strconv.FormatInt(n, 10)
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			// A float64 that holds an integer came from a JSON integer
			// read without UseNumber; treat it as that integer.
			return strconv.FormatInt(int64(n), 10)
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}
