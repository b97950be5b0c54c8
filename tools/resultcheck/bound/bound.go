// Package bound states expectations about a run's results.json as short
// expressions and checks them: bounds a valid run must stay within (servers
// msgs-per-op, a latency quantile, the ok-fraction) and the reasons a
// deliberately broken fixture must be rejected for (a lost value, an
// anomaly type, a checker's verdict).
//
// An expression is PATH OP VALUE [margin M]:
//
//	net.servers.msgs-per-op <= 2.9 margin 5%
//	availability.ok-fraction >= 1
//	workload.dissemination-latencies["0.5"] <= 250 margin 20%
//	workload.valid? == false
//	workload.anomaly-types contains "G1a"
//
// PATH names nested keys separated by dots; a key that contains a dot,
// such as the quantile "0.5", is written in brackets as a JSON string. A
// numeric key matches numerically, so ["1"] also finds "1.0". OP is one of
// < <= > >= == != contains; VALUE is JSON (a number, true, false, null or
// a string). A margin loosens an ordering bound for a noisy machine, in
// the bound's unit or as a percentage of it: "<= 2.9 margin 5%" holds up
// to 3.045, ">= 0.9 margin 0.1" down to 0.8. The expression keeps the
// target and the margin apart so that both stay visible where bounds are
// written.
package bound

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/glomers/glomers/tools/workbench/checker"
)

// Op is a comparison.
type Op string

// The comparisons an expression may use.
const (
	Less      Op = "<"
	LessEq    Op = "<="
	Greater   Op = ">"
	GreaterEq Op = ">="
	Equal     Op = "=="
	NotEqual  Op = "!="
	Contains  Op = "contains"
)

// ops in the order the parser tries them (longest first).
var ops = []Op{LessEq, GreaterEq, Equal, NotEqual, Less, Greater, Contains}

// Bound is one parsed expression.
type Bound struct {
	Path  []string
	Op    Op
	Value any // float64, bool, string or nil
	// ValueText is the value as written (1.0 stays 1.0 when printed).
	ValueText string
	// Margin loosens an ordering bound: added to the value for < and <=,
	// subtracted for > and >=. Percent says Margin is a percentage of
	// |Value|.
	Margin  float64
	Percent bool
	// Text is the expression as written (trimmed).
	Text string
}

// Parse reads an expression.
func Parse(s string) (Bound, error) {
	b := Bound{Text: strings.TrimSpace(s)}
	rest := b.Text
	path, rest, err := parsePath(rest)
	if err != nil {
		return b, fmt.Errorf("bound %q: %w", s, err)
	}
	b.Path = path
	rest = strings.TrimLeft(rest, " \t")
	for _, op := range ops {
		if strings.HasPrefix(rest, string(op)) {
			b.Op = op
			rest = rest[len(op):]
			break
		}
	}
	if b.Op == "" {
		return b, fmt.Errorf("bound %q: want an operator (< <= > >= == != contains) after the path", s)
	}
	if b.Op == Contains && rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return b, fmt.Errorf("bound %q: want a space after contains", s)
	}
	valueText, marginText, hasMargin := cutWord(strings.TrimSpace(rest), "margin")
	if valueText == "" {
		return b, fmt.Errorf("bound %q: want a value after %s", s, b.Op)
	}
	d := json.NewDecoder(strings.NewReader(valueText))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return b, fmt.Errorf("bound %q: value %s is not a JSON number, string, true, false or null", s, valueText)
	}
	if d.More() || d.InputOffset() != int64(len(valueText)) {
		return b, fmt.Errorf("bound %q: unexpected text after the value %s", s, valueText)
	}
	b.ValueText = valueText
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return b, fmt.Errorf("bound %q: value %s: %w", s, valueText, err)
		}
		b.Value = f
	case bool, string, nil:
		b.Value = x
	default:
		return b, fmt.Errorf("bound %q: value %s must be a number, string, true, false or null", s, valueText)
	}
	if b.ordering() {
		if _, ok := b.Value.(float64); !ok {
			return b, fmt.Errorf("bound %q: %s needs a number", s, b.Op)
		}
	}
	if hasMargin {
		if !b.ordering() {
			return b, fmt.Errorf("bound %q: a margin only goes with < <= > >=", s)
		}
		m := strings.TrimSpace(marginText)
		if strings.HasSuffix(m, "%") {
			b.Percent = true
			m = strings.TrimSpace(strings.TrimSuffix(m, "%"))
		}
		f, err := strconv.ParseFloat(m, 64)
		if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			return b, fmt.Errorf("bound %q: margin %q must be a non-negative number, optionally with %%", s, strings.TrimSpace(marginText))
		}
		b.Margin = f
	}
	return b, nil
}

