package checker

import (
	"encoding/json"
	"testing"
)

func TestApplyStrict(t *testing.T) {
	valid := func() Result { return Result{"valid?": Valid} }
	r := ApplyStrict(valid(), Strict, []string{"unexpected"}, "reads returned 1 value nobody broadcast")
	if r.Valid() != Invalid || r[MaelstromValidKey] != Valid || r["first-error"] != "unexpected [strict]: reads returned 1 value nobody broadcast" {
		t.Errorf("strict: %v", r)
	}
	if !StrictOnly(r) {
		t.Errorf("StrictOnly(%v) = false", r)
	}
	r = ApplyStrict(valid(), AsMaelstrom, []string{"unexpected"}, "x")
	if r.Valid() != Valid || r[MaelstromValidKey] != nil || StrictOnly(r) {
		t.Errorf("as Maelstrom: %v", r)
	}
	// Already invalid for a check Maelstrom makes: its error stands.
	bad := Result{"valid?": Invalid, "first-error": "lost 3"}
	r = ApplyStrict(bad, Strict, []string{"unexpected"}, "x")
	if r["first-error"] != "lost 3" || r[MaelstromValidKey] != nil || StrictOnly(r) {
		t.Errorf("invalid run: %v", r)
	}
	if r := ApplyStrict(valid(), Strict, nil, "x"); r.Valid() != Valid {
		t.Errorf("nothing failed: %v", r)
	}
}

// A stored result (JSON) reads back the same way.
func TestStrictOnlyFromJSON(t *testing.T) {
	var m map[string]any
	if err := json.Unmarshal([]byte(`{"valid?": false, "maelstrom-valid?": true}`), &m); err != nil {
		t.Fatal(err)
	}
	if !StrictOnly(m) || MaelstromValidity(m) != Valid {
		t.Errorf("StrictOnly(%v) false", m)
	}
	m = nil
	if err := json.Unmarshal([]byte(`{"valid?": "unknown"}`), &m); err != nil {
		t.Fatal(err)
	}
	if StrictOnly(m) || MaelstromValidity(m) != Unknown {
		t.Errorf("unknown: %v", m)
	}
}
