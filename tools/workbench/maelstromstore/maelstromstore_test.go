package maelstromstore

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/glomers/glomers/tools/workbench/edn"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/workload/broadcast"
)

// The workbench's broadcast checker, run on the history Maelstrom
// recorded, must reproduce Maelstrom's own verdict and stable latencies.
func TestBroadcastCheckerAgreesWithMaelstromOnItsOwnHistory(t *testing.T) {
	for _, dir := range []string{"testdata/3d-latency-eager-1", "testdata/3b-latency-eager-1"} {
		t.Run(dir, func(t *testing.T) {
			res, err := LoadResults(dir)
			if err != nil {
				t.Fatal(err)
			}
			h, err := LoadHistory(dir)
			if err != nil {
				t.Fatal(err)
			}
			ours := map[string]any(broadcast.Check(h))
			theirs := res["workload"].(map[string]any)
			for _, k := range []string{"valid?", "attempt-count", "stable-count", "lost-count", "stale-count"} {
				if fmtNum(ours[k]) != fmtNum(theirs[k]) && !(k == "valid?" && fmt.Sprint(ours[k]) == fmt.Sprint(theirs[k])) {
					t.Errorf(":%s ours %v, Maelstrom's %v", k, ours[k], theirs[k])
				}
			}
			for _, q := range []string{"0", "0.5", "0.95", "0.99", "1"} {
				o, th := dig(ours, "stable-latencies", q), dig(theirs, "stable-latencies", q)
				if o == nil || fmtNum(o) != fmtNum(th) {
					t.Errorf("stable-latencies %s: ours %v, Maelstrom's %v", q, o, th)
				}
			}
		})
	}
}

func fmtNum(v any) string {
	if f, ok := history.Float(v); ok {
		return jsonNum(f)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func jsonNum(f float64) string { b, _ := json.Marshal(f); return string(b) }

func TestFiguresOfTheReferenceRuns(t *testing.T) {
	dir := "testdata/3d-latency-eager-1"
	res, err := LoadResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	h, err := LoadHistory(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := FiguresOf(res, broadcast.Check(h), h)
	if err != nil {
		t.Fatal(err)
	}
	// The folder's README: 2.89 msgs/op, broadcast ok p50 55 ms, stable
	// p50 189 ms, invocation → last read missing it p50 255 ms.
	if f.Valid != "true" || f.ServersMsgsPerOp != 2.8939395 || f.StableP50 != 189 || f.DisseminationP50 != 255 {
		t.Errorf("figures %+v", f)
	}
	if p := f.OpP50["broadcast"]; p < 54 || p > 56 {
		t.Errorf("broadcast ok p50 %.1f ms, want ≈55", p)
	}
}

func TestLoadHistoryRejectsBrokenEntries(t *testing.T) {
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
