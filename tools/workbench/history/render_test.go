package history

import (
	"reflect"
	"testing"

	"github.com/glomers/glomers/tools/workbench/edn"
)

func TestRenderQuotesAnOpAsJepsenDoes(t *testing.T) {
	plain := Op{Index: 4, Type: OK, Process: 2, F: "read", Value: []any{1, 2}, Time: 99}
	want := map[string]any{
		"index": 4, "type": edn.Keyword("ok"), "process": 2, "f": edn.Keyword("read"),
		"value": []any{1, 2}, "time": int64(99),
	}
	if got := plain.Render(); !reflect.DeepEqual(got, want) {
		t.Errorf("Render() = %#v, want %#v", got, want)
	}

	// :final? and :error appear only on ops that have them.
	failed := Op{Index: 5, Type: Info, Process: 1, F: "poll", Time: 7, Final: true, Error: "net-timeout"}
	got := failed.Render()
	if got["final?"] != true || got["error"] != "net-timeout" {
		t.Errorf("Render() of a final failed op = %#v, want final? true and its error", got)
	}
	if _, ok := plain.Render()["final?"]; ok {
		t.Error("Render() of a non-final op has final?")
	}
	if _, ok := plain.Render()["error"]; ok {
		t.Error("Render() of an op without error has error")
	}
	// The EDN writer must be able to print what Render returns.
	if _, err := edn.Marshal(got); err != nil {
		t.Errorf("edn.Marshal(Render()) = %v", err)
	}
}
