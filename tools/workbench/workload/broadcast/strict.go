package broadcast

import (
	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/workload"
	"github.com/glomers/glomers/tools/workbench/workload/setfull"
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
// Maelstrom does (setfull.Strict).
func Strict(res checker.Result, opts workload.Options) checker.Result {
	return setfull.Strict(res, opts, "broadcast")
}
