package txngraph

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/edn"
	"github.com/glomers/glomers/tools/workbench/history"
)

// A minimal history per anomaly class, each checked for exactly the
// anomaly types Elle would report under the given model. "inv"/"ok" events
// let histories state concurrency: txns invoked before one completes are
// concurrent, those invoked after follow it in real time.

type classCase struct {
	name   string
	lists  bool // txn-list-append (else txn-rw-register)
	evs    []ev
	model  string
	valid  checker.Validity
	want   []string
	weaker string // a model under which the same history is valid ("" for none)
}

func inv(p int, mops string) ev { return ev{p, history.Invoke, mops} }
func ok(p int, mops string) ev  { return ev{p, history.OK, mops} }
func fail(p int, mops string) ev {
	return ev{p, history.Fail, mops}
}

// seq runs txns one after another, each on its own process.
func seq(txns ...string) []ev {
	var out []ev
	for i, x := range txns {
		out = append(out, inv(i, x), ok(i, x))
	}
	return out
}

func (c classCase) check(t *testing.T, model string) checker.Result {
	t.Helper()
	if c.lists {
		return CheckListAppend(laHist(t, c.evs...), []string{model})
	}
	return Check(rawHist(t, c.evs...), []string{model})
}

var classCases = []classCase{
	// List-append: version orders come from the reads.
	{name: "G0", lists: true, model: "read-uncommitted", valid: checker.Invalid, want: []string{G0},
		evs: []ev{inv(0, "a 1 1, a 2 2"), inv(1, "a 1 2, a 2 1"), ok(0, "a 1 1, a 2 2"), ok(1, "a 1 2, a 2 1"),
			inv(2, "r 1 nil, r 2 nil"), ok(2, "r 1 [1 2], r 2 [1 2]")}},
	{name: "G0-realtime", lists: true, model: "strict-serializable", valid: checker.Invalid, want: []string{"G0-realtime"}, weaker: "serializable",
		evs: seq("a 2 2", "a 2 1", "r 2 [1 2]")},
	{name: "G0-process", lists: true, model: "strong-session-serializable", valid: checker.Invalid, want: []string{"G0-process"}, weaker: "serializable",
		evs: []ev{inv(0, "a 2 2"), ok(0, "a 2 2"), inv(0, "a 2 1"), ok(0, "a 2 1"), inv(1, "r 2 nil"), ok(1, "r 2 [1 2]")}},
	{name: "G1a", lists: true, model: "read-committed", valid: checker.Invalid, want: []string{G1a}, weaker: "read-uncommitted",
		evs: []ev{inv(0, "a 1 1"), fail(0, "a 1 1"), inv(1, "a 2 1"), ok(1, "a 2 1"), inv(2, "r 1 nil, r 2 nil"), ok(2, "r 1 [1], r 2 [1]")}},
	{name: "G1b", lists: true, model: "read-committed", valid: checker.Invalid, want: []string{G1b}, weaker: "read-uncommitted",
		evs: seq("a 1 1, a 1 2", "r 1 [1]", "r 1 [1 2]")},
	{name: "G1c", lists: true, model: "read-committed", valid: checker.Invalid, want: []string{G1c}, weaker: "read-uncommitted",
		evs: []ev{inv(0, "a 1 1, r 2 nil"), inv(1, "a 2 1, r 1 nil"), ok(0, "a 1 1, r 2 [1]"), ok(1, "a 2 1, r 1 [1]")}},
	{name: "G1c-realtime", lists: true, model: "strict-serializable", valid: checker.Invalid, want: []string{"G1c-realtime"}, weaker: "serializable",
		evs: seq("r 1 [1]", "a 1 1")},
	{name: "G1c-process", lists: true, model: "strong-session-serializable", valid: checker.Invalid, want: []string{"G1c-process"}, weaker: "serializable",
		evs: []ev{inv(0, "r 1 nil"), ok(0, "r 1 [1]"), inv(0, "a 1 1"), ok(0, "a 1 1")}},
	{name: "G-single-item", lists: true, model: "snapshot-isolation", valid: checker.Invalid, want: []string{GSingleItem}, weaker: "read-committed",
		evs: []ev{inv(0, "r 1 nil, r 2 nil"), inv(1, "a 1 1, a 2 1"), ok(1, "a 1 1, a 2 1"), ok(0, "r 1 nil, r 2 [1]")}},
	{name: "G-single-item-realtime", lists: true, model: "strict-serializable", valid: checker.Invalid, want: []string{"G-single-item-realtime"}, weaker: "serializable",
		evs: seq("a 1 1", "r 1 nil")},
	{name: "G-single-item-process", lists: true, model: "strong-session-serializable", valid: checker.Invalid, want: []string{"G-single-item-process"}, weaker: "serializable",
		evs: []ev{inv(0, "a 1 1"), ok(0, "a 1 1"), inv(0, "r 1 nil"), ok(0, "r 1 nil")}},
	// T1 -rw-> T2 -wr-> T3 -rw-> T4 -wr-> T1: two anti-dependencies, never
	// in a row.
	{name: "G-nonadjacent-item", lists: true, model: "snapshot-isolation", valid: checker.Invalid, want: []string{GNonadjacentItem}, weaker: "read-committed",
		evs: []ev{inv(0, "r 1 nil, r 4 nil"), inv(1, "a 1 1, a 2 1"), inv(2, "r 2 nil, r 3 nil"), inv(3, "a 3 1, a 4 1"),
			ok(1, "a 1 1, a 2 1"), ok(3, "a 3 1, a 4 1"), ok(2, "r 2 [1], r 3 nil"), ok(0, "r 1 nil, r 4 [1]")}},
	// The same with T2 finishing before T3 starts instead of T3 reading T2.
	{name: "G-nonadjacent-item-realtime", lists: true, model: "strict-serializable", valid: checker.Invalid, want: []string{"G-nonadjacent-item-realtime"}, weaker: "serializable",
		evs: []ev{inv(0, "r 1 nil, r 4 nil"), inv(1, "a 1 1"), inv(3, "a 3 1, a 4 1"), ok(1, "a 1 1"),
			inv(2, "r 3 nil"), ok(2, "r 3 nil"), ok(3, "a 3 1, a 4 1"), ok(0, "r 1 nil, r 4 [1]")}},
	{name: "G-nonadjacent-item-process", lists: true, model: "strong-session-serializable", valid: checker.Invalid, want: []string{"G-nonadjacent-item-process"}, weaker: "serializable",
		evs: []ev{inv(0, "r 1 nil, r 4 nil"), inv(1, "a 1 1"), inv(3, "a 3 1, a 4 1"), ok(1, "a 1 1"),
			inv(1, "r 3 nil"), ok(1, "r 3 nil"), ok(3, "a 3 1, a 4 1"), ok(0, "r 1 nil, r 4 [1]")}},
	{name: "G2-item", lists: true, model: "serializable", valid: checker.Invalid, want: []string{G2Item}, weaker: "snapshot-isolation",
		evs: []ev{inv(0, "r 1 nil, a 2 1"), inv(1, "r 2 nil, a 1 1"), ok(0, "r 1 nil, a 2 1"), ok(1, "r 2 nil, a 1 1")}},
	// T1 -rw-> T2 -rw-> T3, and T3 finished before T1 began.
	{name: "G2-item-realtime", lists: true, model: "strict-serializable", valid: checker.Invalid, want: []string{"G2-item-realtime"}, weaker: "serializable",
		evs: []ev{inv(1, "a 1 1, r 2 nil"), inv(2, "a 2 1"), ok(2, "a 2 1"), inv(0, "r 1 nil"), ok(0, "r 1 nil"), ok(1, "a 1 1, r 2 nil")}},
	{name: "G2-item-process", lists: true, model: "strong-session-serializable", valid: checker.Invalid, want: []string{"G2-item-process"}, weaker: "serializable",
		evs: []ev{inv(1, "a 1 1, r 2 nil"), inv(0, "a 2 1"), ok(0, "a 2 1"), inv(0, "r 1 nil"), ok(0, "r 1 nil"), ok(1, "a 1 1, r 2 nil")}},
	// Both read [1] and appended: cursor stability forbids lost updates
	// but not the G2-item they make.
	{name: "lost-update", lists: true, model: "cursor-stability", valid: checker.Invalid, want: []string{LostUpdate}, weaker: "read-committed",
		evs: []ev{inv(0, "a 1 1"), ok(0, "a 1 1"), inv(1, "r 1 nil, a 1 2"), inv(2, "r 1 nil, a 1 3"), ok(1, "r 1 [1], a 1 2"), ok(2, "r 1 [1], a 1 3")}},
	{name: "incompatible-order", lists: true, model: "read-committed", valid: checker.Invalid, want: []string{IncompatibleOrder}, weaker: "read-uncommitted",
		evs: seq("a 1 1", "a 1 2", "r 1 [1 2]", "r 1 [2 1]")},
	{name: "duplicate-elements", lists: true, model: "read-uncommitted", valid: checker.Invalid, want: []string{DuplicateElements},
		evs: seq("a 1 1", "r 1 [1 1]")},
	// Elle's list_append_test "contradictory read orders": x's reads
	// disagree, and T1 -ww-> T2 -ww-> T3 -wr-> T1 on the longest.
	{name: "Elle: contradictory read orders", lists: true, model: "read-committed", valid: checker.Invalid,
		want: []string{G1c, IncompatibleOrder}, weaker: "read-uncommitted",
		evs: []ev{inv(0, "a 1 1, r 2 nil"), inv(1, "a 1 2"), inv(2, "a 1 3, a 2 1"),
			ok(0, "a 1 1, r 2 [1]"), ok(1, "a 1 2"), ok(2, "a 1 3, a 2 1"),
			inv(3, "r 1 nil"), ok(3, "r 1 [1 3]"), inv(4, "r 1 nil"), ok(4, "r 1 [1 2 3]")}},
	// Elle's list_append_test realtime case: a read that started after 2
	// was appended misses it (the append of 1, never ended, is ours: Elle's
	// history reads an element nobody appended).
	{name: "Elle: stale read in real time", lists: true, model: "strict-serializable", valid: checker.Invalid,
		want: []string{"G-single-item-realtime"}, weaker: "serializable",
		evs: []ev{inv(9, "a 1 1"), inv(0, "a 1 2"), ok(0, "a 1 2"), inv(1, "r 1 nil"), ok(1, "r 1 [1]"),
			inv(2, "r 1 nil"), ok(2, "r 1 [1 2]"), ok(9, "a 1 1")}},
	// Elle's list_append_test "dirty update, direct", also an aborted read.
	{name: "dirty-update", lists: true, model: "read-committed", valid: checker.Invalid, want: []string{G1a, DirtyUpdate}, weaker: "read-uncommitted",
		evs: []ev{inv(0, "a 1 1"), fail(0, "a 1 1"), inv(1, "a 1 2"), ok(1, "a 1 2"), inv(2, "r 1 nil"), ok(2, "r 1 [1 2]")}},
	{name: "internal", lists: true, model: "serializable", valid: checker.Invalid, want: []string{Internal}, weaker: "read-committed",
		evs: seq("a 1 1", "a 1 2, r 1 [1]")},

	// rw-register, after Elle's rw_register_test: each txn reads the
	// other's write.
	{name: "rw G1c", model: "read-committed", valid: checker.Invalid, want: []string{G1c}, weaker: "read-uncommitted",
		evs: []ev{inv(0, "w 1 1, r 2 nil"), inv(1, "w 2 1, r 1 nil"), ok(0, "w 1 1, r 2 1"), ok(1, "w 2 1, r 1 1")}},
	// An intermediate read, and no dependency at all: the graph is empty.
	{name: "rw G1b", model: "repeatable-read", valid: checker.Invalid, want: []string{G1b, EmptyGraph},
		evs: seq("w 1 1, w 1 2", "r 1 1")},
	{name: "rw G1a", model: "read-committed", valid: checker.Invalid, want: []string{G1a, EmptyGraph},
		evs: []ev{inv(0, "w 1 1"), fail(0, "w 1 1"), inv(1, "r 1 nil"), ok(1, "r 1 1")}},
	{name: "rw internal", model: "serializable", valid: checker.Invalid, want: []string{Internal}, weaker: "read-committed",
		evs: seq("w 1 1", "w 1 2", "r 1 1, r 1 2")},
	// A write cycle in an rw-register is always also a wr cycle (see
	// TestRWWriteCycle): Elle names the cycle G1c and proves the write
	// cycle by PL-1-cycle-exists.
	{name: "rw write cycle", model: "read-committed", valid: checker.Invalid, want: []string{G1c, "PL-1-cycle-exists"},
		evs: []ev{inv(0, "r 2 nil, w 1 1, w 2 2"), inv(1, "r 1 nil, w 1 2, w 2 1"),
			ok(0, "r 2 1, w 1 1, w 2 2"), ok(1, "r 1 1, w 1 2, w 2 1")}},
	// Each read the other's value and then wrote its own: writes follow
	// reads orders 1 < 2 < 1, so Elle drops that source and says so (the
	// shape of the real Maelstrom's txn-dirty-write store).
	{name: "cyclic-versions", model: "read-uncommitted", valid: checker.Invalid, want: []string{CyclicVersion},
		evs: []ev{inv(0, "r 1 nil, w 1 1"), inv(1, "r 1 nil, w 1 2"), ok(0, "r 1 2, w 1 1"), ok(1, "r 1 1, w 1 2")}},
	{name: "rw lost-update", model: "cursor-stability", valid: checker.Invalid, want: []string{LostUpdate}, weaker: "read-committed",
		evs: []ev{inv(0, "w 1 1"), ok(0, "w 1 1"), inv(1, "r 1 nil, w 1 2"), inv(2, "r 1 nil, w 1 3"), ok(1, "r 1 1, w 1 2"), ok(2, "r 1 1, w 1 3")}},
}

