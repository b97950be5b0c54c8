package runner

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/client"
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
