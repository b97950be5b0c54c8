// Package history holds the operations a workbench run records: every client
// invocation and its completion, and the nemesis's own operations. Checkers
// judge a run only from its History, so a stored history can be re-checked
// later without re-running any node.
package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
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
// on the same process, in invocation order. A completion points into h
// (it is not a copy), so pairing a long history costs one Pair per
// invocation and nothing more.
func (h History) Pairs() []Pair {
	n := 0
	for i := range h {
		if h[i].IsClient() && h[i].Type == Invoke {
			n++
		}
	}
	pairs := make([]Pair, 0, n)
	open := map[int]int{} // process -> index into pairs
	for i := range h {
		op := &h[i]
		if !op.IsClient() {
			continue
		}
		if op.Type == Invoke {
			open[op.Process] = len(pairs)
			pairs = append(pairs, Pair{Invoke: *op})
			continue
		}
		if j, ok := open[op.Process]; ok {
			pairs[j].Completion = op
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

// Key is a canonical string for a JSON-compatible value under Clojure's =,
// which is how Maelstrom compares values (unique ids, set elements, kv
// values in CAS), for use as a map key:
//   - integers are equal by value however spelled (12, -0 = 0, and past
//     64 bits, as Maelstrom reads those as BigInts);
//   - decimals (JSON numbers with a fraction or exponent, read as doubles)
//     are equal by value: 1.0 = 1.00, 1e2 = 100.0, -0.0 = 0.0;
//   - an integer never equals a decimal (1 ≠ 1.0: Clojure longs and
//     doubles differ);
//   - strings, booleans and null by value, arrays element by element,
//     objects by their key/value pairs in any order.
//
// Values are expected as decoded with json.Decoder.UseNumber; a float64
// holding an integer came from a JSON integer read without it and counts
// as that integer. Go ints are accepted, and any other type goes through
// its JSON form. The key reads as JSON (a decimal always shows a point or
// an exponent), so it can be shown to people.
func Key(v any) string {
	var b strings.Builder
	writeKey(&b, v)
	return b.String()
}

func writeKey(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		q, _ := json.Marshal(x) // a string always marshals
		b.Write(q)
	case json.Number:
		writeNumberKey(b, string(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			b.WriteString(strconv.FormatInt(int64(x), 10))
		} else {
			writeDecimalKey(b, x)
		}
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeKey(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		for i, k := range slices.Sorted(maps.Keys(x)) {
			if i > 0 {
				b.WriteByte(',')
			}
			writeKey(b, k)
			b.WriteByte(':')
			writeKey(b, x[k])
		}
		b.WriteByte('}')
	default:
		// Anything else (structs, typed slices in tests) by its JSON form.
		raw, err := json.Marshal(x)
		if err != nil {
			fmt.Fprintf(b, "?%#v", x)
			return
		}
		var generic any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if d.Decode(&generic) != nil {
			b.WriteString("?" + string(raw))
			return
		}
		writeKey(b, generic)
	}
}

func writeNumberKey(b *strings.Builder, s string) {
	if !strings.ContainsAny(s, ".eE") {
		if n, ok := new(big.Int).SetString(s, 10); ok {
			b.WriteString(n.String())
			return
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		b.WriteString("?" + s)
		return
	}
	writeDecimalKey(b, f) // out of range reads as ±Infinity, as a double does
}

func writeDecimalKey(b *strings.Builder, f float64) {
	switch {
	case math.IsNaN(f):
		b.WriteString("NaN")
	case math.IsInf(f, 1):
		b.WriteString("Infinity")
	case math.IsInf(f, -1):
		b.WriteString("-Infinity")
	default:
		if f == 0 {
			f = 0 // -0.0 = 0.0
		}
		s := strconv.FormatFloat(f, 'g', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0"
		}
		b.WriteString(s)
	}
}

// OKLatencies are the latencies (ms, invocation to completion) of the
// client operations that completed ok, per :f, in history order: what
// :perf, the summary line and compare report quantiles of.
func (h History) OKLatencies() map[string][]float64 {
	byF := map[string][]float64{}
	for _, p := range h.Pairs() {
		if p.Completion == nil || p.Completion.Type != OK || !p.Invoke.IsClient() {
			continue
		}
		byF[p.Invoke.F] = append(byF[p.Invoke.F], float64(p.Completion.Time-p.Invoke.Time)/1e6)
	}
	return byF
}
