// Package runs computes the figures stored runs are compared by (the
// verdict, message counts, latency quantiles), from a run store.Load read
// back, the workbench's own or Maelstrom's, for compare and serve.
package runs

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
)

// Figure is one number that says how a run went.
type Figure struct {
	Name  string // e.g. "msgs/op (servers)", "latency broadcast p99 (ms)"
	Value float64
	// Better is -1 when a smaller value is better (latencies, messages,
	// lost values), +1 when a larger one is (availability), 0 when neither
	// (op counts follow the rate).
	Better int
}

// Quantiles are the latency quantiles of one series, by quantile
// (0, 0.5, 0.95, 0.99, 1) in milliseconds.
type Quantiles map[float64]float64

// QuantilePoints are the quantiles the figures and the compare plot use.
var QuantilePoints = []float64{0, 0.5, 0.95, 0.99, 1}

// Latencies returns each latency series of a run: "latency <f>" for the
// client latency of ok ops per f, and for broadcast "dissemination" and
// "stable". They come from the results when the run recorded them
// (perf.latencies.<f>, workload.dissemination-latencies,
// workload.stable-latencies) and are otherwise computed from the history
// the same way, so runs stored before those keys existed, and Maelstrom's
// runs, compare too.
func Latencies(res map[string]any, h history.History) map[string]Quantiles {
	out := map[string]Quantiles{}
	perf, _ := dig(res, "perf", "latencies").(map[string]any)
	for f, q := range perf {
		if qs, ok := quantileMap(q); ok {
			out["latency "+f] = qs
		}
	}
	if len(perf) == 0 {
		for f, qs := range okLatencies(h) {
			out["latency "+f] = qs
		}
	}
	if qs, ok := quantileMap(dig(res, "workload", "stable-latencies")); ok {
		out["stable"] = qs
	}
	if qs, ok := quantileMap(dig(res, "workload", "dissemination-latencies")); ok {
		out["dissemination"] = qs
	} else if qs := disseminationLatencies(h); qs != nil {
		out["dissemination"] = qs
	}
	return out
}

// Figures lists a run's key figures in a stable order: verdict-related
// counts, availability, messages per op, then every latency quantile.
func Figures(res map[string]any, h history.History) []Figure {
	var fs []Figure
	add := func(name string, v any, better int) {
		if x, ok := history.Float(v); ok {
			fs = append(fs, Figure{Name: name, Value: x, Better: better})
		}
	}
	add("ops", dig(res, "stats", "count"), 0)
	add("ok fraction", dig(res, "availability", "ok-fraction"), +1)
	add("msgs/op (servers)", dig(res, "net", "servers", "msgs-per-op"), -1)
	add("msgs/op (all)", dig(res, "net", "all", "msgs-per-op"), -1)
	if w, ok := res["workload"].(map[string]any); ok {
		var counts []string
		for k := range w {
			if strings.HasSuffix(k, "-count") {
				counts = append(counts, k)
			}
		}
		sort.Strings(counts)
		for _, k := range counts {
			// Most workload counts are of things that went wrong (lost,
			// stale, duplicated); attempts and stable values are not.
			better := -1
			if k == "attempt-count" || k == "stable-count" {
				better = 0
			}
			add("workload "+k, w[k], better)
		}
	}
	lat := Latencies(res, h)
	names := make([]string, 0, len(lat))
	for n := range lat {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, q := range QuantilePoints[1:] {
			if v, ok := lat[n][q]; ok {
				fs = append(fs, Figure{Name: fmt.Sprintf("%s %s (ms)", n, qName(q)), Value: v, Better: -1})
			}
		}
	}
	return fs
}

func qName(q float64) string {
	if q == 1 {
		return "max"
	}
	return "p" + fmt.Sprint(q*100)
}

// Row is one figure of two runs side by side.
type Row struct {
	Name       string
	A, B       float64
	HasA, HasB bool
	Diff       float64 // B - A
	Pct        float64 // Diff relative to A, in percent; NaN when A is 0
	Better     bool    // B is better than A by this figure
	Worse      bool    // B is worse than A by this figure
	Direction  int     // the figure's Better: -1, 0 or +1
}

// AText and BText are the row's two figures as a table shows them ("—"
// where a run lacks the figure).
func (r Row) AText() string { return figureText(r.A, r.HasA) }
func (r Row) BText() string { return figureText(r.B, r.HasB) }

func figureText(v float64, ok bool) string {
	if !ok {
		return "—"
	}
	return strconv.FormatFloat(v, 'g', 5, 64)
}