func TestEachAnomalyClass(t *testing.T) {
	for _, c := range classCases {
		t.Run(c.name, func(t *testing.T) {
			r := c.check(t, c.model)
			got := resultTypeNames(r)
			want := slices.Clone(c.want)
			sort.Strings(want)
			if r.Valid() != c.valid || !slices.Equal(got, want) {
				t.Fatalf("%s: valid? %v, anomaly-types %v; want %v, %v\n%v", c.model, r.Valid(), got, c.valid, want, r)
			}
			if _, err := edn.Marshal(map[string]any(r)); err != nil {
				t.Fatalf("edn: %v", err)
			}
			if _, err := json.Marshal(r); err != nil {
				t.Fatalf("json: %v", err)
			}
			if c.weaker != "" {
				if w := c.check(t, c.weaker); w.Valid() != checker.Valid {
					t.Fatalf("%s: want valid, got %v", c.weaker, w)
				}
			}
		})
	}
}

func resultTypeNames(r checker.Result) []string {
	var out []string
	if ts, ok := r["anomaly-types"].([]edn.Keyword); ok {
		for _, k := range ts {
			out = append(out, string(k))
		}
	}
	sort.Strings(out)
	return out
}

// A component whose search runs out of budget is reported like Elle's
// cycle-search-timeout, with one fallback cycle from it. Maelstrom's
// txn-rw-register drops the timeout from the anomaly types; its
// txn-list-append keeps it.
func TestCycleSearchTimeout(t *testing.T) {
	defer func(b int) { componentBudget = b }(componentBudget)
	componentBudget = 1
	skew := []ev{inv(0, "r 1 nil, a 2 1"), inv(1, "r 2 nil, a 1 1"), ok(0, "r 1 nil, a 2 1"), ok(1, "r 2 nil, a 1 1")}
	r := CheckListAppend(laHist(t, skew...), []string{"serializable"})
	if got := resultTypeNames(r); !slices.Equal(got, []string{"G2-item", CycleTimeout}) || r.Valid() != checker.Invalid {
		t.Fatalf("list-append: %v %v", r.Valid(), r)
	}
	to := r["anomalies"].(map[string]any)[CycleTimeout].([]any)[0].(map[string]any)
	if to["anomaly-spec-type"] != edn.Keyword(GSingleItem) || to["scc-size"] != 2 {
		t.Errorf("timeout %v", to)
	}
	// Nothing the model prohibits besides the timeout: unknown.
	r = CheckListAppend(laHist(t, skew...), []string{"snapshot-isolation"})
	if got := resultTypeNames(r); !slices.Equal(got, []string{CycleTimeout}) || r.Valid() != checker.Unknown {
		t.Fatalf("list-append under SI: %v %v", r.Valid(), r)
	}
	rw := rawHist(t, inv(0, "r 1 nil, w 2 1"), inv(1, "r 2 nil, w 1 1"), ok(0, "r 1 nil, w 2 1"), ok(1, "r 2 nil, w 1 1"))
	r = Check(rw, []string{"snapshot-isolation"})
	if got := resultTypeNames(r); len(got) != 0 || r.Valid() != checker.Valid || r["cycle-search-timeout"] == nil {
		t.Fatalf("rw-register: %v %v", r.Valid(), r)
	}
	componentBudget = 1 << 30
	if r := Check(rw, []string{"snapshot-isolation"}); r["cycle-search-timeout"] != nil {
		t.Fatalf("timeout with a large budget: %v", r)
	}
}

