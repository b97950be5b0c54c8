package counter

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/workload"
)

func add(typ history.Type, d int) history.Op {
	return history.Op{Type: typ, F: "add", Value: d, Process: 0}
}

func finalRead(v any) history.Op {
	return history.Op{Type: history.OK, F: "read", Value: v, Final: true, Process: 1}
}

func TestAcceptableGrowsWithUnknownAdds(t *testing.T) {
	h := history.History{
		add(history.OK, 3), add(history.OK, 4),
		add(history.Fail, 100), // definitely did not happen
		add(history.Info, 2), add(history.Info, 5),
	}
	// 7 plus any subset of {2, 5}: 7, 9, 12, 14.
	want := []Interval{{7, 7}, {9, 9}, {12, 12}, {14, 14}}
	if got := Acceptable(h); !reflect.DeepEqual(got, want) {
		t.Errorf("Acceptable = %v, want %v", got, want)
	}
	// Adjacent totals merge into one interval: 0 plus subsets of {1, 1}.
	h = history.History{add(history.Info, 1), add(history.Info, 1)}
	if got := Acceptable(h); !reflect.DeepEqual(got, []Interval{{0, 2}}) {
		t.Errorf("Acceptable = %v, want [{0 2}]", got)
	}
}

func TestCheckJudgesOnlyFinalOKReads(t *testing.T) {
	base := history.History{add(history.OK, 3), add(history.Info, 2)}
	stale := history.Op{Type: history.OK, F: "read", Value: 0, Process: 2} // not final: ignored
	cases := []struct {
		name string
		h    history.History
		want checker.Validity
	}{
		{"full sum", append(base, stale, finalRead(3), finalRead(5)), checker.Valid},
		{"lost update", append(base, finalRead(3), finalRead(4)), checker.Invalid},
		{"failed final read ignored", append(base, history.Op{Type: history.Info, F: "read", Final: true}), checker.Valid},
	}
	for _, c := range cases {
		h := append(history.History(nil), c.h...)
		h.Reindex()
		res := Check(h)
		if res.Valid() != c.want {
			t.Errorf("%s: valid? = %v, want %v (%v)", c.name, res.Valid(), c.want, res)
		}
		if c.want == checker.Invalid && res["first-error"] == nil {
			t.Errorf("%s: no first-error", c.name)
		}
	}
}

func TestGeneratorDeltas(t *testing.T) {
	for _, c := range []struct {
		w      *workload.Workload
		lo, hi int
	}{{GCounter, 0, 4}, {PNCounter, -5, 4}} {
		rng := rand.New(rand.NewPCG(1, 1))
		g := c.w.NewGenerator(workload.Options{}, rng)
		seen := map[int]bool{}
		reads := 0
		for i := 0; i < 2000; i++ {
			op, st := g.Next(workload.GenContext{Rand: rng})
			if st != workload.Ready {
				t.Fatal("main generator not ready")
			}
			if op.F == "read" {
				reads++
				continue
			}
			d := op.Value.(int)
			if d < c.lo || d > c.hi {
				t.Fatalf("%s: delta %d outside [%d,%d]", c.w.Name, d, c.lo, c.hi)
			}
			seen[d] = true
		}
		if len(seen) != c.hi-c.lo+1 || reads < 800 || reads > 1200 {
			t.Errorf("%s: deltas %v, %d reads of 2000", c.w.Name, seen, reads)
		}
	}
	fg := GCounter.NewFinalGenerator(workload.Options{}, nil, nil)
	for thread := 0; thread < 3; thread++ {
		if op, st := fg.Next(workload.GenContext{Thread: thread}); st != workload.Ready || !op.Final || op.F != "read" {
			t.Errorf("thread %d: final op %+v %v", thread, op, st)
		}
		if _, st := fg.Next(workload.GenContext{Thread: thread}); st != workload.Exhausted {
			t.Errorf("thread %d got a second final read", thread)
		}
	}
}
