package txngraph

import (
	"slices"

	"github.com/glomers/glomers/tools/workbench/checker"
)

// The checker fails a run for some anomalies whatever the consistency
// model (alwaysBad): a history with them cannot come from any database we
// model. Elle, and so Maelstrom, reports fewer: it has no garbage-read
// check at all (rw-register's wr-graph takes a value nobody wrote for the
// initial state; list-append never asks who appended an element), and
// reports internal and incompatible-order only under the models that
// prohibit them. Those
// differences are the checker's strict anomaly types: counted in the
// verdict unless the checker judges as Maelstrom does, and always named in
// the result's "strict" (or "strict-not-judged") list.

// elleProhibits says, for each always-bad type, whether Elle's
// consistency-model table (elle.consistency-model, direct-proscribed-
// anomalies and the anomalies implying them) prohibits it under a model.
var elleProhibits = map[string]func(model string) bool{
	GarbageRead: func(string) bool { return false },
	// Elle throws on a value written twice, so Maelstrom's verdict is
	// unknown, not valid: no harness accepts such a run, and the checker
	// keeps failing it (not strict).
	DuplicateW: func(string) bool { return true },
	// internal: proscribed by serializable, snapshot-isolation and the
	// models above them, not by read-uncommitted, read-committed,
	// monotonic-atomic-view, cursor-stability or repeatable-read.
	Internal: func(m string) bool {
		return slices.Contains([]string{"serializable", "snapshot-isolation", "strong-session-serializable",
			"strong-session-snapshot-isolation", "strong-snapshot-isolation", "strict-serializable"}, m)
	},
	// incompatible-order implies G1a, which every model from
	// read-committed on prohibits.
	IncompatibleOrder: func(m string) bool {
		return !slices.Contains([]string{"read-uncommitted", "strong-session-read-uncommitted", "strong-read-uncommitted"}, m)
	},
	// PL-1 (read-uncommitted) already proscribes these two.
	CyclicVersion:     func(string) bool { return true },
	DuplicateElements: func(string) bool { return true },
}

// strictTypes are the always-bad types none of the models make Elle
// report.
func strictTypes(modelNames []string) map[string]bool {
	if len(modelNames) == 0 {
		modelNames = []string{DefaultModel}
	}
	out := map[string]bool{}
	for _, t := range alwaysBad {
		prohibits, known := elleProhibits[t]
		if !known {
			continue
		}
		strict := true
		for _, m := range modelNames {
			if prohibits(m) {
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
