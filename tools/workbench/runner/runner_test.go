package runner

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/client"
	"github.com/glomers/glomers/tools/workbench/network"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// fakeClock is a clock whose sleeps overshoot by lag, as a woken
// interpreter thread does.
type fakeClock struct {
	t   time.Time
	lag time.Duration
}

func (c *fakeClock) now() time.Time { return c.t }
func (c *fakeClock) sleepUntil(_ context.Context, t time.Time) bool {
	if t.After(c.t) {
		c.t = t.Add(c.lag)
	}
	return true
}

func newSchedule(seed uint64, rate float64, c *fakeClock) *schedule {
	return &schedule{rng: Rand(seed, randSchedule), maxGap: 2 / rate, now: c.now, sleepUntil: c.sleepUntil}
}

func TestScheduleIsOneSharedStagger(t *testing.T) {
	far := time.Unix(1e6, 0)
	for _, lag := range []time.Duration{0, time.Millisecond} {
		c := &fakeClock{t: time.Unix(0, 0), lag: lag}
		s := newSchedule(1, 100, c)
		first, _ := s.dispatch(context.Background(), far)
		if !first.Equal(time.Unix(0, 0)) {
			t.Errorf("first op at %v, want at once", first)
		}
		// Threads asking at once are dispatched one after another.
		prev := first
		var total time.Duration
		for i := 0; i < 2000; i++ {
			at, ok := s.dispatch(context.Background(), far)
			gap := at.Sub(prev)
			if !ok || gap < 0 || gap >= 20*time.Millisecond+lag {
				t.Fatalf("gap %v outside [0, 20ms+lag)", gap)
			}
			total += gap
			prev = at
		}
		// Waking late stretches every gap that was slept: the next op's
		// time is drawn from the dispatch, not from the planned time.
		mean := total / 2000
		if want := 10*time.Millisecond + lag; mean < want-time.Millisecond || mean > want+time.Millisecond {
			t.Errorf("lag %v: mean gap %v, want ≈%v", lag, mean, want)
		}
		// A thread that comes late is not given a burst of catch-up ops.
		c.t = prev.Add(time.Second)
		late := c.t
		if at, _ := s.dispatch(context.Background(), far); !at.Equal(late) {
			t.Errorf("late op at %v, want now (%v)", at, late)
		}
		if at, _ := s.dispatch(context.Background(), far); at.Equal(late) {
			t.Errorf("second late op also at %v: a catch-up burst", at)
		}
	}
}

func TestScheduleStopsAtTheDeadline(t *testing.T) {
	c := &fakeClock{t: time.Unix(0, 0)}
	s := newSchedule(1, 10, c)
	deadline := time.Unix(1, 0)
	n := 0
	for {
		if _, ok := s.dispatch(context.Background(), deadline); !ok {
			break
		}
		n++
		if n > 100 {
			t.Fatal("ops dispatched past the deadline")
		}
	}
	if n < 3 || c.t.After(deadline) {
		t.Errorf("%d ops, clock at %v: want a handful, none past %v", n, c.t, deadline)
	}
}

func TestSameSeedSameSchedule(t *testing.T) {
	times := func(seed uint64) []time.Time {
		c := &fakeClock{t: time.Unix(0, 0)}
		s := newSchedule(seed, 20, c)
		var out []time.Time
		for i := 0; i < 50; i++ {
			at, _ := s.dispatch(context.Background(), time.Unix(1e6, 0))
			out = append(out, at)
		}
		return out
	}
	if !slices.EqualFunc(times(42), times(42), time.Time.Equal) {
		t.Fatal("the same seed gave different schedules")
	}
	if slices.EqualFunc(times(42), times(43), time.Time.Equal) {
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
