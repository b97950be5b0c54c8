package analysis

import (
	"fmt"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// StrictFailures lists the strict checks (the workbench's checks beyond
// Maelstrom's) that failed in a run's results, as "workload garbage-read",
// whether or not they counted in the verdict (under --maelstrom-verdicts
// they are listed as not judged).
func StrictFailures(res map[string]any) (judged, notJudged []string) {
	for _, k := range []string{"workload", "stats", "availability", "net"} {
		sub, ok := asMap(res[k])
		if !ok {
			continue
		}
		for _, t := range listOf(sub[checker.StrictKey]) {
			judged = append(judged, k+" "+t)
		}
		for _, t := range listOf(sub[checker.StrictNotJudgedKey]) {
			notJudged = append(notJudged, k+" "+t)
		}
	}
	return judged, notJudged
}

// StrictNote explains, in a few lines for the console, a run that is
// invalid only because of strict checks: Maelstrom would accept it, what
// is still wrong (each failed check with the defect it catches, from the
// workload's Strict list), and how to get Maelstrom's verdict. nil for any
// other run.
func StrictNote(res map[string]any, strict []workload.StrictCheck) []string {
	if !checker.StrictOnly(res) {
		return nil
	}
	judged, _ := StrictFailures(res)
	lines := []string{"Maelstrom would accept this run; what is still wrong, by the workbench's strict checks:"}
	for _, f := range judged {
		line := "  " + f + " [strict]"
		for _, c := range strict {
			if "workload "+c.Name == f {
				line += ": " + c.Defect
			}
		}
		lines = append(lines, line)
	}
	return append(lines, "--maelstrom-verdicts judges as Maelstrom does (see docs/verdicts.md).")
}

// VerdictWord names a run's verdict for listings (compare, the report):
// "valid", "invalid", "unknown", or "invalid (strict; Maelstrom would
// accept)" when only strict checks failed.
func VerdictWord(res map[string]any) string {
	if res == nil {
		return "no results"
	}
	v, ok := checker.ParseValidity(res["valid?"])
	switch {
	case !ok:
		return "unknown"
	case checker.StrictOnly(res):
		return "invalid (strict checks only; Maelstrom would accept)"
	}
	return map[checker.Validity]string{checker.Valid: "valid", checker.Invalid: "invalid", checker.Unknown: "unknown"}[v]
}

func asMap(v any) (map[string]any, bool) {
	switch x := v.(type) {
	case checker.Result:
		return x, true
	case map[string]any:
		return x, true
	}
	return nil, false
}

func listOf(v any) []string {
	var out []string
	switch x := v.(type) {
	case []string:
		out = append(out, x...)
	case []any:
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
	}
	return out
}
