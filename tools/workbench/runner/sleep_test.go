package runner

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"
)

// The schedule's sleep must wake near its time: a Go timer under a few
// milliseconds wakes about 1 ms late on Linux, which at --rate 1000 (a
// 1 ms mean gap) cost a quarter of Maelstrom's ops. The median of many
// short sleeps separates the two even on a loaded machine.
func TestPreciseSleepWakesNearItsTime(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("nanosleep is used on Linux only")
	}
	for _, d := range []time.Duration{300 * time.Microsecond, 8 * time.Millisecond} {
		t.Run(d.String(), func(t *testing.T) { wakesNear(t, d, 31) })
	}
}

// wakesNear sleeps n times for d and checks the median lateness.
func wakesNear(t *testing.T, d time.Duration, n int) {
	var late []time.Duration
	for range n {
		at := time.Now().Add(d)
		if !preciseSleepUntil(context.Background(), at) {
			t.Fatal("sleep reported a cancelled context")
		}
		woke := time.Now()
		if woke.Before(at) {
			t.Fatalf("woke %v early", at.Sub(woke))
		}
		late = append(late, woke.Sub(at))
	}
	slices.Sort(late)
	if med := late[len(late)/2]; med > 700*time.Microsecond {
		t.Errorf("median lateness %v for a %v sleep; want the kernel's precision (well under the runtime timer's ~1 ms)", med, d)
	}
}

func TestPreciseSleepEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	start := time.Now()
	if preciseSleepUntil(ctx, start.Add(time.Hour)) {
		t.Fatal("an hour's sleep returned true")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("cancelled after 20 ms, returned after %v", d)
	}
	if !preciseSleepUntil(context.Background(), start) {
		t.Error("a time in the past should return true at once")
	}
}
