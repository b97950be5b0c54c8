package txngraph

import (
	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
)

// CheckListAppendPreferring is CheckListAppend with a choice among each
// key's tied longest reads, for the reference tests to replay Elle's.
func CheckListAppendPreferring(h history.History, models []string, prefer func(int64, []int64) bool) checker.Result {
	return checkListAppend(h, models, prefer, checker.Strict)
}
