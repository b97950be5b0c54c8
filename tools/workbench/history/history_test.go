package history

import (
	"encoding/json"
	"testing"
)

func TestPairsMatchesCompletionsPerProcess(t *testing.T) {
	h := History{
		{Type: Invoke, Process: 0, F: "read"},
		{Type: Invoke, Process: 1, F: "add", Value: 3},
		{Type: Invoke, Process: NemesisProcess, F: "start-partition"},
		{Type: OK, Process: 1, F: "add", Value: 3},
		{Type: Info, Process: 0, F: "read"},
		{Type: Invoke, Process: 2, F: "read"},
	}
	pairs := h.Pairs()
	if len(pairs) != 3 {
		t.Fatalf("got %d pairs, want 3 (nemesis ops are not client pairs)", len(pairs))
	}
	if pairs[0].Invoke.Process != 0 || pairs[0].Completion == nil || pairs[0].Completion.Type != Info {
		t.Errorf("pair 0 = %+v, want process 0 completed info", pairs[0])
	}
	if pairs[1].Completion == nil || pairs[1].Completion.Type != OK {
		t.Errorf("pair 1 = %+v, want ok", pairs[1])
	}
	if pairs[2].Completion != nil {
		t.Errorf("pair 2 completed with %+v, want nil (never completed)", pairs[2].Completion)
	}
}

func TestNumbersSurviveJSON(t *testing.T) {
	for _, v := range []any{int64(7), 7, 7.0, json.Number("7")} {
		if n, ok := Int(v); !ok || n != 7 {
			t.Errorf("Int(%#v) = %d, %v; want 7, true", v, n, ok)
		}
	}
	if _, ok := Int(7.5); ok {
		t.Error("Int(7.5) succeeded, want failure")
	}
	if _, ok := Int("7"); ok {
		t.Error(`Int("7") succeeded, want failure`)
	}
	if f, ok := Float(json.Number("0.5")); !ok || f != 0.5 {
		t.Errorf("Float(0.5) = %v, %v", f, ok)
	}
}

func TestKeyDistinguishesIntegersFromDecimals(t *testing.T) {
	if Key(json.Number("1")) == Key(json.Number("1.0")) {
		t.Error("1 and 1.0 share a key; Maelstrom treats them as different ids")
	}
	if Key(json.Number("12")) != Key(12) || Key(12) != Key(12.0) {
		t.Error("the integer 12 read three ways should share one key")
	}
	if Key([]any{"n1", 3}) == Key([]any{"n1", 4}) {
		t.Error("different composite values share a key")
	}
}

func TestKeyIsClojureEquality(t *testing.T) {
	same := [][2]any{
		{json.Number("1"), 1},
		{json.Number("-0"), json.Number("0")},
		{json.Number("1.0"), json.Number("1.00")},
		{json.Number("1e2"), json.Number("100.0")},
		{json.Number("-0.0"), json.Number("0.0")},
		{json.Number("12345678901234567890"), json.Number("12345678901234567890")},
		{map[string]any{"a": 1, "b": []any{nil}}, map[string]any{"b": []any{nil}, "a": json.Number("1")}},
		{map[string]any{"a": json.Number("1"), "b": "x"}, map[string]any{"b": "x", "a": json.Number("1")}},
		{[]int{1, 2}, []any{json.Number("1"), json.Number("2")}},
	}
	for _, p := range same {
		if Key(p[0]) != Key(p[1]) {
			t.Errorf("%v and %v should be equal: keys %s and %s", p[0], p[1], Key(p[0]), Key(p[1]))
		}
	}
	differ := [][2]any{
		{json.Number("1"), json.Number("1.0")},
		{json.Number("100"), json.Number("1e2")},
		{json.Number("1"), "1"},
		{nil, false},
		{nil, "null"},
		{[]any{1, 2}, []any{2, 1}},
		{[]any{json.Number("1")}, []any{json.Number("1.0")}},
		{json.Number("12345678901234567890"), json.Number("12345678901234567891")},
	}
	for _, p := range differ {
		if Key(p[0]) == Key(p[1]) {
			t.Errorf("%v and %v should differ: both %s", p[0], p[1], Key(p[0]))
		}
	}
	// The key reads as JSON, so it can go in messages to people.
	for v, want := range map[any]string{"n0-1": `"n0-1"`, json.Number("17"): "17", json.Number("1e2"): "100.0", nil: "null"} {
		if got := Key(v); got != want {
			t.Errorf("Key(%#v) = %s, want %s", v, got, want)
		}
	}
}
