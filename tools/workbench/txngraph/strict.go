package txngraph

import (
	"github.com/glomers/glomers/tools/workbench/checker"
)

// The checker fails a run for some anomalies whatever the consistency
// model (workbenchOnly, models.go). Elle, and so Maelstrom, has no
// garbage-read check at all (rw-register's wr-graph takes a value nobody
// wrote for the initial state; list-append never asks who appended an
// element). That difference is the checker's strict anomaly type: counted
// in the verdict unless the checker judges as Maelstrom does, and always
// named in the result's "strict" (or "strict-not-judged") list. Every other
// type fails a run exactly when Elle's consistency-model table says so.

// elleProhibits says whether Elle rejects a history with a workbench-only
// anomaly type under a model.
func elleProhibits(anomaly, model string) bool {
	switch anomaly {
	case GarbageRead:
		return false
	case DuplicateW:
		// Elle throws on a value written twice, so Maelstrom's verdict is
		// unknown, not valid: no harness accepts such a run, and the
		// checker keeps failing it (not strict).
		return true
	}
	p, err := elleProhibitedBy([]string{model})
	return err == nil && p[anomaly]
}

// strictTypes are the workbench-only types none of the models make Elle
// report.
func strictTypes(modelNames []string) map[string]bool {
	if len(modelNames) == 0 {
		modelNames = []string{DefaultModel}
	}
	out := map[string]bool{}
	for _, t := range workbenchOnly {
		strict := true
		for _, m := range modelNames {
			if elleProhibits(t, m) {
				strict = false
			}
		}
		if strict {
			out[t] = true
		}
	}
	return out
}

// judgeStrict splits the reportable types into those Elle reports too and
// the strict ones, which under AsMaelstrom are left out; it returns the
// types that count, non-strict first (so the first error is one Maelstrom
// would report too), and records the strict ones on res.
func judgeStrict(res checker.Result, reportable []string, strict map[string]bool, s checker.Strictness) []string {
	var elle, extra []string
	for _, t := range reportable {
		if strict[t] {
			extra = append(extra, t)
		} else {
			elle = append(elle, t)
		}
	}
	if len(extra) == 0 {
		return elle
	}
	if s == checker.AsMaelstrom {
		res[checker.StrictNotJudgedKey] = extra
		return elle
	}
	res[checker.StrictKey] = extra
	if len(elle) == 0 {
		res[checker.MaelstromValidKey] = checker.Valid
	} else {
		res[checker.MaelstromValidKey] = checker.Invalid
	}
	return append(elle, extra...)
}