// MustParse is Parse for expressions written in code.
func MustParse(s string) Bound {
	b, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return b
}

// cutWord splits s at the last occurrence of " word " outside a JSON
// string, so that a string value may contain the word.
func cutWord(s, word string) (before, after string, found bool) {
	inString, escaped := false, false
	cut := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == ' ' || c == '\t') && strings.HasPrefix(s[i+1:], word) &&
			(i+1+len(word) == len(s) || s[i+1+len(word)] == ' ' || s[i+1+len(word)] == '\t'):
			cut = i
		}
	}
	if cut < 0 {
		return s, "", false
	}
	return strings.TrimSpace(s[:cut]), s[cut+1+len(word):], true
}

// parsePath reads the path at the start of s and returns the rest.
func parsePath(s string) ([]string, string, error) {
	var path []string
	i := 0
	for {
		if i < len(s) && s[i] == '[' {
			d := json.NewDecoder(strings.NewReader(s[i+1:]))
			var key string
			if err := d.Decode(&key); err != nil {
				return nil, "", fmt.Errorf("bracketed key at %q: want [\"key\"]", s[i:])
			}
			j := i + 1 + int(d.InputOffset())
			if j >= len(s) || s[j] != ']' {
				return nil, "", fmt.Errorf("bracketed key at %q: missing ]", s[i:])
			}
			path = append(path, key)
			i = j + 1
		} else {
			j := i
			for j < len(s) && !strings.ContainsRune(" \t.[<>=!", rune(s[j])) {
				j++
			}
			if j == i {
				if len(path) == 0 {
					return nil, "", errors.New("want a path such as net.servers.msgs-per-op")
				}
				return nil, "", fmt.Errorf("empty key in the path at %q", s[i:])
			}
			path = append(path, s[i:j])
			i = j
		}
		switch {
		case i < len(s) && s[i] == '.':
			i++
		case i < len(s) && s[i] == '[':
		default:
			return path, s[i:], nil
		}
	}
}

func (b Bound) ordering() bool {
	switch b.Op {
	case Less, LessEq, Greater, GreaterEq:
		return true
	}
	return false
}

// PathString is the path as written in canonical form.
func (b Bound) PathString() string { return PathString(b.Path) }

// PathString writes a path: plain keys joined by dots; numeric keys
// (quantiles) and keys with a dot, space, bracket or operator character in
// brackets.
func PathString(path []string) string {
	var sb strings.Builder
	for i, k := range path {
		_, numErr := strconv.ParseFloat(k, 64)
		if k == "" || numErr == nil || strings.ContainsAny(k, " \t.[]<>=!\"") {
			q, _ := json.Marshal(k)
			sb.WriteString("[" + string(q) + "]")
			continue
		}
		if i > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(k)
	}
	return sb.String()
}

// Limit is the threshold an ordering bound is judged against: the value
// loosened by the margin.
func (b Bound) Limit() float64 {
	v, _ := b.Value.(float64)
	m := b.Margin
	if b.Percent {
		m = math.Abs(v) * b.Margin / 100
	}
	switch b.Op {
	case Less, LessEq:
		return v + m
	case Greater, GreaterEq:
		return v - m
	}
	return v
}

// Target is the bound without its margin, e.g. "<= 2.9".
func (b Bound) Target() string {
	if b.ValueText != "" {
		return string(b.Op) + " " + b.ValueText
	}
	return string(b.Op) + " " + formatValue(b.Value)
}

// String is the canonical expression.
func (b Bound) String() string {
	s := b.PathString() + " " + b.Target()
	if b.Margin != 0 || b.Percent {
		s += " margin " + formatFloat(b.Margin)
		if b.Percent {
			s += "%"
		}
	}
	return s
}

