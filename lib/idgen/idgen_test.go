package idgen

import (
	"fmt"
	"sync"
	"testing"
)

func TestUniqueAcrossNodesAndGoroutines(t *testing.T) {
	nodes := []string{"n0", "n1", "n2", "n3", "n4"}
	const goroutines, perGoroutine = 8, 2000
	seen := make(map[uint64]string)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, self := range nodes {
		g, err := New(self, nodes)
		if err != nil {
			t.Fatal(err)
		}
		for w := range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ids := make([]uint64, perGoroutine)
				for i := range ids {
					ids[i] = g.Next()
				}
				mu.Lock()
				defer mu.Unlock()
				for _, id := range ids {
					who := fmt.Sprintf("%s/%d", self, w)
					if prev, dup := seen[id]; dup {
						t.Errorf("id %d issued by %s and %s", id, prev, who)
					}
					seen[id] = who
				}
			}()
		}
	}
	wg.Wait()
	total := len(nodes) * goroutines * perGoroutine
	if len(seen) != total {
		t.Fatalf("got %d distinct ids, want %d", len(seen), total)
	}
	// Dense: every number below the total was issued exactly once.
	for id := range uint64(total) {
		if _, ok := seen[id]; !ok {
			t.Fatalf("id %d was never issued; layout is not dense", id)
		}
	}
}

func TestLayout(t *testing.T) {
	g, err := New("n2", []string{"n0", "n1", "n2"})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []uint64{2, 5, 8, 11} {
		if got := g.Next(); got != want {
			t.Fatalf("call %d: got %d, want %d", i, got, want)
		}
	}
}

func TestUnknownNode(t *testing.T) {
	if _, err := New("n9", []string{"n0", "n1"}); err == nil {
		t.Fatal("New accepted a node that is not in the list")
	}
}

func BenchmarkNext(b *testing.B) {
	g, _ := New("n1", []string{"n0", "n1", "n2"})
	for b.Loop() {
		g.Next()
	}
}

func BenchmarkNextParallel(b *testing.B) {
	g, _ := New("n1", []string{"n0", "n1", "n2"})
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			g.Next()
		}
	})
}
