package kafka

import (
	"fmt"
	"sort"
	"strings"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/edn"
	"github.com/glomers/glomers/tools/workbench/history"
)

// allowedErrors are the error types Jepsen's kafka checker reports but
// does not fail on (with assign-based consumers and no ww inference).
var allowedErrors = map[string]bool{
	"int-send-skip": true, "G0": true, "G0-process": true, "G0-realtime": true,
	"PL-1-cycle-exists": true, "strong-PL-1-cycle-exists": true,
}

// condense truncates an error list the way Jepsen's condense-error does.
func condense(typ string, errs []map[string]any) map[string]any {
	byDelta := func() {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i]["delta"].(int) < errs[j]["delta"].(int) })
	}
	n := len(errs)
	shown := errs
	switch typ {
	case "duplicate":
		sort.SliceStable(errs, func(i, j int) bool { return errs[i]["count"].(int) < errs[j]["count"].(int) })
		shown = errs[:min(32, n)]
	case "inconsistent-offsets":
		sort.SliceStable(errs, func(i, j int) bool {
			return len(errs[i]["values"].([]any)) < len(errs[j]["values"].([]any))
		})
		shown = errs[:min(32, n)]
	case "int-nonmonotonic-poll", "int-nonmonotonic-send", "nonmonotonic-poll", "nonmonotonic-send":
		byDelta()
		shown = errs[:min(8, n)]
	case "int-poll-skip", "int-send-skip", "poll-skip":
		byDelta()
		shown = errs[max(0, n-8):]
	}
	list := make([]any, len(shown))
	for i, e := range shown {
		list[i] = e
	}
	return map[string]any{"count": n, "errs": list}
}

// Check runs Jepsen's kafka analysis (without the Elle cycle search).
func Check(h history.History) checker.Result {
	a := analyze(h)
	errors := map[string][]map[string]any{}
	put := func(typ string, errs []map[string]any) {
		if len(errs) > 0 {
			errors[typ] = errs
		}
	}
	put("inconsistent-offsets", a.versionOrders())
	put("G1a", a.g1a())
	lost, crash := a.lostWrites()
	if crash != nil {
		return checker.Result{"valid?": checker.Unknown, "error": crash.msg, "first-error": crash.msg}
	}
	put("lost-write", lost)
	intPollSkips, intPollBackwards, intSendSkips, intSendBackwards := a.internal()
	put("int-poll-skip", intPollSkips)
	put("int-nonmonotonic-poll", intPollBackwards)
	put("int-send-skip", intSendSkips)
	put("int-nonmonotonic-send", intSendBackwards)
	pollSkips, pollBackwards := a.pollSkips()
	put("poll-skip", pollSkips)
	put("nonmonotonic-poll", pollBackwards)
	put("nonmonotonic-send", a.nonmonotonicSends())
	put("duplicate", a.duplicates())
	unseen := a.unseen()

	var types, bad []any
	typeNames := sortedKeys(errors)
	if unseen != nil {
		typeNames = append(typeNames, "unseen")
		sort.Strings(typeNames)
	}
	firstBad := ""
	for _, t := range typeNames {
		types = append(types, edn.Keyword(t))
		if !allowedErrors[t] {
			bad = append(bad, edn.Keyword(t))
			if firstBad == "" {
				firstBad = t
			}
		}
	}
	res := checker.Result{
		"valid?":             checker.Of(len(bad) == 0),
		"worst-realtime-lag": a.worstRealtimeLag(),
		"bad-error-types":    orEmpty(bad),
		"error-types":        orEmpty(types),
		"info-txn-causes":    a.infoCauses(),
	}
	for t, errs := range errors {
		res[t] = condense(t, errs)
	}
	if unseen != nil {
		res["unseen"] = unseen
	}
	if firstBad != "" {
		res["first-error"] = describe(firstBad, errors[firstBad], unseen)
	}
	return res
}

func orEmpty(xs []any) []any {
	if xs == nil {
		return []any{}
	}
	return xs
}

func (a *analysis) infoCauses() []any {
	seen := map[string]bool{}
	out := []any{}
	for _, o := range a.ops {
		if o.op.Type != history.Info || (o.op.F != "send" && o.op.F != "poll" && o.op.F != "txn") {
			continue
		}
		k := history.Key(o.op.Error)
		if !seen[k] {
			seen[k] = true
			out = append(out, o.op.Error)
		}
	}
	return out
}

// describe is the one-line first-error: the error type and its first case,
// naming the ops involved by index and process.
func describe(typ string, errs []map[string]any, unseen map[string]any) string {
	if typ == "unseen" {
		return fmt.Sprintf("unseen: acknowledged sends never returned by any poll, per key %v (e.g. messages %v)",
			unseen["unseen"], unseen["messages"])
	}
	if len(errs) == 0 {
		return typ
	}
	e := errs[0]
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%d cases): key %v", typ, len(errs), e["key"])
	for _, f := range []string{"value", "values", "offset", "index", "max-read-index", "delta", "skipped", "count", "offsets"} {
		if v, ok := e[f]; ok {
			fmt.Fprintf(&b, " %s %v", f, v)
		}
	}
	for _, f := range []string{"writer", "reader", "max-read", "op"} {
		if m, ok := e[f].(map[string]any); ok {
			fmt.Fprintf(&b, "; %s: op %v (process %v)", f, m["index"], m["process"])
		}
	}
	if ops, ok := e["ops"].([]any); ok {
		for i, x := range ops {
			if m, ok := x.(map[string]any); ok {
				fmt.Fprintf(&b, "; op%d %v (process %v)", i+1, m["index"], m["process"])
			}
		}
	}
	return b.String()
}
