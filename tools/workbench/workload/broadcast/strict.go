package broadcast

import (
	"fmt"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// StrictChecks are broadcast's checks beyond Maelstrom's (set-full).
var StrictChecks = []workload.StrictCheck{{
	Name:      "unexpected",
	Defect:    "reads return values nobody broadcast (the node invents or corrupts values)",
	Maelstrom: "Jepsen's set-full ignores values that were never added: valid as long as the real values all arrive",
	Fixture:   "broadcast-extra",
}}

// Strict applies broadcast's strict check to Check's result (Maelstrom's
// verdict): a read that returns a value nobody broadcast is a node plainly
// making things up, so the run fails unless the checker judges as
// Maelstrom does.
func Strict(res checker.Result, opts workload.Options) checker.Result {
	n, _ := res["unexpected-count"].(int)
	if n == 0 {
		return res
	}
	return checker.ApplyStrict(res, checker.StrictnessOf(opts.MaelstromVerdicts), []string{"unexpected"},
		fmt.Sprintf("reads returned %d value(s) nobody broadcast, e.g. %v", n, firstOf(res["unexpected"])))
}

func firstOf(v any) any {
	if xs, ok := v.([]any); ok && len(xs) > 0 {
		return xs[0]
	}
	return v
}
