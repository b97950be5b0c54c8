// Package checker holds what every workload's verdict is made of: the
// three-valued validity, the result map that results.edn and results.json
// are written from, and the checkers that apply to every run (stats,
// availability).
package checker

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// Validity is a checker's verdict. Unknown means nothing could be judged
// (e.g. no element was ever read); it ranks between Valid and Invalid.
type Validity int

const (
	Valid Validity = iota
	Unknown
	Invalid
)

// Of turns a boolean verdict into a Validity.
func Of(ok bool) Validity {
	if ok {
		return Valid
	}
	return Invalid
}

// Merge returns the worst of the verdicts: Invalid > Unknown > Valid, as
// Jepsen's merge-valid does.
func Merge(vs ...Validity) Validity {
	worst := Valid
	for _, v := range vs {
		if v > worst {
			worst = v
		}
	}
	return worst
}

func (v Validity) String() string {
	switch v {
	case Valid:
		return "true"
	case Invalid:
		return "false"
	}
	return "unknown"
}

// MarshalJSON writes true, false or "unknown".
func (v Validity) MarshalJSON() ([]byte, error) {
	switch v {
	case Valid:
		return []byte("true"), nil
	case Invalid:
		return []byte("false"), nil
	}
	return json.Marshal("unknown")
}

// MarshalEDN writes true, false or :unknown.
func (v Validity) MarshalEDN() ([]byte, error) {
	switch v {
	case Valid:
		return []byte("true"), nil
	case Invalid:
		return []byte("false"), nil
	}
	return []byte(":unknown"), nil
}

// Result is a checker's output. Keys are the names of EDN keywords without
// the colon ("valid?", "stable-count"); the value under "valid?" is a
// Validity. Values are JSON-compatible, plus Validity, edn.Keyword and
// maps with numeric keys (map[float64]any, e.g. latency quantiles).
type Result map[string]any

// Valid returns the result's verdict (Unknown if it has none).
func (r Result) Valid() Validity {
	if v, ok := r["valid?"].(Validity); ok {
		return v
	}
	return Unknown
}

// QuantilePoints are the points of Jepsen's frequency distribution that
// results report: minimum, median, 95th and 99th percentile, maximum.
var QuantilePoints = []float64{0, 0.5, 0.95, 0.99, 1}

// Quantile is Jepsen's quantile of sorted values: the p quantile of n
// values is the one at min(n−1, ⌊n·p⌋). sorted must not be empty.
func Quantile[T int64 | float64](sorted []T, p float64) T {
	n := len(sorted)
	return sorted[min(n-1, int(float64(n)*p))]
}

// Quantiles is Jepsen's frequency-distribution at QuantilePoints (see
// Quantile). nil for no values.
func Quantiles[T int64 | float64](xs []T) map[float64]any {
	if len(xs) == 0 {
		return nil
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	out := make(map[float64]any, len(QuantilePoints))
	for _, p := range QuantilePoints {
		out[p] = Quantile(s, p)
	}
	return out
}

// Lookup walks nested results along path: maps with string keys (as
// results.json and results.edn decode, or a Result) and the quantile maps
// checkers build with float keys. A key that is a number also matches a
// key with the same numeric value, so "1" finds "1.0" and 1.0.
func Lookup(v any, path ...string) (any, bool) {
	for _, k := range path {
		var ok bool
		switch m := v.(type) {
		case Result:
			v, ok = lookupString(m, k)
		case map[string]any:
			v, ok = lookupString(m, k)
		case map[float64]any:
			var f float64
			if f, ok = parseNumber(k); ok {
				v, ok = m[f]
			}
		}
		if !ok {
			return nil, false
		}
	}
	return v, true
}

func lookupString(m map[string]any, k string) (any, bool) {
	if v, ok := m[k]; ok {
		return v, true
	}
	kf, ok := parseNumber(k)
	if !ok {
		return nil, false
	}
	for mk, mv := range m {
		if f, ok := parseNumber(mk); ok && f == kf {
			return mv, true
		}
	}
	return nil, false
}

func parseNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// CompactJSON renders v as one line of JSON for a message or a summary,
// cut after limit bytes with "…"; a value JSON cannot encode is printed
// as Go would.
func CompactJSON(v any, limit int) string {
	b, err := json.Marshal(v)
	s := string(b)
	if err != nil {
		s = fmt.Sprint(v)
	}
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return s
}
