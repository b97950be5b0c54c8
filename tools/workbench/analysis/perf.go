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
	lat := map[string]any{}
	for f, xs := range h.OKLatencies() {
		lat[f] = checker.Quantiles(xs)
	}
	res := checker.Result{"valid?": checker.Valid}
	if len(lat) > 0 {
		res["latencies"] = lat
	}
	return res
}
