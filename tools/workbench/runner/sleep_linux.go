package runner

import (
	"context"
	"syscall"
	"time"
)

// preciseSleepUntil sleeps until t with the kernel's precision, as the
// JVM's parkNanos does for Jepsen's interpreter, and not the runtime
// timer's: a Go timer under a few milliseconds wakes ~1 ms late on Linux,
// and Jepsen's stagger draws each op's time from the moment the previous
// one was dispatched, so that lateness stretched every gap (19,393 ops in
// 30 s at --rate 1000 against Maelstrom's 25,464). nanosleep wakes within
// the timer slack (~50 µs, more under load), and costs no spinning. It
// blocks its thread in the kernel, holding the runtime's P until the
// scheduler hands that on, so a longer wait sleeps on a Go timer until
// the last couple of milliseconds (at --rate 100 most of a 10 ms gap).
func preciseSleepUntil(ctx context.Context, t time.Time) bool {
	const (
		// coarseMargin is left to nanosleep after a timer wait, more
		// than the timer's own lateness.
		coarseMargin = 2 * time.Millisecond
		maxSlice     = coarseMargin // ctx is checked at least this often
	)
	for {
		if ctx.Err() != nil {
			return false
		}
		d := time.Until(t)
		if d <= 0 {
			return true
		}
		if d > 2*coarseMargin {
			if !sleepUntil(ctx, t.Add(-coarseMargin)) {
				return false
			}
			continue
		}
		ts := syscall.NsecToTimespec(int64(min(d, maxSlice)))
		// EINTR (a signal) only ends the slice early; the loop sleeps
		// the rest.
		syscall.Nanosleep(&ts, nil)
	}
}
