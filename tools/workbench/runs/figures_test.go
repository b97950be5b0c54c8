package runs

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/glomers/glomers/tools/workbench/store"
	"github.com/glomers/glomers/tools/workbench/store/storetest"
)

// TestLatenciesFromAMaelstromHistory checks the fallback computations
// against figures computed independently from the same history.edn (a
// short script, Jepsen's quantile: element ⌊n·q⌋ of n sorted values): 93
// ok broadcasts, p50/p99/max 3.75/22.49/22.49 ms (with n < 100, p99 is
// the max); invocation → last read missing the value p50/p95/max
// 0/68.6/92.9 ms; stable p50/max 0/88 from results.edn.
func TestLatenciesFromAMaelstromHistory(t *testing.T) {
	r, err := store.Load(filepath.Join(storetest.Copy(t, "../store/testdata/maelstrom-store"), "broadcast/20261202T032146.864+0000"))
	if err != nil {
		t.Fatal(err)
	}
	lat := Latencies(r.Results, r.History)
	near := func(name string, q, want float64) {
		t.Helper()
		if got, ok := lat[name][q]; !ok || math.Abs(got-want) > 1 {
			t.Errorf("%s q%g = %v (present %v), want %v±1", name, q, got, ok, want)
		}
	}
	near("latency broadcast", 0.5, 4)
	near("latency broadcast", 0.99, 22.5)
	near("latency broadcast", 1, 22)
	near("dissemination", 0.5, 0)
	near("dissemination", 0.95, 68.6)
	near("dissemination", 1, 92)
	near("stable", 0.5, 0)
	near("stable", 1, 88)
}

func TestResultsKeysWinOverTheHistory(t *testing.T) {
	res := map[string]any{"perf": map[string]any{"latencies": map[string]any{"read": map[string]any{"0.5": 7.0, "1": 9.0}}}}
	lat := Latencies(res, nil)
	if lat["latency read"][0.5] != 7 || lat["latency read"][1] != 9 || len(lat) != 1 {
		t.Errorf("latencies from results: %v", lat)
	}
}

func TestCompareMarksBetterAndWorse(t *testing.T) {
	a := []Figure{{"msgs/op (servers)", 20, -1}, {"ok fraction", 0.9, +1}, {"only a", 1, -1}, {"ops", 10, 0}}
	b := []Figure{{"msgs/op (servers)", 15, -1}, {"ok fraction", 0.8, +1}, {"only b", 2, -1}, {"ops", 20, 0}}
	rows := Compare(a, b)
	if len(rows) != 5 {
		t.Fatalf("%d rows: %+v", len(rows), rows)
	}
	if r := rows[0]; r.Diff != -5 || r.Pct != -25 || !r.Better || r.Worse {
		t.Errorf("msgs/op: %+v", r)
	}
	if r := rows[1]; !r.Worse || r.Better {
		t.Errorf("ok fraction: %+v", r)
	}
	if r := rows[3]; r.Diff != 10 || r.Better || r.Worse {
		t.Errorf("ops is neither better nor worse: %+v", r)
	}
	if rows[2].HasB || !rows[4].HasB || rows[4].HasA {
		t.Errorf("one-sided rows: %+v", rows)
	}
}
