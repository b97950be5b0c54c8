package runner

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/store"
)

// The history as it is recorded: streamed to disk, counted in memory.

// flushEvery pushes the buffered history and journal to disk every d, so
// that what is on disk trails the run by at most d (a workbench killed
// mid-run leaves its history behind, and a person can tail it).
func (r *run) flushEvery(d time.Duration, journal *store.JournalFile) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			r.rec.flush()
			journal.Flush() // an error is kept and reported by Close
		}
	}()
	return func() { close(done); wg.Wait() }
}

// recorder is the run's history, appended to by workers and the nemesis.
// It streams every op to disk and keeps only counts in memory.
type recorder struct {
	start time.Time
	mu    sync.Mutex
	w     *store.HistoryWriter // nil once closed
	next  int                  // index of the next op

	invokes, oks, fails, infos atomic.Int64
}

// add stamps op with its index and time (now) and writes it.
func (rc *recorder) add(op history.Op) history.Op {
	rc.mu.Lock()
	op.Time = time.Since(rc.start).Nanoseconds()
	op.Index = rc.next
	if rc.w != nil {
		rc.next++
		rc.w.Add(op)
	}
	rc.mu.Unlock()
	if op.IsClient() {
		switch op.Type {
		case history.Invoke:
			rc.invokes.Add(1)
		case history.OK:
			rc.oks.Add(1)
		case history.Fail:
			rc.fails.Add(1)
		case history.Info:
			rc.infos.Add(1)
		}
	}
	return op
}

func (rc *recorder) counts() (ok, fail, info, invokes int64) {
	return rc.oks.Load(), rc.fails.Load(), rc.infos.Load(), rc.invokes.Load()
}

// flush pushes buffered ops to disk; an error is kept for close.
func (rc *recorder) flush() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.w != nil {
		rc.w.Flush()
	}
}

// close flushes the history to disk and says how many ops it holds;
// later ops are not recorded.
func (rc *recorder) close() (int, error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.w == nil {
		return rc.next, nil
	}
	err := rc.w.Close()
	rc.w = nil
	return rc.next, err
}
