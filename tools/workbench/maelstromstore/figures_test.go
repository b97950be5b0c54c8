package maelstromstore

import (
	"fmt"
	"sort"

	"github.com/glomers/glomers/tools/workbench/analysis"
	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
)

// Figures are what two harnesses are compared by for one run: the
// verdict, servers msgs/op, and medians (ms) of client-op latency per :f
// and of the broadcast latencies, each read from results and history.
type Figures struct {
	Valid            string             // "true", "false" or "unknown"
	ServersMsgsPerOp float64            // :net :servers :msgs-per-op
	OpP50            map[string]float64 // per :f, ok ops
	StableP50        float64            // :workload :stable-latencies 0.5, -1 if absent
	DisseminationP50 float64            // :workload :dissemination-latencies 0.5, -1 if absent
}

// FiguresOf reads the figures from a results map (JSON-shaped, from
// results.json or results.edn) and its history. workload is the results
// map's :workload, possibly recomputed by the workbench's checker for a
// Maelstrom run (which has no :dissemination-latencies of its own).
func FiguresOf(results map[string]any, workload map[string]any, h history.History) (Figures, error) {
	f := Figures{Valid: fmt.Sprint(results["valid?"]), StableP50: -1, DisseminationP50: -1, OpP50: map[string]float64{}}
	if f.Valid == ":unknown" {
		f.Valid = "unknown"
	}
	servers, _ := dig(results, "net", "servers").(map[string]any)
	mpo, ok := history.Float(servers["msgs-per-op"])
	if !ok {
		return f, fmt.Errorf("results have no :net :servers :msgs-per-op")
	}
	f.ServersMsgsPerOp = mpo
	lat, _ := analysis.Perf(h)["latencies"].(map[string]any)
	for fn, q := range lat {
		p50, _ := history.Float(q.(map[float64]any)[0.5])
		f.OpP50[fn] = p50
	}
	if v, ok := history.Float(dig(workload, "stable-latencies", "0.5")); ok {
		f.StableP50 = v
	}
	if v, ok := history.Float(dig(workload, "dissemination-latencies", "0.5")); ok {
		f.DisseminationP50 = v
	}
	return f, nil
}

// Fs lists the :f names with an op latency, sorted.
func (f Figures) Fs() []string {
	var out []string
	for k := range f.OpP50 {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// dig follows map keys (checker.Lookup); nil where there is nothing.
func dig(v any, keys ...string) any {
	v, _ = checker.Lookup(v, keys...)
	return v
}
