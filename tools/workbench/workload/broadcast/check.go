package broadcast

import (
	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/workload/setfull"
)

// Check is Jepsen's set-full checker with broadcast in the role of add, as
// Maelstrom runs it for this workload (package setfull has the rules; the
// g-set workload shares them).
func Check(h history.History) checker.Result { return setfull.Check(h, "broadcast") }
