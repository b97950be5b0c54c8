package txngraph

import (
	"slices"
	"strings"
	"testing"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
)

// Each strict anomaly type fails the run by default, is marked strict with
// Maelstrom's verdict beside it, and leaves the verdict to Elle's types
// under checker.AsMaelstrom; a type Elle does report under the model is
// not strict there.
func TestStrictAnomaliesFlipUnderMaelstromVerdicts(t *testing.T) {
	rw := func(h history.History, model string, s checker.Strictness) checker.Result {
		return Check(h, []string{model}, s)
	}
	la := func(h history.History, model string, s checker.Strictness) checker.Result {
		return CheckListAppend(h, []string{model}, s)
	}
	for _, tc := range []struct {
		name, typ, model string
		check            func(history.History, string, checker.Strictness) checker.Result
		h                history.History
	}{
		{"rw garbage read (0 for an unwritten key)", GarbageRead, "strict-serializable", rw,
			serial(t, [2]string{"ok", "r 1 0"}, [2]string{"ok", "w 1 1"}, [2]string{"ok", "r 1 1"})},
		{"list-append garbage read", GarbageRead, "serializable", la,
			laSerial(t, [2]string{"ok", "a 1 1"}, [2]string{"ok", "r 1 [1 7]"}, [2]string{"ok", "r 1 [1]"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			strict := tc.check(tc.h, tc.model, checker.Strict)
			if strict.Valid() != checker.Invalid || !slices.Contains(types(strict), tc.typ) {
				t.Fatalf("strict: %v", strict)
			}
			if got, _ := strict[checker.StrictKey].([]string); !slices.Contains(got, tc.typ) {
				t.Errorf("strict list %v lacks %s", strict[checker.StrictKey], tc.typ)
			}
			if strict[checker.MaelstromValidKey] != checker.Valid {
				t.Errorf("maelstrom-valid? = %v, want true", strict[checker.MaelstromValidKey])
			}
			if fe, _ := strict["first-error"].(string); !strings.HasPrefix(fe, tc.typ+" [strict]") {
				t.Errorf("first-error %q does not start with %q", fe, tc.typ+" [strict]")
			}
			lenient := tc.check(tc.h, tc.model, checker.AsMaelstrom)
			if lenient.Valid() != checker.Valid {
				t.Fatalf("as Maelstrom: %v", lenient)
			}
			if got, _ := lenient[checker.StrictNotJudgedKey].([]string); !slices.Contains(got, tc.typ) {
				t.Errorf("strict-not-judged %v lacks %s", lenient[checker.StrictNotJudgedKey], tc.typ)
			}
		})
	}
}

// Where Elle reports the type too, it is not strict, and a run failing for
// it fails as Maelstrom would.
func TestElleTypesAreNotStrict(t *testing.T) {
	internal := serial(t, [2]string{"ok", "w 1 1"}, [2]string{"ok", "w 1 2, r 1 1"})
	for _, s := range []checker.Strictness{checker.Strict, checker.AsMaelstrom} {
		r := Check(internal, []string{"serializable"}, s)
		if r.Valid() != checker.Invalid || r[checker.StrictKey] != nil || r[checker.MaelstromValidKey] != nil {
			t.Errorf("internal under serializable (%v): %v", s, r)
		}
	}
	cyclic := serial(t, [2]string{"ok", "w 1 1"}, [2]string{"ok", "r 1 1, w 1 2"}, [2]string{"ok", "r 1 2, w 1 1"})
	if r := Check(cyclic, []string{"read-uncommitted"}, checker.AsMaelstrom); r.Valid() != checker.Invalid {
		t.Errorf("cyclic-versions as Maelstrom: %v", r)
	}
	// A run with both kinds: Maelstrom's verdict is invalid too, and the
	// first error is the type Maelstrom reports.
	both := serial(t, [2]string{"ok", "w 1 1"}, [2]string{"ok", "r 1 1, w 1 2"}, [2]string{"ok", "r 1 2, w 1 1"}, [2]string{"ok", "r 2 5"})
	r := Check(both, []string{"read-uncommitted"})
	if r[checker.MaelstromValidKey] != checker.Invalid || !strings.HasPrefix(r["first-error"].(string), CyclicVersion) {
		t.Errorf("both: maelstrom-valid? %v, first-error %v", r[checker.MaelstromValidKey], r["first-error"])
	}
}
