package runner

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/client"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/network"
	"github.com/glomers/glomers/tools/workbench/workload"
)

func TestScheduleIsOneSharedStagger(t *testing.T) {
	s := &schedule{rng: rand.New(rand.NewPCG(1, 1)), maxGap: 2.0 / 100} // rate 100
	t0 := time.Unix(0, 0)
	first := s.slot(t0)
	if !first.Equal(t0) {
		t.Errorf("first op at %v, want at once", first)
	}
	// Many idle threads asking at the same instant get successive slots.
	prev := first
	var total time.Duration
	for i := 0; i < 1000; i++ {
		at := s.slot(t0)
		gap := at.Sub(prev)
		if gap < 0 || gap >= 20*time.Millisecond {
			t.Fatalf("gap %v outside [0, 20ms)", gap)
		}
		total += gap
		prev = at
	}
	if mean := total / 1000; mean < 9*time.Millisecond || mean > 11*time.Millisecond {
		t.Errorf("mean gap %v, want ≈10ms for rate 100", mean)
	}
	// A thread that comes late is not given a burst of catch-up slots.
	late := prev.Add(time.Second)
	if at := s.slot(late); !at.Equal(late) {
		t.Errorf("late slot at %v, want now (%v)", at, late)
	}
}

func TestSameSeedSameSchedule(t *testing.T) {
	a := &schedule{rng: Rand(42, randSchedule), maxGap: 0.1}
	b := &schedule{rng: Rand(42, randSchedule), maxGap: 0.1}
	c := &schedule{rng: Rand(43, randSchedule), maxGap: 0.1}
	t0 := time.Unix(0, 0)
	differs := false
	for i := 0; i < 50; i++ {
		x, y, z := a.slot(t0), b.slot(t0), c.slot(t0)
		if !x.Equal(y) {
			t.Fatalf("slot %d differs for the same seed", i)
		}
		differs = differs || !x.Equal(z)
	}
	if !differs {
		t.Error("different seeds gave the same schedule")
	}
	if Rand(42, randGenerator).Uint64() == Rand(42, randSchedule).Uint64() {
		t.Error("purposes share one stream")
	}
}

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
	res := Analyze(&workloadStub, workloadOpts, history.History{op(0, history.Invoke, "g"), op(0, history.OK, "g")}, nil, nil)
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

func TestRetiredClientIsReplacedAtTheNextInvocation(t *testing.T) {
	net := network.New(network.Config{})
	pool := client.NewPool(net, 0)
	wl := &workload.Workload{NewClient: func(workload.Conn, string, workload.Options) workload.Client { return nil }}
	w := &worker{thread: 1, process: 1, node: "n0", conn: pool.Open()}
	old := w.conn.ID()
	w.retire(3, false)
	if w.process != 4 {
		t.Errorf("process %d after retiring 1 with concurrency 3, want 4", w.process)
	}
	// Until the thread's next op the old client stays registered, so a
	// late reply from a node is not a send to an unknown member.
	if !slices.Contains(net.Members(), old) {
		t.Fatalf("client %s closed at once; Jepsen closes it at the next invocation", old)
	}
	w.refresh(pool, wl, workload.Options{})
	if slices.Contains(net.Members(), old) || w.conn.ID() == old || !slices.Contains(net.Members(), w.conn.ID()) {
		t.Errorf("after refresh members %v, conn %s; want %s gone and the new client registered", net.Members(), w.conn.ID(), old)
	}
	kept := w.conn.ID()
	w.retire(3, true) // reusable: same client
	w.refresh(pool, wl, workload.Options{})
	if w.conn.ID() != kept {
		t.Errorf("reusable client replaced: %s → %s", kept, w.conn.ID())
	}
}
