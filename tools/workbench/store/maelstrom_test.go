package store

import (
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
