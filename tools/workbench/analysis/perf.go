package analysis

import (
	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
)

// Perf is the :perf result. Maelstrom's perf checker only draws plots and
// is always valid; the workbench also reports, per :f, the latency
// quantiles (ms) of the operations that completed ok, which those plots
// show and which are what two harnesses, or two runs, are compared by.
func Perf(h history.History) checker.Result {
	byF := map[string][]float64{}
	for _, p := range h.Pairs() {
		if p.Completion == nil || p.Completion.Type != history.OK {
			continue
		}
		ms := float64(p.Completion.Time-p.Invoke.Time) / 1e6
		byF[p.Invoke.F] = append(byF[p.Invoke.F], ms)
	}
	lat := map[string]any{}
	for f, xs := range byF {
		lat[f] = checker.Quantiles(xs)
	}
	res := checker.Result{"valid?": checker.Valid}
	if len(lat) > 0 {
		res["latencies"] = lat
	}
	return res
}
