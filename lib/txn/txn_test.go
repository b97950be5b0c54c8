package txn

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
)

func r(k int64) Mop    { return Mop{F: "r", Key: k} }
func w(k, v int64) Mop { return Mop{F: "w", Key: k, Value: &v} }
func val(m Mop) any {
	if m.Value == nil {
		return nil
	}
	return *m.Value
}

// sim is a fake network between stores: messages wait in a queue until
// Deliver, and are dropped at delivery if the link is cut, as Maelstrom's
// partitions do. Time advances only through Step.
type sim struct {
	t      *testing.T
	stores map[string]*Store
	queue  []simMsg
	cut    map[[2]string]bool
	sent   int
}

type simMsg struct {
	from, to string
	rep      *Replicate
	ack      *Ack
}

func newSim(t *testing.T, nodes ...string) *sim {
	s := &sim{t: t, stores: map[string]*Store{}, cut: map[[2]string]bool{}}
	for _, n := range nodes {
		s.stores[n] = New(n, nodes, Config{MaxBatch: 3})
	}
	return s
}

func (s *sim) partition(a, b string) { s.cut[[2]string{a, b}], s.cut[[2]string{b, a}] = true, true }
func (s *sim) heal()                 { s.cut = map[[2]string]bool{} }

// Step is one tick of the fake clock: every store ticks, then everything
// in flight is delivered (replies go out and are delivered in the same
// step).
func (s *sim) Step() {
	for name, st := range s.stores {
		for _, o := range st.Tick() {
			body := o.Body
			// Round-trip through JSON as the wire would.
			b, err := json.Marshal(body)
			if err != nil {
				s.t.Fatal(err)
			}
			var back Replicate
			if err := json.Unmarshal(b, &back); err != nil {
				s.t.Fatal(err)
			}
			s.queue = append(s.queue, simMsg{from: name, to: o.Dest, rep: &back})
		}
	}
	for len(s.queue) > 0 {
		m := s.queue[0]
		s.queue = s.queue[1:]
		s.sent++
		if s.cut[[2]string{m.from, m.to}] {
			continue
		}
		if m.rep != nil {
			ack := s.stores[m.to].HandleReplicate(*m.rep)
			s.queue = append(s.queue, simMsg{from: m.to, to: m.from, ack: &ack})
		} else {
			s.stores[m.to].HandleAck(m.from, *m.ack)
		}
	}
}

func TestCommitReadsOwnWritesAndNilForMissing(t *testing.T) {
	st := New("n0", []string{"n0"}, DefaultConfig)
	got := st.Commit([]Mop{r(1), w(1, 5), r(1), w(1, 6), r(1), r(2)})
	want := []any{nil, int64(5), int64(5), int64(6), int64(6), nil}
	for i, m := range got {
		if val(m) != want[i] {
			t.Fatalf("mop %d = %v, want %v", i, val(m), want[i])
		}
	}
	if got := st.Commit([]Mop{r(1)}); val(got[0]) != int64(6) {
		t.Fatalf("later read = %v, want the final write 6", val(got[0]))
	}
	if st.Pending() != 0 {
		t.Fatal("a single node has nothing to replicate")
	}
}

func TestWritesReachPeersAsOneUnit(t *testing.T) {
	s := newSim(t, "n0", "n1")
	s.stores["n0"].Commit([]Mop{w(1, 1), w(1, 2), w(2, 1)})
	if got := s.stores["n1"].Commit([]Mop{r(1), r(2)}); val(got[0]) != nil || val(got[1]) != nil {
		t.Fatalf("peer saw writes before replication: %v", got)
	}
	s.Step()
	got := s.stores["n1"].Commit([]Mop{r(1), r(2)})
	if val(got[0]) != int64(2) || val(got[1]) != int64(1) {
		t.Fatalf("peer read %v %v, want the final writes 2 and 1 together", val(got[0]), val(got[1]))
	}
	if s.stores["n0"].Pending() != 0 {
		t.Fatal("acknowledged entries should be forgotten")
	}
}

func TestPartitionHealsByRetry(t *testing.T) {
	s := newSim(t, "n0", "n1", "n2")
	s.partition("n0", "n1")
	for i := int64(1); i <= 10; i++ {
		s.stores["n0"].Commit([]Mop{w(7, i)})
	}
	s.Step()
	s.Step()
	if got := s.stores["n1"].Commit([]Mop{r(7)}); val(got[0]) != nil {
		t.Fatalf("partitioned peer read %v", val(got[0]))
	}
	if got := s.stores["n2"].Commit([]Mop{r(7)}); val(got[0]) == nil {
		t.Fatal("reachable peer got nothing")
	}
	if s.stores["n0"].Pending() == 0 {
		t.Fatal("entries n1 lacks must be kept")
	}
	s.heal()
	for i := 0; i < 5; i++ { // batches of 3 need several ticks
		s.Step()
	}
	if got := s.stores["n1"].Commit([]Mop{r(7)}); val(got[0]) != int64(10) {
		t.Fatalf("after heal n1 read %v, want 10", val(got[0]))
	}
	if s.stores["n0"].Pending() != 0 {
		t.Fatal("log not trimmed after every peer acknowledged")
	}
}

