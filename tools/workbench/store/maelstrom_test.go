package store

import (
	"fmt"
	"strings"
	"testing"

	"github.com/glomers/glomers/tools/workbench/edn"
	"github.com/glomers/glomers/tools/workbench/history"
)

func TestOpRejectsBrokenEntries(t *testing.T) {
	for _, m := range []map[string]any{
		{"time": int64(1), "type": "invoke", "process": int64(0)}, // :type must be a keyword
		{"type": keyword("ok"), "process": int64(0)},              // no time
		{"time": int64(1), "type": keyword("ok"), "process": keyword("client")},
	} {
		if _, err := Op(m); err == nil {
			t.Errorf("Op(%v) accepted a broken entry", m)
		}
	}
	op, err := Op(map[string]any{"time": int64(5), "type": keyword("info"), "process": keyword("nemesis"), "f": keyword("start-partition"), "value": keyword("majority")})
	if err != nil || op.Process != history.NemesisProcess || op.Value != "majority" || op.F != "start-partition" {
		t.Errorf("nemesis op = %+v, %v", op, err)
	}
}

func keyword(s string) any { return edn.Keyword(s) }

// history.edn is read line by line: a line longer than the reader's
// buffer is read whole, and a last line cut short is left out and
// reported.
func TestReadEDNHistoryLongLinesAndACutTail(t *testing.T) {
	var value strings.Builder
	for i := 0; value.Len() < 3<<20; i++ {
		fmt.Fprintf(&value, "%d ", i)
	}
	long := `{:index 0, :time 1, :type :invoke, :process 0, :f :broadcast, :value "` + value.String() + `"}`
	text := long + "\n" + `{:index 1, :time 2, :type :ok, :process 0, :f :broadcast, :value 1}` + "\n" + `{:index 2, :time 3, :ty`
	h, tail, err := readEDNHistory(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h[0].Value != value.String() || h[1].Type != history.OK {
		t.Fatalf("read %d ops", len(h))
	}
	if !tail.CutShort() || tail.Complete != 2 || tail.CutAt != int64(len(text)-len(`{:index 2, :time 3, :ty`)) {
		t.Errorf("tail %+v", tail)
	}
	if _, _, err := readEDNHistory(strings.NewReader("{:index 0 :time\n" + long + "\n")); err == nil {
		t.Error("a broken line before the end was accepted")
	}
}
