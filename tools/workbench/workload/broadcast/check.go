package broadcast

import (
	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/workload"
	"github.com/glomers/glomers/tools/workbench/workload/setfull"
)

// Check is Jepsen's set-full checker with broadcast in the role of add, as
// Maelstrom runs it for this workload (package setfull has the rules; the
// g-set workload shares them).
func Check(h history.History) checker.Result { return setfull.Check(h, "broadcast") }

// Strict fails a run whose reads return values nobody broadcast, unless
// asked for Maelstrom's verdicts (setfull.Strict).
func Strict(res checker.Result, opts workload.Options) checker.Result {
	return setfull.Strict(res, opts, "broadcast")
}
