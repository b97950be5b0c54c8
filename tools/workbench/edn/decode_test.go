package edn

import (
	"reflect"
	"strings"
	"testing"
)

func TestDecodeAllReadsMaelstromHistoryAndResults(t *testing.T) {
	in := `{:index 0, :time 158270448, :type :invoke, :process 0, :f :broadcast, :value 0}
{:index 1, :time 1.5, :type :ok, :process :nemesis, :f :read, :value [1 2 3] :final? true}
; a comment
{:perf {:valid? true}, :net {:servers {:msgs-per-op 2.8939395}}, :workload {:stable-latencies {0 0, 0.5 189, 1 295}
 :worst-stale ({:known #jepsen.history.Op{:index 168 :f :add}}) :lost #{} :x "a \"q\" \u00e9" :r 1/4 :big 12345678901234567890 :n nil :c \a :y #_ 7 8}}
`
	vs, err := DecodeAll([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 3 {
		t.Fatalf("got %d values, want 3", len(vs))
	}
	op := vs[0].(map[string]any)
	if op["time"] != int64(158270448) || op["type"] != Keyword("invoke") || op["f"] != Keyword("broadcast") {
		t.Errorf("op = %v", op)
	}
	op1 := vs[1].(map[string]any)
	if op1["process"] != Keyword("nemesis") || !reflect.DeepEqual(op1["value"], []any{int64(1), int64(2), int64(3)}) || op1["final?"] != true || op1["time"] != 1.5 {
		t.Errorf("op = %v", op1)
	}
	res := vs[2].(map[string]any)
	wl := res["workload"].(map[string]any)
	if wl["stable-latencies"].(map[string]any)["0.5"] != int64(189) {
		t.Errorf("quantile keys: %v", wl["stable-latencies"])
	}
	known := wl["worst-stale"].([]any)[0].(map[string]any)["known"].(map[string]any)
	if known["index"] != int64(168) {
		t.Errorf("tagged literal: %v", known)
	}
	if wl["x"] != `a "q" é` || wl["r"] != 0.25 || wl["big"] != 12345678901234567890.0 || wl["n"] != nil || wl["c"] != "a" || wl["y"] != int64(8) {
		t.Errorf("scalars: %v", wl)
	}
	if got := res["net"].(map[string]any)["servers"].(map[string]any)["msgs-per-op"]; got != 2.8939395 {
		t.Errorf("msgs-per-op = %v", got)
	}
}

func TestDecodeRejectsBrokenInput(t *testing.T) {
	for _, in := range []string{`{:a 1`, `{:a}`, `"open`, `[1 2)`, `)`, `#`, `1/x`, strings.Repeat("[", 5000)} {
		if _, err := DecodeAll([]byte(in)); err == nil || !strings.HasPrefix(err.Error(), "edn: line") {
			t.Errorf("DecodeAll(%q) = %v, want an edn error with a line", in, err)
		}
	}
}

func TestDecodeRoundTripsMarshal(t *testing.T) {
	in := map[string]any{"valid?": true, "count": int64(3), "f": Keyword("read"), "xs": []any{int64(1), "two"}}
	b, err := Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("round trip: %#v, want %#v", out, in)
	}
}