// Outcome is a bound checked against one results map.
type Outcome struct {
	Bound Bound
	Found bool
	Value any // what the path holds, if Found
	Held  bool
	// Problem says why the bound could not be judged (path missing, not a
	// number); it is empty when Held or when the value simply missed.
	Problem string
}

// Check judges the bound against a decoded results map.
func (b Bound) Check(results map[string]any) Outcome {
	o := Outcome{Bound: b}
	v, ok := Lookup(results, b.Path)
	if !ok {
		o.Problem = "not in the results"
		return o
	}
	o.Found, o.Value = true, v
	switch b.Op {
	case Less, LessEq, Greater, GreaterEq:
		f, ok := number(v)
		if !ok {
			o.Problem = fmt.Sprintf("not a number: %s", formatValue(v))
			return o
		}
		lim := b.Limit()
		switch b.Op {
		case Less:
			o.Held = f < lim
		case LessEq:
			o.Held = f <= lim
		case Greater:
			o.Held = f > lim
		case GreaterEq:
			o.Held = f >= lim
		}
	case Equal:
		o.Held = equal(v, b.Value)
	case NotEqual:
		o.Held = !equal(v, b.Value)
	case Contains:
		o.Held = contains(v, b.Value)
	}
	return o
}

// Lookup walks nested maps along path (checker.Lookup). A key that is a
// number also matches a map key with the same numeric value ("1" finds
// "1.0").
func Lookup(m map[string]any, path []string) (any, bool) {
	return checker.Lookup(m, path...)
}

func asMap(v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	return m, ok
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func equal(a, b any) bool {
	if fa, ok := number(a); ok {
		fb, ok := number(b)
		return ok && fa == fb
	}
	return a == b
}

// contains: a list holds an equal element (or, for a string, an element
// containing it); a string holds the substring; a map has the key.
func contains(v, want any) bool {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if equal(e, want) {
				return true
			}
			if es, ok := e.(string); ok {
				if ws, ok := want.(string); ok && strings.Contains(es, ws) {
					return true
				}
			}
		}
	case string:
		ws, ok := want.(string)
		return ok && strings.Contains(x, ws)
	case map[string]any:
		ws, ok := want.(string)
		if ok {
			_, has := x[ws]
			return has
		}
	}
	return false
}

// Line is the outcome as one line: verdict, path, measured value, and the
// bound with its margin, e.g.
//
//	ok    net.servers.msgs-per-op = 2.86  (<= 2.9, margin 5%: <= 3.045)
func (o Outcome) Line() string {
	verdict := "ok"
	switch {
	case o.Problem != "":
		verdict = "ERROR"
	case !o.Held:
		verdict = "MISSED"
	}
	val := o.Problem
	if o.Found {
		val = "= " + shorten(formatValue(o.Value), 120)
		if o.Problem != "" {
			val += " (" + o.Problem + ")"
		}
	} else {
		val = ": " + val
	}
	sep := " "
	if !o.Found {
		sep = ""
	}
	return fmt.Sprintf("%-6s %s%s%s  (%s)", verdict, o.Bound.PathString(), sep, val, o.Bound.Rule())
}

// Rule is the bound's condition with its margin spelled out, e.g.
// "<= 2.9, margin 5%: <= 3.045".
func (b Bound) Rule() string {
	s := b.Target()
	if b.ordering() && (b.Margin != 0 || b.Percent) {
		m := formatFloat(b.Margin)
		if b.Percent {
			m += "%"
		}
		s += fmt.Sprintf(", margin %s: %s %s", m, b.Op, formatFloat(round(b.Limit())))
	}
	return s
}

// round drops float noise such as 3.0449999999999995.
func round(f float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 12, 64), 64)
	return r
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func formatValue(v any) string {
	switch x := v.(type) {
	case float64:
		return formatFloat(x)
	case json.Number:
		return x.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// ReadResults decodes a results.json file, keeping numbers exact.
func ReadResults(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := DecodeResults(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// DecodeResults reads a results.json document, numbers as json.Number.
func DecodeResults(data []byte) (map[string]any, error) {
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}
