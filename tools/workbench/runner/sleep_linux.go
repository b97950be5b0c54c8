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
// the timer slack (~50 µs, more under load), and costs no spinning. ctx
// is checked between slices of at most maxSlice, so a run's end still
// interrupts a long wait promptly.
func preciseSleepUntil(ctx context.Context, t time.Time) bool {
	const maxSlice = 5 * time.Millisecond
	for {
		if ctx.Err() != nil {
			return false
		}
		d := time.Until(t)
		if d <= 0 {
			return true
		}
		ts := syscall.NsecToTimespec(int64(min(d, maxSlice)))
		// EINTR (a signal) only ends the slice early; the loop sleeps
		// the rest.
		syscall.Nanosleep(&ts, nil)
	}
}
