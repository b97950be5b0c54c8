package analysis

import (
	"strings"
	"testing"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/workload"
)

func op(p int, typ history.Type, f string) history.Op {
	return history.Op{Process: p, Type: typ, F: f}
}

func TestStatsNeedAnOKPerF(t *testing.T) {
	h := history.History{
		op(0, history.Invoke, "read"), op(0, history.OK, "read"),
		op(1, history.Invoke, "add"), op(1, history.Info, "add"),
		op(2, history.Invoke, "crash"), op(2, history.Info, "crash"),
		{Process: history.NemesisProcess, Type: history.Info, F: "start-partition"},
	}
	res := Stats(h, map[string]bool{"crash": true})
	if res.Valid() != checker.Invalid || !strings.Contains(res["first-error"].(string), "no add operation succeeded") {
		t.Errorf("stats = %v, want invalid because add never succeeded", res)
	}
	if res["count"] != 3 || res["ok-count"] != 1 || res["info-count"] != 2 {
		t.Errorf("counts %v", res)
	}
	byF := res["by-f"].(map[string]any)
	if _, ok := byF["start-partition"]; ok {
		t.Error("nemesis ops counted in stats")
	}
	ok := Stats(history.History{op(0, history.Invoke, "read"), op(0, history.OK, "read"), op(2, history.Invoke, "crash"), op(2, history.Info, "crash")}, map[string]bool{"crash": true})
	if ok.Valid() != checker.Valid {
		t.Errorf("exempt f without ok made stats invalid: %v", ok)
	}
	if Stats(nil, nil).Valid() != checker.Valid {
		t.Error("empty history should have valid stats (nothing to judge)")
	}
}

func TestAvailability(t *testing.T) {
	h := history.History{
		op(0, history.Invoke, "g"), op(0, history.OK, "g"),
		op(1, history.Invoke, "g"), op(1, history.OK, "g"),
		op(2, history.Invoke, "g"), op(2, history.OK, "g"),
		op(3, history.Invoke, "g"), op(3, history.Fail, "g"),
	}
	for want, v := range map[string]checker.Validity{"": checker.Valid, "total": checker.Invalid, "0.75": checker.Valid, "0.8": checker.Invalid} {
		res := Availability(h, want)
		if res.Valid() != v || res["ok-fraction"] != 0.75 {
			t.Errorf("--availability %q: %v, want %v with ok-fraction 0.75", want, res, v)
		}
	}
	if Availability(nil, "total")["ok-fraction"] != 1.0 {
		t.Error("no ops should give ok-fraction 1")
	}
}

func TestAnalyzeMergesVerdicts(t *testing.T) {
	res := Analyze(&workloadStub, workloadOpts, history.History{op(0, history.Invoke, "g"), op(0, history.OK, "g")}, nil)
	if res.Valid() != checker.Unknown {
		t.Errorf("unknown workload verdict merged to %v", res.Valid())
	}
	for _, k := range []string{"perf", "timeline", "exceptions", "stats", "availability", "net", "workload"} {
		if _, ok := res[k]; !ok {
			t.Errorf("results lack :%s", k)
		}
	}
	if lines := FirstErrors(res); len(lines) != 1 || !strings.HasPrefix(lines[0], ":workload is unknown") {
		t.Errorf("first errors %q", lines)
	}
}

var workloadOpts = workload.Options{Nodes: []string{"n0"}}

var workloadStub = workload.Workload{
	Name: "stub",
	Check: func(history.History, workload.Options) checker.Result {
		return checker.Result{"valid?": checker.Unknown}
	},
}

func TestAvailabilityComparesASinglePrecisionFraction(t *testing.T) {
	var h history.History
	for i := 0; i < 10; i++ {
		typ := history.OK
		if i == 0 {
			typ = history.Info
		}
		h = append(h, op(i, history.Invoke, "g"), op(i, typ, "g"))
	}
	// (float 9/10) is 0.89999998f, below the double 0.9 in Maelstrom.
	if v := Availability(h, "0.9").Valid(); v != checker.Invalid {
		t.Errorf("9 of 10 ok with --availability 0.9: %v, want invalid as in Maelstrom", v)
	}
	if v := Availability(h, "0.89").Valid(); v != checker.Valid {
		t.Errorf("9 of 10 ok with --availability 0.89: %v, want valid", v)
	}
}

func TestPerfReportsOKLatencyQuantilesPerF(t *testing.T) {
	ms := int64(1e6)
	at := func(p int, typ history.Type, f string, t int64) history.Op {
		return history.Op{Process: p, Type: typ, F: f, Time: t * ms}
	}
	h := history.History{
		at(0, history.Invoke, "read", 0), at(0, history.OK, "read", 2),
		at(1, history.Invoke, "broadcast", 1), at(1, history.OK, "broadcast", 51),
		at(0, history.Invoke, "read", 10), at(0, history.OK, "read", 14),
		at(1, history.Invoke, "broadcast", 60), at(1, history.Info, "broadcast", 1060), // not ok: left out
	}
	lat, ok := Perf(h)["latencies"].(map[string]any)
	if !ok {
		t.Fatalf("perf has no latencies: %v", Perf(h))
	}
	read := lat["read"].(map[float64]any)
	if read[0] != 2.0 || read[0.5] != 4.0 || read[1] != 4.0 {
		t.Errorf("read latencies %v, want min 2, median 4, max 4 ms", read)
	}
	bc := lat["broadcast"].(map[float64]any)
	if bc[1] != 50.0 {
		t.Errorf("broadcast latencies %v: only the ok op (50 ms) counts", bc)
	}
	if Perf(nil).Valid() != checker.Valid {
		t.Error(":perf must always be valid")
	}
}
