package edn

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestReadMaelstromShapes(t *testing.T) {
	in := `{:valid? true, :count 49 ; a comment
	 :latencies {0.5 12, 1 40}, :errors (), :set #{1 2}, "s" "a\"b\n",
	 :op #jepsen.history.Op{:index 3, :type :ok, :value [1 -2 3.5 nil]}, :big 12N, :f :add}`
	got, err := Read([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"valid?": true, "count": json.Number("49"),
		"latencies": map[string]any{"0.5": json.Number("12"), "1": json.Number("40")},
		"errors":    []any{}, "set": []any{json.Number("1"), json.Number("2")}, "s": "a\"b\n",
		"op":  map[string]any{"index": json.Number("3"), "type": "ok", "value": []any{json.Number("1"), json.Number("-2"), json.Number("3.5"), nil}},
		"big": json.Number("12"), "f": "add",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
}

func TestReadRejectsBrokenInput(t *testing.T) {
	for _, in := range []string{"{:a}", "[1 2", `"abc`, "}", "{:a 1} x", "", "#", strings.Repeat("[", 2*readDepthLimit)} {
		if _, err := Read([]byte(in)); err == nil {
			t.Errorf("%.20q: no error", in)
		}
	}
}
