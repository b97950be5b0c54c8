package setfull

import (
	"fmt"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// Strict applies the workbench's stricter-than-Maelstrom rule to a
// set-full result: a read that returns a value nobody added is a node
// plainly making things up, so the run fails, with a reason that says so.
// Maelstrom only fails it when real values go missing too;
// --maelstrom-verdicts keeps Maelstrom's verdict. verb names the add in
// the reason ("broadcast", "added").
func Strict(res checker.Result, opts workload.Options, verb string) checker.Result {
	n, _ := res["unexpected-count"].(int)
	if opts.MaelstromVerdicts || n == 0 {
		return res
	}
	reason := fmt.Sprintf("reads returned %d value(s) nobody %s, e.g. %v (Maelstrom ignores these; --maelstrom-verdicts to do the same)",
		n, verb, firstOf(res["unexpected"]))
	res["stricter-than-maelstrom"] = reason
	if res.Valid() != checker.Invalid {
		res["valid?"] = checker.Invalid
		res["first-error"] = reason
	}
	return res
}

func firstOf(v any) any {
	if xs, ok := v.([]any); ok && len(xs) > 0 {
		return xs[0]
	}
	return v
}
