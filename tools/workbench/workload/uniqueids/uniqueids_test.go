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

func TestMixedIDsHaveNoRange(t *testing.T) {
	var h history.History
	h = append(h, gen(0, history.OK, "a")...)
	h = append(h, gen(1, history.OK, json.Number("2"))...)
	h.Reindex()
	if res := Check(h); res["range"] != nil || res.Valid() != checker.Valid {
		t.Errorf("mixed ids: %v", res)
	}
}
