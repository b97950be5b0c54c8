package linkv

import (
	"math/rand/v2"
	"testing"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// op builds an invocation or completion at time t (ns).
func op(typ history.Type, proc int, f string, value any, t int64) history.Op {
	return history.Op{Type: typ, Process: proc, F: f, Value: value, Time: t}
}

func TestCheckLinearizableAndNot(t *testing.T) {
	ok := history.History{
		op(history.Invoke, 0, "write", []any{0, 3}, 0),
		op(history.OK, 0, "write", []any{0, 3}, 10),
		op(history.Invoke, 1, "cas", []any{0, []any{3, 4}}, 20),
		op(history.Invoke, 2, "read", []any{0, nil}, 21),
		op(history.OK, 2, "read", []any{0, 3}, 25), // before the CAS takes effect
		op(history.OK, 1, "cas", []any{0, []any{3, 4}}, 30),
		op(history.Invoke, 2, "read", []any{0, nil}, 40),
		op(history.OK, 2, "read", []any{0, 4}, 50),
		// An info write may or may not happen; a later read of the old
		// value is fine.
		op(history.Invoke, 0, "write", []any{0, 1}, 60),
		op(history.Info, 0, "write", []any{0, 1}, 70),
		op(history.Invoke, 2, "read", []any{0, nil}, 80),
		op(history.OK, 2, "read", []any{0, 4}, 90),
		// A failed CAS leaves no trace.
		op(history.Invoke, 1, "cas", []any{0, []any{0, 2}}, 100),
		op(history.Fail, 1, "cas", []any{0, []any{0, 2}}, 110),
		// Key 1 starts null.
		op(history.Invoke, 3, "read", []any{1, nil}, 120),
		op(history.OK, 3, "read", []any{1, nil}, 130),
	}
	if res := Check(ok); res.Valid() != checker.Valid {
		t.Errorf("linearizable history judged %v: %v", res.Valid(), res)
	}

	stale := history.History{
		op(history.Invoke, 0, "write", []any{0, 3}, 0),
		op(history.OK, 0, "write", []any{0, 3}, 10),
		op(history.Invoke, 0, "write", []any{0, 4}, 20),
		op(history.OK, 0, "write", []any{0, 4}, 30),
		op(history.Invoke, 1, "read", []any{0, nil}, 40),
		op(history.OK, 1, "read", []any{0, 3}, 50), // stale: 4 was acknowledged before
		op(history.Invoke, 1, "read", []any{1, nil}, 60),
		op(history.OK, 1, "read", []any{1, nil}, 70),
	}
	res := Check(stale)
	if res.Valid() != checker.Invalid {
		t.Fatalf("stale read judged %v", res.Valid())
	}
	if f := res["failures"].([]any); len(f) != 1 || f[0] != 0 {
		t.Errorf("failures = %v, want [0]", f)
	}
	if res["first-error"] == nil {
		t.Error("no first-error")
	}
	if r := res["results"].(map[int64]any)[1].(map[string]any); r["valid?"] != checker.Valid {
		t.Errorf("key 1 = %v", r)
	}

	// A CAS acknowledged ok whose from never held is illegal.
	badCAS := history.History{
		op(history.Invoke, 0, "cas", []any{0, []any{2, 3}}, 0),
		op(history.OK, 0, "cas", []any{0, []any{2, 3}}, 10),
	}
	if res := Check(badCAS); res.Valid() != checker.Invalid {
		t.Errorf("CAS from a value never written judged %v", res.Valid())
	}
}

func TestValidateConcurrency(t *testing.T) {
	nodes := []string{"n0", "n1"}
	if err := Workload.Validate(workload.Options{Nodes: nodes, Concurrency: 4}); err != nil {
		t.Errorf("2n rejected: %v", err)
	}
	if err := Workload.Validate(workload.Options{Nodes: nodes, Concurrency: 2}); err == nil {
		t.Error("1n accepted")
	}
}

func TestGeneratorGroupsAndKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	g := Workload.NewGenerator(workload.Options{Nodes: []string{"n0"}, Concurrency: 4}, rng)
	keysByGroup := map[int]map[int64]int{}
	for i := 0; i < 2000; i++ {
		thread := i % 4
		o, st := g.Next(workload.GenContext{Thread: thread, Rand: rng})
		if st != workload.Ready {
			t.Fatal("not ready")
		}
		kv := o.Value.([]any)
		k, _ := history.Int(kv[0])
		if (thread%2 == 0) != (o.F == "read") {
			t.Fatalf("thread %d got %s; the first half of each group reads", thread, o.F)
		}
		grp := thread / 2
		if keysByGroup[grp] == nil {
			keysByGroup[grp] = map[int64]int{}
		}
		keysByGroup[grp][k]++
	}
	seen := map[int64]bool{}
	for grp, ks := range keysByGroup {
		for k, n := range ks {
			if seen[k] {
				t.Errorf("key %d used by two groups", k)
			}
			seen[k] = true
			if n > perKeyLimit {
				t.Errorf("group %d: key %d got %d ops", grp, k, n)
			}
		}
	}
	if len(seen) < 2000/perKeyLimit {
		t.Errorf("only %d keys over 2000 ops", len(seen))
	}
}
