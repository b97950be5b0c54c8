package kafka

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/workload"
)

func TestGeneratorMix(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	opts := workload.Options{Concurrency: 4}
	g := Workload.NewGenerator(opts, rng)
	counts := map[string]int{}
	nextValue := map[string]int{}
	const n = 20000
	for i := 0; i < n; i++ {
		// 1000 ops/s: 20 s of simulated time, so about 20/7.5 crashes.
		ctx := workload.GenContext{Thread: i % 4, Time: time.Duration(i) * time.Millisecond, Rand: rng}
		op, st := g.Next(ctx)
		if st != workload.Ready {
			t.Fatal("main generator not ready")
		}
		counts[op.F]++
		if op.F == "send" {
			mop := op.Value.([]any)[0].([]any)
			k, v := mop[1].(string), mop[2].(int)
			if v != nextValue[k]+1 || v > defaultMaxWritesPerKey {
				t.Fatalf("key %s got value %d after %d", k, v, nextValue[k])
			}
			nextValue[k] = v
		}
	}
	if counts["send"] < n*45/100 || counts["poll"] < n*45/100 {
		t.Errorf("send/poll mix off: %v", counts)
	}
	if counts["assign"] < n/64/2 || counts["assign"] > n/64*2 {
		t.Errorf("assigns = %d, want about %d", counts["assign"], n/64)
	}
	if counts["crash"] < 1 || counts["crash"] > 8 {
		t.Errorf("crashes = %d in 20 s with concurrency 4, want about 3", counts["crash"])
	}
	if len(nextValue) <= defaultKeyCount {
		t.Errorf("only %d keys used; full keys should be replaced by fresh ones", len(nextValue))
	}
}

func TestFinalGeneratorPollsUntilCaughtUp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	g := Workload.NewGenerator(workload.Options{Concurrency: 1}, rng).(*generator)
	g.Update(workload.GenContext{}, history.Op{}, history.Op{Type: history.OK, F: "send",
		Value: []any{[]any{"send", "3", []any{4, 1}}}})
	fg := Workload.NewFinalGenerator(workload.Options{}, rng, g)
	ctx := workload.GenContext{Thread: 0, Rand: rng, Time: time.Second}
	op, _ := fg.Next(ctx)
	if op.F != "crash" {
		t.Fatalf("first final op %v", op)
	}
	op, _ = fg.Next(ctx)
	if op.F != "assign" || len(op.Value.([]any)) != 1 || op.Value.([]any)[0] != "3" {
		t.Fatalf("second final op %v", op)
	}
	ctx.Time += finalPollGap
	op, st := fg.Next(ctx)
	if st != workload.Ready || op.F != "poll" {
		t.Fatalf("third final op %v %v", op, st)
	}
	fg.Update(ctx, op, history.Op{Type: history.OK, F: "poll", Value: []any{[]any{"poll", map[string]any{"3": []any{[]any{3, 9}}}}}})
	ctx.Time += finalPollGap
	if _, st := fg.Next(ctx); st != workload.Ready {
		t.Fatal("stopped polling before reaching offset 4")
	}
	fg.Update(ctx, op, history.Op{Type: history.OK, F: "poll", Value: []any{[]any{"poll", map[string]any{"3": []any{[]any{4, 1}}}}}})
	if _, st := fg.Next(ctx); st != workload.Exhausted {
		t.Fatal("still polling after reaching the target")
	}
	// Another thread starts from scratch, and everything stops after 10 s.
	ctx.Thread = 1
	if op, _ := fg.Next(ctx); op.F != "crash" {
		t.Fatalf("thread 1 first op %v", op)
	}
	ctx.Time += finalPhaseLimit
	if _, st := fg.Next(ctx); st != workload.Exhausted {
		t.Fatal("final phase not clipped at 10 s")
	}
}
