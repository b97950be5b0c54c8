package workload

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/glomers/glomers/tools/resultcheck/bound"
	"github.com/glomers/glomers/tools/workbench/history"
)

// Summary is how a workload reads in `workbench test`'s closing summary
// line, after the figures every workload shares (verdict, operations,
// availability, messages per operation, operation latency).
type Summary struct {
	// LatencyF, when set, limits the headline operation latency to ok
	// operations of that f, labelled "<f> ok" (broadcast: reads are
	// answered locally and would hide the figure that matters).
	LatencyF string
	// Figures returns the workload's own figures from a run's results,
	// each a short phrase ("lost 0", "anomalies [G0]"); nil: none.
	Figures func(r Results) []string
	// StableLatency names the results' quantile map (under "workload")
	// that Fly.io's latency targets speak of for this workload, when it
	// is not the operation latency (broadcast: "stable-latencies").
	StableLatency string
}

// Results is a run's results map as stored (results.json), read by path.
type Results map[string]any

// Get returns the value at path, e.g. Get("workload", "lost-count").
func (r Results) Get(path ...string) (any, bool) { return bound.Lookup(r, path) }

// Num returns the number at path; ok is false when there is none (or it
// is NaN).
func (r Results) Num(path ...string) (float64, bool) {
	v, ok := r.Get(path...)
	if !ok {
		return 0, false
	}
	f, ok := history.Float(v)
	if !ok || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// Quantile returns quantile q of the quantile map at workload.key.
func (r Results) Quantile(key string, q float64) (float64, bool) {
	return r.Num("workload", key, strconv.FormatFloat(q, 'f', -1, 64))
}

// FmtFig prints a figure with two significant decimals below 10 and none
// from 100 on: 0.93, 2.86, 12.3, 254.
func FmtFig(f float64) string {
	switch {
	case math.Abs(f) >= 100:
		return strconv.FormatFloat(f, 'f', 0, 64)
	case math.Abs(f) >= 10:
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'f', 2, 64)
}

// Brief prints a list or value on one short line, as the summary shows
// it: [G0,G1a], elements separated by commas, cut at 60 characters.
func Brief(v any) string {
	s := strings.ReplaceAll(fmt.Sprint(v), " ", ",")
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}

// StrictCheck is a check a workload makes beyond Maelstrom's checker: the
// name its results use for it (an anomaly or error type), the defect it
// catches, and what Maelstrom's checker says of the same history. The
// fixture (tools/fixtures/<Fixture>) is a node Maelstrom accepts and the
// workbench rejects for this check; docs/verdicts.md lists them all.
type StrictCheck struct {
	Name      string
	Defect    string
	Maelstrom string
	Fixture   string
}
