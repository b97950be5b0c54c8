package checker

import (
	"fmt"
	"sort"
)

// Where a result says that the workbench judged beyond Maelstrom. A
// workload's checker may fail a run for a defect Maelstrom's checker does
// not look at (a read of a value nobody wrote, say); such a check is
// "strict". Its result then names the strict checks that failed next to
// its own anomaly or error types, and says what Maelstrom's checker would
// have concluded from the same history, so a reader (and the console's
// verdict line) can tell "wrong under any harness" from "wrong only by the
// workbench's stricter reading".
const (
	// StrictKey lists the strict checks (anomaly or error types) that
	// failed and count in valid?.
	StrictKey = "strict"
	// MaelstromValidKey is Maelstrom's verdict of the same history, written
	// when strict checks failed (it is then better than valid?).
	MaelstromValidKey = "maelstrom-valid?"
	// StrictNotJudgedKey lists, under --maelstrom-verdicts, the strict
	// checks that failed but were left out of valid?, as Maelstrom does.
	StrictNotJudgedKey = "strict-not-judged"
)

// Strictness says how a checker treats its strict checks.
type Strictness int

const (
	// Strict fails a run for strict checks too (the workbench's default).
	Strict Strictness = iota
	// AsMaelstrom judges only what Maelstrom judges (--maelstrom-verdicts).
	AsMaelstrom
)

// StrictnessOf maps the --maelstrom-verdicts option to a Strictness.
func StrictnessOf(maelstromVerdicts bool) Strictness {
	if maelstromVerdicts {
		return AsMaelstrom
	}
	return Strict
}

// ApplyStrict records strict checks that failed on res, a result that
// holds Maelstrom's verdict of the history. Under Strict the run fails
// (valid? becomes Invalid, maelstrom-valid? keeps Maelstrom's verdict, and
// a first-error is written, tagged "strict", if res had none); under
// AsMaelstrom the verdict stands and the checks are listed as not judged.
// firstError describes the first failed check in one line. It returns res.
func ApplyStrict(res Result, s Strictness, failed []string, firstError string) Result {
	if len(failed) == 0 {
		return res
	}
	failed = append([]string(nil), failed...)
	sort.Strings(failed)
	if s == AsMaelstrom {
		res[StrictNotJudgedKey] = failed
		return res
	}
	res[StrictKey] = failed
	maelstrom := res.Valid()
	if maelstrom != Invalid {
		res[MaelstromValidKey] = maelstrom
		res["valid?"] = Invalid
		res["first-error"] = fmt.Sprintf("%s [strict]: %s", failed[0], firstError)
	}
	return res
}

// ParseValidity reads a valid? value however it was stored: a Validity, a
// JSON or EDN boolean, or "unknown". ok is false for anything else.
func ParseValidity(v any) (Validity, bool) {
	switch x := v.(type) {
	case Validity:
		return x, true
	case bool:
		return Of(x), true
	case string:
		if x == "unknown" || x == ":unknown" {
			return Unknown, true
		}
	}
	return Unknown, false
}

// MaelstromValidity is the verdict Maelstrom would give a (sub-)result:
// its maelstrom-valid? when strict checks failed, else its valid?.
func MaelstromValidity(m map[string]any) Validity {
	if v, ok := ParseValidity(m[MaelstromValidKey]); ok {
		return v
	}
	v, _ := ParseValidity(m["valid?"])
	return v
}

// StrictOnly reports whether a (sub-)result is invalid only because of
// strict checks: Maelstrom would accept the run.
func StrictOnly(m map[string]any) bool {
	v, _ := ParseValidity(m["valid?"])
	return v == Invalid && MaelstromValidity(m) == Valid
}
