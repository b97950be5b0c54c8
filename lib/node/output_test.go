package node

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// blockingWriter holds every Write until release is closed.
type blockingWriter struct {
	release chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
	writes  int
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	return w.buf.Write(p)
}

// While a large reply is stuck on its way out, small lines (a refusal, an
// ack) are queued without waiting, up to their own bound; large ones wait
// once maxPendingLarge is pending. Nothing interleaves or reorders.
func TestOutputSmallLinesDoNotWaitBehindLargeOnes(t *testing.T) {
	w := &blockingWriter{release: make(chan struct{})}
	o := newOutput(w)
	large := []byte(strings.Repeat("L", 100<<10) + "\n")
	go o.write(large) // the writer of the moment, stuck in Write
	time.Sleep(20 * time.Millisecond)
	for i := 0; i < 1000; i++ {
		done := make(chan struct{})
		go func() { o.write([]byte(fmt.Sprintf("small %d\n", i))); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Second):
			t.Fatalf("small line %d waited behind a large one", i)
		}
	}
	o.write(large)
	o.write(large)
	o.write(large) // under maxPendingLarge before it, over after it
	blocked := make(chan struct{})
	go func() { o.write(large); close(blocked) }()
	select {
	case <-blocked:
		t.Fatal("a large line went into a full queue")
	case <-time.After(50 * time.Millisecond):
	}
	close(w.release)
	<-blocked
	// A writer returns once its line is queued; wait for the writer of
	// the moment to have written everything.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		o.mu.Lock()
		idle := !o.writing && len(o.pending) == 0
		o.mu.Unlock()
		if idle || time.Now().After(deadline) {
			break
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	lines := strings.Split(strings.TrimSuffix(w.buf.String(), "\n"), "\n")
	if len(lines) != 1005 {
		t.Fatalf("%d lines out, want 1005", len(lines))
	}
	for i := 0; i < 1000; i++ {
		if lines[1+i] != fmt.Sprintf("small %d", i) {
			t.Fatalf("line %d is %.20q, want small %d", 1+i, lines[1+i], i)
		}
	}
	if w.writes > 4 {
		t.Errorf("%d writes for 1005 lines, want them batched", w.writes)
	}
}

func TestOutputConcurrentWritersKeepLinesWhole(t *testing.T) {
	var buf bytes.Buffer
	o := newOutput(&buf)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				o.write([]byte(fmt.Sprintf("g%d %d %s\n", g, i, strings.Repeat("x", i*37%3000))))
			}
		}()
	}
	wg.Wait()
	next := map[string]int{}
	for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		var g string
		var i int
		var pad string
		fmt.Sscanf(l, "%s %d %s", &g, &i, &pad)
		if i != next[g] || len(pad) != i*37%3000 {
			t.Fatalf("line %.40q out of order or cut (want %s %d)", l, g, next[g])
		}
		next[g]++
	}
}
