package node

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// testReady is a protocol's Ready as the Stepper sees it: a NextTick and
// something to deliver.
type testReady struct {
	next time.Time
	msgs []string
}

// fakeTimer records what the Stepper asked of its timer; the test fires
// it by calling f.
type fakeTimer struct {
	d      time.Duration // the latest duration it was set to
	active bool
	resets int
	f      func()
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	was := t.active
	t.d, t.active = d, true
	t.resets++
	return was
}

func (t *fakeTimer) Stop() bool {
	was := t.active
	t.active = false
	return was
}

// stepperRig is a Stepper on a fake clock whose ticks count and whose
// deliveries are recorded.
type stepperRig struct {
	now       time.Time
	timer     *fakeTimer // nil until the Stepper makes its timer
	ticks     int
	tickNext  time.Time // the NextTick each tick returns
	delivered []string
	s         *Stepper[testReady]
}

func newStepperRig(t *testing.T) *stepperRig {
	t.Helper()
	r := &stepperRig{now: time.Unix(1000, 0)}
	tick := func(now time.Time) testReady {
		r.ticks++
		return testReady{next: r.tickNext, msgs: []string{"tick@" + now.Format("05.000")}}
	}
	deliver := func(rd testReady) {
		// Deliver runs outside the lock, so a send never holds it.
		if !r.s.mu.TryLock() {
			t.Error("deliver ran under the Stepper's lock")
		} else {
			r.s.mu.Unlock()
		}
		r.delivered = append(r.delivered, rd.msgs...)
	}
	afterFunc := func(d time.Duration, f func()) stepTimer {
		if r.timer != nil {
			t.Fatalf("a second timer was made; the Stepper should reset its one timer")
		}
		r.timer = &fakeTimer{d: d, active: true, f: f}
		return r.timer
	}
	r.s = newStepper(tick, func(rd testReady) time.Time { return rd.next }, deliver,
		func() time.Time { return r.now }, afterFunc)
	return r
}

// step runs a step whose Ready asks for a tick at next.
func (r *stepperRig) step(next time.Time) {
	r.s.Step(func(time.Time) testReady { return testReady{next: next} })
}

func TestStepperTimerFollowsTheLatestStep(t *testing.T) {
	r := newStepperRig(t)
	r.step(time.Time{})
	if r.timer != nil {
		t.Fatalf("a step with no NextTick made a timer (%v)", r.timer.d)
	}
	r.step(r.now.Add(3 * time.Second))
	if r.timer == nil || !r.timer.active || r.timer.d != 3*time.Second {
		t.Fatalf("after a step due in 3s the timer is %+v, want active at 3s", r.timer)
	}
	// A later step's NextTick wins whether it is sooner or later.
	r.now = r.now.Add(time.Second)
	r.step(r.now.Add(500 * time.Millisecond))
	if !r.timer.active || r.timer.d != 500*time.Millisecond {
		t.Fatalf("after a step due in 0.5s the timer is at %v (active %v), want 0.5s", r.timer.d, r.timer.active)
	}
	r.step(r.now.Add(5 * time.Second))
	if !r.timer.active || r.timer.d != 5*time.Second {
		t.Fatalf("after a step due in 5s the timer is at %v (active %v), want 5s", r.timer.d, r.timer.active)
	}
}

func TestStepperZeroNextTickStopsTheTimer(t *testing.T) {
	r := newStepperRig(t)
	r.step(r.now.Add(time.Second))
	r.step(time.Time{})
	if r.timer.active {
		t.Fatalf("a step with no NextTick left the timer running (at %v)", r.timer.d)
	}
	r.step(r.now.Add(2 * time.Second))
	if !r.timer.active || r.timer.d != 2*time.Second {
		t.Fatalf("a step due in 2s did not restart the stopped timer: %+v", r.timer)
	}
}

