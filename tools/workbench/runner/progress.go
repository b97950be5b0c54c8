package runner

import (
	"fmt"
	"sync"
	"time"
)

// The live status line, so that a long run is not a silent one.

// progressLineEvery is how often ProgressLines prints (tests shorten it).
var progressLineEvery = 5 * time.Second

// progress prints a status line (live, or every 5 s with ProgressLines)
// until the returned func is called; phase, if set, names what is going on.
func (r *run) progress(deadline time.Time, phase string) (stop func()) {
	if r.cfg.Progress == nil {
		return func() {}
	}
	every, clear, end := 250*time.Millisecond, "\r\033[K", ""
	if r.cfg.ProgressLines {
		every, clear, end = progressLineEvery, "progress: ", "\n"
	}
	if phase != "" {
		phase = "  " + phase
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		limit := deadline.Sub(r.start).Round(time.Second)
		for {
			select {
			case <-done:
				if !r.cfg.ProgressLines {
					fmt.Fprint(r.cfg.Progress, clear)
				}
				return
			case <-t.C:
			}
			part := ""
			if r.part != nil {
				part = "  partition: healed"
				if r.part.Active() {
					part = "  partition: ACTIVE"
				}
			}
			ok, fail, info, inv := r.rec.counts()
			fmt.Fprintf(r.cfg.Progress, "%s%5.1fs/%v  ops %d  ok %d  errors %d (fail %d, info %d)%s%s%s",
				clear, time.Since(r.start).Seconds(), limit, inv, ok, fail+info, fail, info, part, phase, end)
		}
	}()
	return func() { close(done); wg.Wait() }
}
