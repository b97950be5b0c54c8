package txngraph

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/edn"
)

// The verdict: which anomalies found fail which models, in Elle's result keys.

// result assembles the verdict from the anomalies found.
//
// As in Elle, the prohibited anomalies make the run invalid; the "unknown"
// ones (empty-transaction-graph, and cycle-search-timeout when
// timeoutIsType) are reported too and make it unknown if nothing else is
// wrong. Maelstrom's rw-register wrapper instead treats any reported type
// as invalid, which the caller gets by leaving timeouts out of the types.
// Strict types (strict.go) count unless s is checker.AsMaelstrom.
func (a *analysis) result(prohibited map[string]bool, parseErrs []error, timeouts []any, timeoutIsType bool, strict map[string]bool, s checker.Strictness) checker.Result {
	res := checker.Result{}
	if timeoutIsType && len(timeouts) > 0 {
		a.counts[CycleTimeout] = len(timeouts)
		a.anomalies[CycleTimeout] = timeouts
	}
	// Cycle-exists anomalies are a fallback: keep only those no reported
	// named anomaly already explains.
	a.dropExplainedCycles(prohibited)
	var found, reportable []string
	bad := false
	for t := range a.counts {
		found = append(found, t)
		switch {
		case prohibited[t]:
			reportable = append(reportable, t)
			bad = true
		case t == EmptyGraph || t == CycleTimeout:
			reportable = append(reportable, t)
		}
	}
	sort.Strings(found)
	sort.Strings(reportable)
	if len(parseErrs) > 0 {
		res["unparsed-txns"] = firstMessages(parseErrs)
	}
	if len(timeouts) > 0 {
		res["cycle-search-timeout"] = timeouts
	}
	counts := map[string]any{}
	for t, n := range a.counts {
		counts[t] = n
	}
	res["anomaly-counts"] = counts
	reportable = judgeStrict(res, reportable, strict, s)
	if len(reportable) == 0 {
		res["valid?"] = checker.Valid
		return res
	}
	res["valid?"] = checker.Invalid
	bad = false
	for _, t := range reportable {
		bad = bad || prohibited[t]
	}
	if !bad && timeoutIsType {
		res["valid?"] = checker.Unknown
	}
	sorted := slices.Sorted(slices.Values(reportable))
	types := make([]edn.Keyword, len(sorted))
	anomalies := map[string]any{}
	for i, t := range sorted {
		types[i] = edn.Keyword(t)
		anomalies[t] = a.anomalies[t]
	}
	res["anomaly-types"] = types
	res["anomalies"] = anomalies
	if s == checker.AsMaelstrom {
		found = slices.DeleteFunc(found, func(t string) bool { return strict[t] })
	}
	not, alsoNot := boundary(found)
	res["not"] = keywords(not)
	res["also-not"] = keywords(alsoNot)
	res["first-error"] = a.firstError(reportable, strict)
	return res
}

// dropExplainedCycles removes the cycle-exists anomalies the verdict does
// not need: those the models allow, and those a prohibited (or unknown)
// named anomaly already explains, its model being impossible anyway.
func (a *analysis) dropExplainedCycles(prohibited map[string]bool) {
	var named []string
	for t := range a.counts {
		if !isCycleExists(t) && (prohibited[t] || t == EmptyGraph || t == CycleTimeout) {
			named = append(named, t)
		}
	}
	impossible := impossibleModels(named)
	for t := range a.counts {
		if isCycleExists(t) && (!prohibited[t] || impossible[strings.TrimSuffix(t, "-cycle-exists")]) {
			delete(a.counts, t)
			delete(a.anomalies, t)
		}
	}
}

// firstMessages is the text of the first maxReported errors, so that a
// history of unparsable txns does not list every one.
func firstMessages(errs []error) []string {
	var msgs []string
	for i, e := range errs {
		if i == maxReported {
			break
		}
		msgs = append(msgs, e.Error())
	}
	return msgs
}

func keywords(names []string) []edn.Keyword {
	out := make([]edn.Keyword, len(names))
	for i, n := range names {
		out[i] = edn.Keyword(n)
	}
	return out
}

// firstError describes the first reportable anomaly in one line.
func (a *analysis) firstError(types []string, strict map[string]bool) string {
	for _, t := range types {
		list := a.anomalies[t]
		if len(list) == 0 {
			if t == EmptyGraph {
				return "empty-transaction-graph: no dependencies between transactions could be inferred"
			}
			continue
		}
		m, _ := list[0].(map[string]any)
		label := t
		if strict[t] {
			label += " [strict]"
		}
		if expl, ok := m["explanation"].(string); ok {
			return fmt.Sprintf("%s (%d found): %s", label, a.counts[t], strings.ReplaceAll(expl, "\n", " "))
		}
		return fmt.Sprintf("%s (%d found): %s", label, a.counts[t], describe(m))
	}
	return ""
}

func describe(m map[string]any) string {
	var parts []string
	for _, k := range []string{"op", "mop", "expected", "writer", "key", "value", "writers", "txns", "scc"} {
		if v, ok := m[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %s", k, brief(v)))
		}
	}
	return strings.Join(parts, ", ")
}

func brief(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return fmt.Sprintf("{index %v, process %v, %v %v}", x["index"], x["process"], x["type"], x["value"])
	case []any:
		var parts []string
		for _, e := range x {
			parts = append(parts, brief(e))
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	return fmt.Sprint(v)
}