// A transaction that read a version must overwrite it everywhere, even
// when the node that wrote the version has a much larger clock: otherwise
// the version order contradicts what transactions saw (a ww cycle).
func TestWritesFollowReadsAcrossNodes(t *testing.T) {
	s := newSim(t, "n0", "n1")
	for i := int64(1); i <= 20; i++ {
		s.stores["n0"].Commit([]Mop{w(1, i)}) // n0's clock runs ahead
	}
	for i := 0; i < 10; i++ {
		s.Step()
	}
	got := s.stores["n1"].Commit([]Mop{r(1), w(1, 100)})
	if val(got[0]) != int64(20) {
		t.Fatalf("n1 read %v", val(got[0]))
	}
	s.Step()
	for name, st := range s.stores {
		if got := st.Commit([]Mop{r(1)}); val(got[0]) != int64(100) {
			t.Fatalf("%s kept %v; the write that followed the read must win", name, val(got[0]))
		}
	}
}

func TestConcurrentWritesConvergeUnderRandomPartitions(t *testing.T) {
	nodes := []string{"n0", "n1", "n2"}
	s := newSim(t, nodes...)
	rng := rand.New(rand.NewPCG(7, 8))
	next := map[int64]int64{}
	for step := 0; step < 400; step++ {
		if rng.IntN(20) == 0 {
			s.heal()
			if rng.IntN(2) == 0 {
				a, b := nodes[rng.IntN(3)], nodes[rng.IntN(3)]
				if a != b {
					s.partition(a, b)
				}
			}
		}
		for i := 0; i < 5; i++ {
			var txn []Mop
			for j := 0; j < 1+rng.IntN(4); j++ {
				k := int64(rng.IntN(4))
				if rng.IntN(2) == 0 {
					txn = append(txn, r(k))
				} else {
					next[k]++
					txn = append(txn, w(k, next[k]))
				}
			}
			got := s.stores[nodes[rng.IntN(3)]].Commit(txn)
			if len(got) != len(txn) {
				t.Fatalf("txn shape changed: %v → %v", txn, got)
			}
		}
		s.Step()
	}
	s.heal()
	for i := 0; i < 50; i++ {
		s.Step()
	}
	first := s.stores["n0"].Snapshot()
	for _, n := range nodes {
		if snap := s.stores[n].Snapshot(); !reflect.DeepEqual(snap, first) {
			t.Fatalf("%s diverged: %v vs %v", n, snap, first)
		}
		if s.stores[n].Pending() != 0 {
			t.Fatalf("%s still has %d unacknowledged entries", n, s.stores[n].Pending())
		}
	}
}

func TestHandleReplicateIsIdempotentAndAcksOnlyAPrefix(t *testing.T) {
	st := New("n1", []string{"n0", "n1"}, DefaultConfig)
	e := func(seq uint64, v int64) Entry {
		return Entry{Seq: seq, Stamp: Stamp{Time: seq, Node: "n0"}, Writes: []Write{{Key: 1, Value: v}}}
	}
	if a := st.HandleReplicate(Replicate{Origin: "n0", Entries: []Entry{e(2, 20)}}); a.Upto != 0 {
		t.Fatalf("acked %d across a gap", a.Upto)
	}
	if a := st.HandleReplicate(Replicate{Origin: "n0", Entries: []Entry{e(1, 10), e(2, 20)}}); a.Upto != 2 {
		t.Fatalf("acked %d, want 2", a.Upto)
	}
	st.HandleReplicate(Replicate{Origin: "n0", Entries: []Entry{e(1, 10)}}) // a late duplicate
	if got := st.Snapshot()[1]; got != 20 {
		t.Fatalf("value %d; an old duplicate must not win", got)
	}
}

func TestMopJSON(t *testing.T) {
	var mops []Mop
	if err := json.Unmarshal([]byte(`[["r",1,null],["w",2,3]]`), &mops); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(mops)
	if string(b) != `[["r",1,null],["w",2,3]]` {
		t.Fatalf("round trip gave %s", b)
	}
	for _, bad := range []string{`[["x",1,null]]`, `[["w",1,null]]`, `[["r","k",null]]`, `[["r",1]]`, `[["w",1,"s"]]`} {
		if err := json.Unmarshal([]byte(bad), &mops); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
