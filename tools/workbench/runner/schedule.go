package runner

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// The main phase's rate limit: one schedule shared by every worker thread, as
// Jepsen's stagger is shared by its interpreter.

// schedule is Jepsen's stagger as its interpreter drives it: one op
// waits for its time at once; when the interpreter wakes it dispatches the
// op at the time it woke and only then draws the next op's time, that
// time plus a gap uniform in [0, 2/rate). Lateness in waking therefore
// stretches every gap (Maelstrom's JVM interpreter reaches about 94.5 of
// 100 ops/s this way on a 2-core machine), and a thread that comes late
// gets no burst of catch-up ops. Jepsen's lateness is the JVM's
// (parkNanos, then the interpreter's own work); the workbench sleeps
// with the kernel's precision too (preciseSleepUntil), not the Go
// runtime timer's millisecond.
type schedule struct {
	rng    *rand.Rand
	maxGap float64 // seconds
	// now and sleepUntil are the clock; nil means the real one.
	now        func() time.Time
	sleepUntil func(context.Context, time.Time) bool

	turn    sync.Mutex // held by the op waiting for its time
	next    time.Time
	started bool
}

// dispatch waits for the calling op's turn and time and returns the time
// it is dispatched at; false if ctx ends first or that time is not before
// deadline (Jepsen's time limit).
func (s *schedule) dispatch(ctx context.Context, deadline time.Time) (time.Time, bool) {
	now, sleep := s.now, s.sleepUntil
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = preciseSleepUntil
	}
	s.turn.Lock()
	defer s.turn.Unlock()
	t := now()
	if !s.started {
		s.next, s.started = t, true
	}
	if t.Before(s.next) {
		if !s.next.Before(deadline) || !sleep(ctx, s.next) {
			return time.Time{}, false
		}
		t = now()
	}
	if !t.Before(deadline) {
		return time.Time{}, false
	}
	s.next = t.Add(time.Duration(s.rng.Float64() * s.maxGap * float64(time.Second)))
	return t, true
}