func TestStepperTickStepsAndDelivers(t *testing.T) {
	r := newStepperRig(t)
	r.step(r.now.Add(time.Second))
	r.now = r.now.Add(time.Second)
	r.tickNext = r.now.Add(250 * time.Millisecond)
	r.timer.active = false // it fired
	r.timer.f()
	if r.ticks != 1 {
		t.Fatalf("firing the timer ran Tick %d times, want 1", r.ticks)
	}
	if want := "tick@41.000"; strings.Join(r.delivered, ",") != want {
		t.Fatalf("delivered %q, want the tick's Ready %q", r.delivered, want)
	}
	if !r.timer.active || r.timer.d != 250*time.Millisecond {
		t.Fatalf("the tick's NextTick (250ms) was not scheduled: %+v", r.timer)
	}
	// A tick with nothing more to do stops the timer.
	r.tickNext = time.Time{}
	r.timer.f()
	if r.timer.active {
		t.Fatal("a tick with no NextTick left the timer running")
	}
}

func TestStepperNoTickAfterStop(t *testing.T) {
	r := newStepperRig(t)
	r.step(r.now.Add(time.Second))
	r.s.Stop()
	if r.timer.active {
		t.Fatal("Stop left the timer running")
	}
	// A timer that fired while Stop ran calls back after it: no Tick.
	r.timer.f()
	if r.ticks != 0 || len(r.delivered) != 0 {
		t.Fatalf("after Stop the timer's callback ran %d ticks and delivered %q", r.ticks, r.delivered)
	}
	// Steps still run (the node drains its backlog) but schedule nothing.
	ran := false
	resets := r.timer.resets
	r.s.Step(func(now time.Time) testReady { ran = true; return testReady{next: now.Add(time.Millisecond)} })
	if !ran {
		t.Fatal("a step after Stop did not run")
	}
	if r.timer.active || r.timer.resets != resets {
		t.Fatalf("a step after Stop rescheduled the timer: %+v", r.timer)
	}
}

// TestStepperSerialisesSteps runs steps, ticks and Locked reads from many
// goroutines over a counter with no lock of its own: run with -race, any
// step outside the lock is reported, and lost increments show here.
func TestStepperSerialisesSteps(t *testing.T) {
	count := 0
	s := newStepper(
		func(now time.Time) testReady { count++; return testReady{} },
		func(rd testReady) time.Time { return rd.next },
		func(testReady) {},
		time.Now,
		func(d time.Duration, f func()) stepTimer { return &fakeTimer{d: d, active: true, f: f} },
	)
	const workers, steps = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range steps {
				switch (w + i) % 3 {
				case 0:
					s.Step(func(now time.Time) testReady { count++; return testReady{next: now.Add(time.Hour)} })
				case 1:
					s.fire()
				default:
					s.Locked(func() { count++ })
				}
			}
		}()
	}
	wg.Wait()
	if count != workers*steps {
		t.Fatalf("count is %d after %d serialised increments", count, workers*steps)
	}
}

// TestStepperRealTimerTicksAndStopsAtShutdown is the one test on real
// time: NewStepper's timer calls Tick at NextTick, and the node's end of
// input stops it.
func TestStepperRealTimerTicksAndStopsAtShutdown(t *testing.T) {
	n := New()
	n.Stdin = strings.NewReader("")
	ticked := make(chan struct{}, 1)
	s := NewStepper(n,
		func(time.Time) testReady { return testReady{} },
		func(rd testReady) time.Time { return rd.next },
		func(testReady) { ticked <- struct{}{} },
	)
	s.Step(func(now time.Time) testReady { return testReady{next: now.Add(time.Millisecond)} })
	select {
	case <-ticked:
	case <-time.After(10 * time.Second):
		t.Fatal("the timer never ticked")
	}
	if err := n.Run(); err != nil { // empty input: shuts down at once
		t.Fatal(err)
	}
	s.Locked(func() {
		if !s.stopped {
			t.Error("the Stepper was not stopped when the node's input ended")
		}
	})
}
