package broadcast

import (
	"fmt"
	"strings"
	"testing"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// TestInventedValuesFailUnlessMaelstromVerdicts: every real value is
// stable, but a read also returns 999, which nobody broadcast. Maelstrom
// (and Check alone) pass this; the workload's checker fails it, unless
// asked for Maelstrom's verdicts.
func TestInventedValuesFailUnlessMaelstromVerdicts(t *testing.T) {
	h := (&hist{}).broadcast(0, 1, 0, 1).read(1, vals(1, 999), 5, 6).read(0, vals(1), 10, 11).h
	if res := Check(h); res.Valid() != checker.Valid {
		t.Fatalf("Check alone: %v", res.Valid())
	}
	res := Workload.Check(h, workload.Options{})
	if res.Valid() != checker.Invalid || !strings.Contains(res["first-error"].(string), "unexpected [strict]: reads returned 1 value(s) nobody broadcast, e.g. 999") {
		t.Errorf("strict verdict: %v %v", res.Valid(), res["first-error"])
	}
	if !checker.StrictOnly(res) || fmt.Sprint(res[checker.StrictKey]) != "[unexpected]" {
		t.Errorf("not marked strict-only: %v", res)
	}
	if res := Workload.Check(h, workload.Options{MaelstromVerdicts: true}); res.Valid() != checker.Valid || fmt.Sprint(res[checker.StrictNotJudgedKey]) != "[unexpected]" {
		t.Errorf("--maelstrom-verdicts: %v", res)
	}
	// A run already invalid for lost values keeps its first error.
	lost := (&hist{}).broadcast(0, 1, 0, 1).broadcast(0, 2, 2, 3).read(1, vals(1, 999), 5, 6).read(0, vals(1), 10, 11).h
	if res := Workload.Check(lost, workload.Options{}); res.Valid() != checker.Invalid || strings.Contains(res["first-error"].(string), "nobody") {
		t.Errorf("lost run: %v %v", res.Valid(), res["first-error"])
	}
}
