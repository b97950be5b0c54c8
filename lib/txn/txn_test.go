package txn

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// epoch is the fake clock's start.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

var testConfig = Config{MaxBatch: 3, FlushEvery: 100 * time.Millisecond, ResendAfter: 100 * time.Millisecond}

func mustNew(t testing.TB, self string, nodes []string, cfg Config) *Store {
	t.Helper()
	s, err := New(self, nodes, cfg, epoch)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// commit runs a txn that must not fail.
func commit(t testing.TB, s *Store, txn []Mop) []Mop {
	t.Helper()
	out, _, err := s.Commit(txn, epoch) // epoch: never ahead of the flush grid
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ackOf is the acknowledgement a HandleReplicate step sends back.
func ackOf(t testing.TB, r Ready) Ack {
	t.Helper()
	if len(r.Messages) != 1 {
		t.Fatalf("want one ack, got %+v", r.Messages)
	}
	a, ok := r.Messages[0].Body.(Ack)
	if !ok {
		t.Fatalf("want an Ack, got %T", r.Messages[0].Body)
	}
	return a
}

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
	now    time.Time
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
	s := &sim{t: t, now: epoch, stores: map[string]*Store{}, cut: map[[2]string]bool{}}
	for _, n := range nodes {
		s.stores[n] = mustNew(t, n, nodes, testConfig)
	}
	return s
}

func (s *sim) partition(a, b string) { s.cut[[2]string{a, b}], s.cut[[2]string{b, a}] = true, true }
func (s *sim) heal()                 { s.cut = map[[2]string]bool{} }

// Step is one flush interval of the fake clock: every store ticks, then
// everything in flight is delivered (replies go out and are delivered in
// the same step).
func (s *sim) Step() {
	s.now = s.now.Add(testConfig.FlushEvery)
	for name, st := range s.stores {
		for _, o := range st.Tick(s.now).Messages {
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
			s.queue = append(s.queue, simMsg{from: name, to: o.To, rep: &back})
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
			ready, err := s.stores[m.to].HandleReplicate(m.from, *m.rep, s.now)
			if err != nil {
				s.t.Fatal(err)
			}
			ack := ackOf(s.t, ready)
			s.queue = append(s.queue, simMsg{from: m.to, to: m.from, ack: &ack})
		} else {
			s.stores[m.to].HandleAck(m.from, *m.ack, s.now)
		}
	}
}

func TestCommitReadsOwnWritesAndNilForMissing(t *testing.T) {
	st := mustNew(t, "n0", []string{"n0"}, DefaultConfig)
	got := commit(t, st, []Mop{r(1), w(1, 5), r(1), w(1, 6), r(1), r(2)})
	want := []any{nil, int64(5), int64(5), int64(6), int64(6), nil}
	for i, m := range got {
		if val(m) != want[i] {
			t.Fatalf("mop %d = %v, want %v", i, val(m), want[i])
		}
	}
	if got := commit(t, st, []Mop{r(1)}); val(got[0]) != int64(6) {
		t.Fatalf("later read = %v, want the final write 6", val(got[0]))
	}
	if st.Pending() != 0 {
		t.Fatal("a single node has nothing to replicate")
	}
}

func TestWritesReachPeersAsOneUnit(t *testing.T) {
	s := newSim(t, "n0", "n1")
	commit(t, s.stores["n0"], []Mop{w(1, 1), w(1, 2), w(2, 1)})
	if got := commit(t, s.stores["n1"], []Mop{r(1), r(2)}); val(got[0]) != nil || val(got[1]) != nil {
		t.Fatalf("peer saw writes before replication: %v", got)
	}
	s.Step()
	got := commit(t, s.stores["n1"], []Mop{r(1), r(2)})
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
		commit(t, s.stores["n0"], []Mop{w(7, i)})
	}
	s.Step()
	s.Step()
	if got := commit(t, s.stores["n1"], []Mop{r(7)}); val(got[0]) != nil {
		t.Fatalf("partitioned peer read %v", val(got[0]))
	}
	if got := commit(t, s.stores["n2"], []Mop{r(7)}); val(got[0]) == nil {
		t.Fatal("reachable peer got nothing")
	}
	if s.stores["n0"].Pending() == 0 {
		t.Fatal("entries n1 lacks must be kept")
	}
	s.heal()
	for i := 0; i < 5; i++ { // batches of 3 need several ticks
		s.Step()
	}
	if got := commit(t, s.stores["n1"], []Mop{r(7)}); val(got[0]) != int64(10) {
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
		commit(t, s.stores["n0"], []Mop{w(1, i)}) // n0's clock runs ahead
	}
	for i := 0; i < 10; i++ {
		s.Step()
	}
	got := commit(t, s.stores["n1"], []Mop{r(1), w(1, 100)})
	if val(got[0]) != int64(20) {
		t.Fatalf("n1 read %v", val(got[0]))
	}
	s.Step()
	for name, st := range s.stores {
		if got := commit(t, st, []Mop{r(1)}); val(got[0]) != int64(100) {
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
			got := commit(t, s.stores[nodes[rng.IntN(3)]], txn)
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
	st := mustNew(t, "n1", []string{"n0", "n1"}, DefaultConfig)
	e := func(seq uint64, v int64) Entry {
		return Entry{Seq: seq, Stamp: Stamp{Time: seq, Node: "n0"}, Writes: []Write{{Key: 1, Value: v}}}
	}
	replicate := func(entries ...Entry) Ack {
		t.Helper()
		r, err := st.HandleReplicate("n0", Replicate{Origin: "n0", Entries: entries}, epoch)
		if err != nil {
			t.Fatal(err)
		}
		return ackOf(t, r)
	}
	if a := replicate(e(2, 20)); a.Upto != 0 {
		t.Fatalf("acked %d across a gap", a.Upto)
	}
	if a := replicate(e(1, 10), e(2, 20)); a.Upto != 2 {
		t.Fatalf("acked %d, want 2", a.Upto)
	}
	replicate(e(1, 10)) // a late duplicate
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

// A peer's huge stamp must not wrap the clock: the next acknowledged
// write would be stamped below the value it overwrites and lost.
func TestHugeStampIsRefusedAndLaterWritesWin(t *testing.T) {
	for _, huge := range []uint64{math.MaxUint64, math.MaxInt64, MaxTime + 1} {
		st := mustNew(t, "n0", []string{"n0", "n1"}, DefaultConfig)
		commit(t, st, []Mop{w(1, 1)})
		_, err := st.HandleReplicate("n1", Replicate{Origin: "n1", Entries: []Entry{
			{Seq: 1, Stamp: Stamp{Time: 3, Node: "n1"}, Writes: []Write{{Key: 2, Value: 7}}},
			{Seq: 2, Stamp: Stamp{Time: huge, Node: "n1"}, Writes: []Write{{Key: 1, Value: 99}}},
		}}, epoch)
		if !errors.Is(err, ErrStampTooBig) {
			t.Fatalf("stamp %d: err %v, want ErrStampTooBig", huge, err)
		}
		commit(t, st, []Mop{w(1, 5)})
		got := commit(t, st, []Mop{r(1), r(2)})
		if val(got[0]) != int64(5) || val(got[1]) != nil {
			t.Fatalf("stamp %d: read %v %v, want the acknowledged write 5 and nothing of the refused message", huge, val(got[0]), val(got[1]))
		}
	}
	// The largest accepted stamp still leaves the clock room to count.
	st := mustNew(t, "n0", []string{"n0", "n1"}, DefaultConfig)
	if _, err := st.HandleReplicate("n1", Replicate{Origin: "n1", Entries: []Entry{
		{Seq: 1, Stamp: Stamp{Time: MaxTime, Node: "n1"}, Writes: []Write{{Key: 1, Value: 99}}},
	}}, epoch); err != nil {
		t.Fatal(err)
	}
	commit(t, st, []Mop{w(1, 5)})
	if got := commit(t, st, []Mop{r(1)}); val(got[0]) != int64(5) {
		t.Fatalf("after a MaxTime stamp read %v, want 5", val(got[0]))
	}
	// And at the very end of the clock, Commit refuses rather than wraps.
	st.clock = math.MaxUint64
	if _, _, err := st.Commit([]Mop{w(1, 6)}, epoch); !errors.Is(err, ErrClockExhausted) {
		t.Fatalf("commit at the end of the clock: %v", err)
	}
}

func TestOnlyPeersReplicateTheirOwnEntries(t *testing.T) {
	st := mustNew(t, "n0", []string{"n0", "n1", "n2"}, DefaultConfig)
	entry := []Entry{{Seq: 1, Stamp: Stamp{Time: 1, Node: "n1"}, Writes: []Write{{Key: 1, Value: 9}}}}
	for _, tc := range []struct{ from, origin string }{
		{"c5", "c5"}, {"c5", "n1"}, {"n2", "n1"}, {"n0", "n0"}, {"lin-kv", "n1"},
	} {
		if _, err := st.HandleReplicate(tc.from, Replicate{Origin: tc.origin, Entries: entry}, epoch); err == nil {
			t.Errorf("replicate from %s of %s's entries accepted", tc.from, tc.origin)
		}
	}
	if got := commit(t, st, []Mop{r(1)}); val(got[0]) != nil {
		t.Fatalf("refused replication changed the store: %v", val(got[0]))
	}
	// An ack from a stranger does not let the log go.
	commit(t, st, []Mop{w(1, 1)})
	st.HandleAck("c5", Ack{Origin: "n0", Upto: 1}, epoch)
	st.HandleAck("n1", Ack{Origin: "n0", Upto: 1}, epoch)
	if st.Pending() != 1 {
		t.Fatalf("pending %d: n2 has not acknowledged", st.Pending())
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := New("n9", []string{"n0", "n1"}, DefaultConfig, epoch); err == nil {
		t.Error("node outside the node list accepted")
	}
	for _, bad := range []Config{{}, {MaxBatch: 1, FlushEvery: time.Second}, {MaxBatch: -1, FlushEvery: time.Second, ResendAfter: time.Second}} {
		if _, err := New("n0", []string{"n0"}, bad, epoch); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}

// Resends follow the caller's clock: none before ResendAfter, one per
// flush after, and nothing between flushes.
func TestTickFollowsTheClock(t *testing.T) {
	cfg := Config{MaxBatch: 10, FlushEvery: 100 * time.Millisecond, ResendAfter: 300 * time.Millisecond}
	st := mustNew(t, "n0", []string{"n0", "n1"}, cfg)
	commit(t, st, []Mop{w(1, 1)})
	at := func(ms int) int { return len(st.Tick(epoch.Add(time.Duration(ms) * time.Millisecond)).Messages) }
	if n := at(99); n != 0 {
		t.Fatalf("sent %d before the first flush", n)
	}
	if n := at(105); n != 1 {
		t.Fatalf("first flush sent %d, want 1", n)
	}
	for _, ms := range []int{150, 201, 302} {
		if n := at(ms); n != 0 {
			t.Fatalf("resent at %d ms, before ResendAfter", ms)
		}
	}
	if n := at(400); n != 1 {
		t.Fatalf("no resend at 400 ms (ResendAfter past the 100 ms flush)")
	}
	commit(t, st, []Mop{w(2, 2)})
	if n := at(450); n != 0 {
		t.Fatal("sent between flushes")
	}
	if n := at(501); n != 1 {
		t.Fatal("a new entry waits for no resend timer")
	}
}

// NextTick asks for a Tick only while some peer lacks entries, at the
// next flush on the grid: an idle store is never woken, and one that
// slept through flushes resumes on the grid, not at once.
func TestNextTickOnlyWhileEntriesArePending(t *testing.T) {
	ms := func(n int) time.Time { return epoch.Add(time.Duration(n) * time.Millisecond) }
	st := mustNew(t, "n0", []string{"n0", "n1"}, testConfig)
	if _, r, _ := st.Commit([]Mop{r(1)}, ms(10)); !r.NextTick.IsZero() {
		t.Fatalf("a read-only txn scheduled a tick at %v", r.NextTick)
	}
	if _, r, _ := st.Commit([]Mop{w(1, 1)}, ms(10)); !r.NextTick.Equal(ms(100)) {
		t.Fatalf("after a write, next tick %v, want the flush at 100 ms", r.NextTick)
	}
	r := st.Tick(ms(100))
	if len(r.Messages) != 1 || !r.NextTick.Equal(ms(200)) {
		t.Fatalf("flush sent %d, next tick %v; want 1 and 200 ms (a resend is due until acked)", len(r.Messages), r.NextTick)
	}
	if r := st.HandleAck("n1", Ack{Origin: "n0", Upto: 1}, ms(130)); !r.NextTick.IsZero() || st.Pending() != 0 {
		t.Fatalf("after the ack, next tick %v and %d pending; want none", r.NextTick, st.Pending())
	}
	// Idle for ten seconds: the next write waits for the grid's next flush.
	if _, r, _ := st.Commit([]Mop{w(1, 2)}, ms(10_030)); !r.NextTick.Equal(ms(10_100)) {
		t.Fatalf("after an idle spell, next tick %v, want 10.1 s", r.NextTick)
	}
	// A replicate's Ready carries the ack and keeps the schedule.
	r, err := st.HandleReplicate("n1", Replicate{Origin: "n1", Entries: []Entry{{Seq: 1, Stamp: Stamp{Time: 1, Node: "n1"}}}}, ms(10_040))
	if err != nil || len(r.Messages) != 1 || r.Messages[0].To != "n1" || !r.NextTick.Equal(ms(10_100)) {
		t.Fatalf("replicate: %+v %v", r, err)
	}
	single := mustNew(t, "n0", []string{"n0"}, testConfig)
	if _, r, _ := single.Commit([]Mop{w(1, 1)}, ms(5)); !r.NextTick.IsZero() {
		t.Fatalf("a single node scheduled a tick at %v", r.NextTick)
	}
}