// linearizableAppendHistory runs list-append txns from conc processes
// against one store, each applied atomically when it completes (so the
// history is strict-serializable), interleaving invocations and
// completions at random; one in ten fails without effect and one in ten
// is left info after taking effect (its reads unknown to the client).
func linearizableAppendHistory(n, conc, keys int, rng *rand.Rand) history.History {
	state := map[int64][]int64{}
	next := map[int64]int64{}
	var h history.History
	running := map[int][]any{}
	proc := make([]int, conc) // current process number per worker
	for i := range proc {
		proc[i] = i
	}
	started := 0
	for started < n || len(running) > 0 {
		w := rng.IntN(conc)
		p := proc[w]
		txn, busy := running[p]
		if !busy {
			if started == n {
				continue
			}
			started++
			txn = nil
			for j := 0; j < 1+rng.IntN(4); j++ {
				k := int64(rng.IntN(keys))
				if rng.IntN(2) == 0 {
					txn = append(txn, []any{"r", k, nil})
				} else {
					next[k]++
					txn = append(txn, []any{"append", k, next[k]})
				}
			}
			running[p] = txn
			h = append(h, history.Op{Type: history.Invoke, Process: p, F: "txn", Value: txn})
			continue
		}
		delete(running, p)
		switch rng.IntN(10) {
		case 0:
			h = append(h, history.Op{Type: history.Fail, Process: p, F: "txn", Value: txn})
			continue
		case 1:
			for _, m := range txn {
				if mop := m.([]any); mop[0] == "append" {
					state[mop[1].(int64)] = append(state[mop[1].(int64)], mop[2].(int64))
				}
			}
			h = append(h, history.Op{Type: history.Info, Process: p, F: "txn", Value: txn})
			proc[w] += conc // a crashed process is replaced
			continue
		}
		out := make([]any, len(txn))
		for j, m := range txn {
			mop := m.([]any)
			k := mop[1].(int64)
			if mop[0] == "append" {
				state[k] = append(state[k], mop[2].(int64))
				out[j] = mop
			} else {
				list := make([]any, len(state[k]))
				for x, e := range state[k] {
					list[x] = e
				}
				out[j] = []any{"r", k, list}
			}
		}
		h = append(h, history.Op{Type: history.OK, Process: p, F: "txn", Value: out})
	}
	h.Reindex()
	return h
}

