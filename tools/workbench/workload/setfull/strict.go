package setfull

import (
	"fmt"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// Strict applies the "unexpected" strict check to Check's result
// (Maelstrom's verdict): a read that returns a value nobody added is a
// node plainly making things up, so the run fails, unless opts asks for
// Maelstrom's verdicts (checker.ApplyStrict records it either way). verb
// names the add in the reason ("broadcast", "added"). A workload that
// applies it lists the check in its Workload.Strict.
func Strict(res checker.Result, opts workload.Options, verb string) checker.Result {
	n, _ := res["unexpected-count"].(int)
	if n == 0 {
		return res
	}
	return checker.ApplyStrict(res, checker.StrictnessOf(opts.MaelstromVerdicts), []string{"unexpected"},
		fmt.Sprintf("reads returned %d value(s) nobody %s, e.g. %v", n, verb, firstOf(res["unexpected"])))
}

func firstOf(v any) any {
	if xs, ok := v.([]any); ok && len(xs) > 0 {
		return xs[0]
	}
	return v
}
