package uniqueids

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
)

func gen(p int, typ history.Type, id any) []history.Op {
	return []history.Op{
		{Type: history.Invoke, Process: p, F: "generate"},
		{Type: typ, Process: p, F: "generate", Value: id, Node: "n0"},
	}
}

func TestUniqueIDsAreValid(t *testing.T) {
	var h history.History
	h = append(h, gen(0, history.OK, json.Number("1"))...)
	h = append(h, gen(1, history.OK, json.Number("5"))...)
	h = append(h, gen(0, history.Info, nil)...)
	h = append(h, gen(2, history.OK, json.Number("3"))...)
	h.Reindex()
	res := Check(h)
	if res.Valid() != checker.Valid {
		t.Fatalf("judged %v: %v", res.Valid(), res)
	}
	if res["attempted-count"] != 4 || res["acknowledged-count"] != 3 || res["duplicated-count"] != 0 {
		t.Errorf("counts: %v", res)
	}
	if !reflect.DeepEqual(res["range"], []any{json.Number("1"), json.Number("5")}) {
		t.Errorf("range %v, want [1 5]", res["range"])
	}
}

func TestDuplicatesAreInvalid(t *testing.T) {
	var h history.History
	h = append(h, gen(0, history.OK, "n0-1")...)
	h = append(h, gen(1, history.OK, "n1-1")...)
	h = append(h, gen(2, history.OK, "n0-1")...)
	h = append(h, gen(2, history.OK, "n0-1")...)
	h.Reindex()
	res := Check(h)
	if res.Valid() != checker.Invalid {
		t.Fatalf("duplicates judged %v", res.Valid())
	}
	if res["duplicated-count"] != 1 || res["duplicated"].(map[any]any)["n0-1"] != 3 {
		t.Errorf("duplicates reported as %v / %v", res["duplicated-count"], res["duplicated"])
	}
	if fe, _ := res["first-error"].(string); !strings.Contains(fe, "op 5") || !strings.Contains(fe, "op 1") {
		t.Errorf("first-error %q should name the duplicate op 5 and the first op 1", fe)
	}
	if !reflect.DeepEqual(res["range"], []any{"n0-1", "n1-1"}) {
		t.Errorf("range %v", res["range"])
	}
}

func TestIntegerAndDecimalIDsDiffer(t *testing.T) {
	var h history.History
	h = append(h, gen(0, history.OK, json.Number("1"))...)
	h = append(h, gen(1, history.OK, json.Number("1.0"))...)
	h.Reindex()
	if res := Check(h); res.Valid() != checker.Valid {
		t.Errorf("1 and 1.0 counted as duplicates: %v", res)
	}
	h = append(h, gen(2, history.OK, json.Number("1"))...)
	h.Reindex()
	if res := Check(h); res.Valid() != checker.Invalid {
		t.Error("a repeated integer id was not flagged")
	}
}

func TestIncomparableIDsMakeTheVerdictUnknown(t *testing.T) {
	// Jepsen's range fold calls compare, which throws on a string vs a
	// number or on two maps; check-safe then reports {:valid? :unknown}.
	for name, ids := range map[string][]any{
		"string and number": {"a", json.Number("2")},
		"two objects":       {map[string]any{"n": "n0"}, map[string]any{"n": "n1"}},
		"vectors of mixed":  {[]any{json.Number("1")}, []any{"x"}},
	} {
		var h history.History
		for i, id := range ids {
			h = append(h, gen(i, history.OK, id)...)
		}
		h.Reindex()
		if res := Check(h); res.Valid() != checker.Unknown || res["error"] == nil {
			t.Errorf("%s: %v, want unknown with an error", name, res)
		}
	}
	// Comparable mixtures are fine: integers with decimals, a single
	// object, nil among strings, vectors of different lengths.
	for name, ids := range map[string][]any{
		"int and decimal":   {json.Number("3"), json.Number("1.5")},
		"one object":        {map[string]any{"n": "n0"}},
		"nil and strings":   {nil, "a", "b"},
		"vectors by length": {[]any{json.Number("1")}, []any{"x", "y"}},
	} {
		var h history.History
		for i, id := range ids {
			h = append(h, gen(i, history.OK, id)...)
		}
		h.Reindex()
		if res := Check(h); res.Valid() != checker.Valid {
			t.Errorf("%s: %v, want valid", name, res)
		}
	}
}

// Ids are equal as Clojure's = says (history.Key, tested there): two
// spellings of one value are a duplicate, an integer and a decimal not.
func TestIDEqualityIsClojures(t *testing.T) {
	for _, tc := range []struct {
		a, b any
		same bool
	}{
		{json.Number("1.0"), json.Number("1.00"), true},
		{json.Number("1e2"), json.Number("100.0"), true},
		{json.Number("100"), json.Number("1e2"), false},
		{json.Number("12345678901234567890"), json.Number("12345678901234567890"), true},
		{[]any{json.Number("1")}, []any{json.Number("1.0")}, false},
	} {
		h := history.History(append(gen(0, history.OK, tc.a), gen(1, history.OK, tc.b)...))
		h.Reindex()
		res := Check(h)
		wantDups := 0
		if tc.same {
			wantDups = 1
		}
		if res["duplicated-count"] != wantDups || (res.Valid() == checker.Valid) == tc.same {
			t.Errorf("%v vs %v: %v, want same=%v", tc.a, tc.b, res, tc.same)
		}
	}
}
