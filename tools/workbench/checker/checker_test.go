package checker

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestMergeTakesTheWorst(t *testing.T) {
	cases := []struct {
		in   []Validity
		want Validity
	}{
		{nil, Valid},
		{[]Validity{Valid, Valid}, Valid},
		{[]Validity{Valid, Unknown}, Unknown},
		{[]Validity{Unknown, Invalid, Valid}, Invalid},
	}
	for _, c := range cases {
		if got := Merge(c.in...); got != c.want {
			t.Errorf("Merge(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestValidityEncodings(t *testing.T) {
	for v, want := range map[Validity]string{Valid: "true", Invalid: "false", Unknown: `"unknown"`} {
		b, err := json.Marshal(v)
		if err != nil || string(b) != want {
			t.Errorf("json(%v) = %s, %v; want %s", v, b, err, want)
		}
	}
	if b, _ := Unknown.MarshalEDN(); string(b) != ":unknown" {
		t.Errorf("edn(Unknown) = %s", b)
	}
	if (Result{}).Valid() != Unknown {
		t.Error("a result without valid? should be Unknown")
	}
}

func TestQuantilesMatchJepsen(t *testing.T) {
	xs := []int64{10, 0, 30, 20, 40, 50, 60, 70, 80, 90}
	q := Quantiles(xs)
	want := map[float64]any{0: int64(0), 0.5: int64(50), 0.95: int64(90), 0.99: int64(90), 1: int64(90)}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("quantiles = %v, want %v", q, want)
	}
	one := Quantiles([]int64{7})
	if one[0] != int64(7) || one[1] != int64(7) {
		t.Errorf("single = %v", one)
	}
	if Quantiles[int64](nil) != nil {
		t.Error("empty quantiles not nil")
	}
}

func TestQuantileOfSortedValues(t *testing.T) {
	s := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for q, want := range map[float64]float64{0: 1, 0.5: 6, 0.95: 10, 0.99: 10, 1: 10} {
		if got := Quantile(s, q); got != want {
			t.Errorf("Quantile(%g) = %g, want %g", q, got, want)
		}
	}
}

func TestLookupWalksEveryShapeOfResults(t *testing.T) {
	res := Result{
		"net":      map[string]any{"servers": map[string]any{"msgs-per-op": 2.5}},
		"workload": Result{"stable-latencies": map[float64]any{0.5: int64(7), 1: int64(9)}},
		"json":     map[string]any{"quantiles": map[string]any{"1.0": 3}},
	}
	for _, c := range []struct {
		path []string
		want any
	}{
		{[]string{"net", "servers", "msgs-per-op"}, 2.5},
		{[]string{"workload", "stable-latencies", "0.5"}, int64(7)},
		{[]string{"workload", "stable-latencies", "1"}, int64(9)},
		{[]string{"json", "quantiles", "1"}, 3}, // numerically equal key
	} {
		if got, ok := Lookup(res, c.path...); !ok || got != c.want {
			t.Errorf("Lookup %v = %v, %v; want %v", c.path, got, ok, c.want)
		}
	}
	for _, path := range [][]string{{"nope"}, {"net", "servers", "msgs-per-op", "deeper"}, {"workload", "stable-latencies", "x"}, {"json", "quantiles", "2"}} {
		if got, ok := Lookup(res, path...); ok {
			t.Errorf("Lookup %v = %v, want not found", path, got)
		}
	}
}

func TestCompactJSONIsOneLineOfJSONCut(t *testing.T) {
	if got := CompactJSON(map[string]any{"type": "init_ok", "in_reply_to": 1}, 300); got != `{"in_reply_to":1,"type":"init_ok"}` {
		t.Errorf("CompactJSON = %s", got)
	}
	if got := CompactJSON([]any{"G0", "G1a"}, 6); got != `["G0",…` {
		t.Errorf("cut CompactJSON = %s", got)
	}
	if got := CompactJSON(map[string]any{"f": func() {}}, 300); got == "" {
		t.Error("an unencodable value printed nothing")
	}
}