// A concurrent, strict-serializable list-append history with failures
// and crashes shows no anomaly of any kind, under every model.
func TestLinearizableListAppendHistoryHasNoAnomalies(t *testing.T) {
	n := 3000
	if raceEnabled {
		n = 600
	}
	for seed := uint64(1); seed <= 2; seed++ {
		h := linearizableAppendHistory(n, 6, 16, rand.New(rand.NewPCG(seed, 7)))
		for _, m := range []string{"strict-serializable", "strong-session-serializable"} {
			r := CheckListAppend(h, []string{m})
			if r.Valid() != checker.Valid || len(r["anomaly-counts"].(map[string]any)) != 0 {
				t.Fatalf("seed %d, %s: %v", seed, m, r)
			}
		}
	}
}

// Internal consistency as Elle's list-append tracks it: a read of nil
// says nothing about the txn's later reads, an empty list does, and an
// append after a nil read makes the list exactly that element.
func TestListAppendInternalNuances(t *testing.T) {
	for _, c := range []struct {
		txn      string
		internal bool
	}{
		{"r 1 [1], a 1 5, r 1 [1 5]", false},
		{"r 1 nil, r 1 [1]", false},
		{"r 1 [], r 1 [1]", true},
		{"r 1 nil, a 1 5, r 1 [1 5]", true},
		{"a 1 5, r 1 [1 5]", false},
		{"a 1 5, r 1 [5 1]", true},
		{"a 1 5, r 1 nil", true},
	} {
		h := laSerial(t, [2]string{"ok", "a 1 1"}, [2]string{"ok", c.txn})
		r := CheckListAppend(h, []string{"serializable"})
		got := slices.Contains(resultTypeNames(r), Internal)
		if got != c.internal {
			t.Errorf("%s: internal %v, want %v: %v", c.txn, got, c.internal, r)
		}
	}
}