// DiffText is B − A with its sign and, where A is not 0, the change in
// percent; "" unless both runs have the figure.
func (r Row) DiffText() string {
	if !r.HasA || !r.HasB {
		return ""
	}
	s := strconv.FormatFloat(r.Diff, 'g', 4, 64)
	if r.Diff > 0 {
		s = "+" + s
	}
	if !math.IsNaN(r.Pct) && r.Diff != 0 {
		s += fmt.Sprintf(" (%+.0f%%)", r.Pct)
	}
	return s
}

// Compare lines up the figures of run A and run B, A's order first, then
// figures only B has.
func Compare(a, b []Figure) []Row {
	var rows []Row
	idx := map[string]int{}
	for _, f := range a {
		idx[f.Name] = len(rows)
		rows = append(rows, Row{Name: f.Name, A: f.Value, HasA: true, Direction: f.Better})
	}
	for _, f := range b {
		i, ok := idx[f.Name]
		if !ok {
			i = len(rows)
			rows = append(rows, Row{Name: f.Name, Direction: f.Better})
		}
		rows[i].B, rows[i].HasB = f.Value, true
	}
	for i := range rows {
		r := &rows[i]
		if !r.HasA || !r.HasB {
			continue
		}
		r.Diff = r.B - r.A
		r.Pct = math.NaN()
		if r.A != 0 {
			r.Pct = r.Diff / math.Abs(r.A) * 100
		}
		switch {
		case r.Diff == 0 || r.Direction == 0:
		case (r.Diff > 0) == (r.Direction > 0):
			r.Better = true
		default:
			r.Worse = true
		}
	}
	return rows
}

// dig walks nested results (checker.Lookup); nil where there is nothing.
func dig(m map[string]any, keys ...string) any {
	v, _ := checker.Lookup(m, keys...)
	return v
}

// quantileMap reads {"0.5": 12, …} (keys as JSON or EDN write them).
func quantileMap(v any) (Quantiles, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return nil, false
	}
	qs := Quantiles{}
	for k, x := range m {
		var q float64
		if err := json.Unmarshal([]byte(k), &q); err != nil {
			continue
		}
		if f, ok := history.Float(x); ok {
			qs[q] = f
		}
	}
	return qs, len(qs) > 0
}

// quantilesOf is Jepsen's quantiles of xs (checker.Quantile) at
// QuantilePoints; nil for no values. xs is sorted in place.
func quantilesOf(xs []float64) Quantiles {
	if len(xs) == 0 {
		return nil
	}
	sort.Float64s(xs)
	qs := Quantiles{}
	for _, q := range QuantilePoints {
		qs[q] = checker.Quantile(xs, q)
	}
	return qs
}

// okLatencies computes per f the quantiles of invoke→ok latency, in ms.
func okLatencies(h history.History) map[string]Quantiles {
	out := map[string]Quantiles{}
	for f, xs := range h.OKLatencies() {
		out[f] = quantilesOf(xs)
	}
	return out
}

// disseminationLatencies computes, for a broadcast history, the time from
// each value's broadcast invocation to the invocation of the last ok read
// that missed it (0 when no later read missed it), over the values some
// read returned; nil for histories without broadcasts and reads.
func disseminationLatencies(h history.History) Quantiles {
	type read struct {
		at   int64
		seen map[string]bool
	}
	var reads []read
	type bcast struct {
		at    int64
		value string
	}
	var bcasts []bcast
	everSeen := map[string]bool{}
	for _, p := range h.Pairs() {
		switch {
		case p.Invoke.F == "broadcast":
			bcasts = append(bcasts, bcast{p.Invoke.Time, history.Key(p.Invoke.Value)})
		case p.Invoke.F == "read" && p.Completion != nil && p.Completion.Type == history.OK:
			vs, _ := p.Completion.Value.([]any)
			r := read{at: p.Invoke.Time, seen: make(map[string]bool, len(vs))}
			for _, v := range vs {
				r.seen[history.Key(v)] = true
				everSeen[history.Key(v)] = true
			}
			reads = append(reads, r)
		}
	}
	var lat []float64
	for _, b := range bcasts {
		if !everSeen[b.value] {
			continue
		}
		worst := int64(0)
		for _, r := range reads {
			if r.at >= b.at && !r.seen[b.value] {
				worst = max(worst, r.at-b.at)
			}
		}
		lat = append(lat, float64(worst)/1e6)
	}
	return quantilesOf(lat)
}
