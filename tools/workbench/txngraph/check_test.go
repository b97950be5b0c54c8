package txngraph

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/edn"
	"github.com/glomers/glomers/tools/workbench/history"
)

// ev is one history event in a test: process p invokes (typ "invoke") or
// completes a txn written like "w 1 1, r 2 nil".
type ev struct {
	p    int
	typ  history.Type
	mops string
}

func parseTxn(t *testing.T, s string) []any {
	t.Helper()
	var out []any
	for _, part := range strings.Split(s, ",") {
		f := strings.Fields(part)
		if len(f) != 3 {
			t.Fatalf("bad mop %q", part)
		}
		k, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if f[2] != "nil" {
			n, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			v = n
		}
		out = append(out, []any{f[0], k, v})
	}
	return out
}

// hist builds a history from events. Unless the test says otherwise, it
// ends with a write and a read of key 100 on a spare process so the
// dependency graph is never empty (an empty graph fails a run, as in
// Maelstrom).
func hist(t *testing.T, evs ...ev) history.History {
	t.Helper()
	evs = append(evs[:len(evs):len(evs)], ev{99, history.Invoke, "w 100 1"}, ev{99, history.OK, "w 100 1"},
		ev{99, history.Invoke, "r 100 nil"}, ev{99, history.OK, "r 100 1"})
	return rawHist(t, evs...)
}

func rawHist(t *testing.T, evs ...ev) history.History {
	t.Helper()
	var h history.History
	for i, e := range evs {
		h = append(h, history.Op{Index: i, Type: e.typ, Process: e.p, F: "txn", Value: parseTxn(t, e.mops), Time: int64(i)})
	}
	return h
}

// serial turns (type, txn) pairs into invoke/complete pairs, one after the
// other on process 0; for fail and info the invocation carries the value.
func serial(t *testing.T, txns ...[2]string) history.History {
	t.Helper()
	var evs []ev
	for i, x := range txns {
		evs = append(evs, ev{i, history.Invoke, x[1]}, ev{i, history.Type(x[0]), x[1]})
	}
	return hist(t, evs...)
}

func types(r checker.Result) []string {
	var out []string
	for _, k := range r["anomaly-types"].([]edn.Keyword) {
		out = append(out, string(k))
	}
	return out
}

func expect(t *testing.T, h history.History, model string, valid bool, wantTypes ...string) checker.Result {
	t.Helper()
	r := Check(h, []string{model})
	if got := r.Valid(); got != checker.Of(valid) {
		t.Fatalf("%s: valid? = %v, want %v; result %v", model, got, valid, r)
	}
	if !valid {
		got := types(r)
		for _, w := range wantTypes {
			if !slices.Contains(got, w) {
				t.Fatalf("%s: anomaly-types %v lack %s; result %v", model, got, w, r)
			}
		}
		if fe, _ := r["first-error"].(string); fe == "" {
			t.Fatalf("%s: no first-error in %v", model, r)
		}
	}
	// Results must be writable both ways.
	if _, err := edn.Marshal(map[string]any(r)); err != nil {
		t.Fatalf("edn: %v", err)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Fatalf("json: %v", err)
	}
	return r
}

func TestCleanSerialHistoryPassesEveryModel(t *testing.T) {
	h := serial(t,
		[2]string{"ok", "r 1 nil, w 1 1"},
		[2]string{"ok", "r 1 1, w 1 2, w 2 1"},
		[2]string{"fail", "w 1 9"},
		[2]string{"ok", "r 2 1, r 1 2"},
		[2]string{"info", "w 2 2"},
		[2]string{"ok", "w 1 3, r 1 3"},
	)
	for _, m := range Models() {
		expect(t, h, m, true)
	}
}

// Each txn read the other's write of a key and then overwrote it: a write
// cycle, but every ww edge of an rw-register is also a wr edge (the writer
// of v' read v), and Elle's rw-register explainer names wr first, so the
// cycle found is named G1c. Its ww edges alone still form a cycle, which
// Elle reports as PL-1-cycle-exists: read-uncommitted fails on that.
func TestRWWriteCycle(t *testing.T) {
	h := hist(t,
		ev{0, history.Invoke, "w 1 1, r 2 nil, w 2 2"},
		ev{1, history.Invoke, "w 2 1, r 1 nil, w 1 2"},
		ev{0, history.OK, "w 1 1, r 2 1, w 2 2"},
		ev{1, history.OK, "w 2 1, r 1 1, w 1 2"},
	)
	r := expect(t, h, "read-uncommitted", false, "PL-1-cycle-exists")
	if got := types(r); !slices.Equal(got, []string{"PL-1-cycle-exists"}) {
		t.Errorf("anomaly-types %v", got)
	}
	if !slices.Equal(keywordStrings(r["not"]), []string{"read-uncommitted"}) {
		t.Errorf("not = %v", r["not"])
	}
	r = expect(t, h, "read-committed", false, G1c, "PL-1-cycle-exists")
	g1c := r["anomalies"].(map[string]any)[G1c].([]any)[0].(map[string]any)
	if len(g1c["cycle"].([]any)) != 3 || !strings.Contains(g1c["explanation"].(string), "a contradiction") {
		t.Errorf("G1c cycle badly rendered: %v", g1c)
	}
}

func keywordStrings(v any) []string {
	var out []string
	for _, k := range v.([]edn.Keyword) {
		out = append(out, string(k))
	}
	return out
}

func TestG1aAbortedRead(t *testing.T) {
	h := serial(t, [2]string{"fail", "w 1 1"}, [2]string{"ok", "r 1 1"})
	expect(t, h, "read-uncommitted", true)
	expect(t, h, "read-committed", false, G1a)
}

func TestInfoWritesMayBeRead(t *testing.T) {
	h := serial(t, [2]string{"info", "w 1 1"}, [2]string{"ok", "r 1 1"})
	expect(t, h, "read-committed", true)
}

func TestG1bIntermediateRead(t *testing.T) {
	h := serial(t, [2]string{"ok", "w 1 1, w 1 2"}, [2]string{"ok", "r 1 1"})
	expect(t, h, "read-uncommitted", true)
	expect(t, h, "read-committed", false, G1b)
}

func TestG1cCircularInformationFlow(t *testing.T) {
	h := hist(t,
		ev{0, history.Invoke, "w 1 1, r 2 nil"},
		ev{1, history.Invoke, "w 2 1, r 1 nil"},
		ev{0, history.OK, "w 1 1, r 2 1"},
		ev{1, history.OK, "w 2 1, r 1 1"},
	)
	expect(t, h, "read-uncommitted", true)
	r := expect(t, h, "read-committed", false, G1c)
	if !slices.Equal(keywordStrings(r["not"]), []string{"read-committed"}) || !slices.Contains(keywordStrings(r["also-not"]), "serializable") {
		t.Errorf("boundary not=%v also-not=%v", r["not"], r["also-not"])
	}
}

func TestGSingleReadSkew(t *testing.T) {
	// T1 misses T2's write of 1 yet sees its write of 2.
	h := hist(t,
		ev{0, history.Invoke, "r 1 nil, r 2 nil"},
		ev{1, history.Invoke, "w 1 1, w 2 1"},
		ev{1, history.OK, "w 1 1, w 2 1"},
		ev{0, history.OK, "r 1 nil, r 2 1"},
	)
	expect(t, h, "read-committed", true)
	expect(t, h, "serializable", false, GSingleItem)
	expect(t, h, "snapshot-isolation", false, GSingleItem)
}

func TestG2ItemWriteSkew(t *testing.T) {
	h := hist(t,
		ev{0, history.Invoke, "r 1 nil, w 2 1"},
		ev{1, history.Invoke, "r 2 nil, w 1 1"},
		ev{0, history.OK, "r 1 nil, w 2 1"},
		ev{1, history.OK, "r 2 nil, w 1 1"},
	)
	expect(t, h, "snapshot-isolation", true)
	expect(t, h, "serializable", false, G2Item)
}

func TestRealtimeOnlyMattersForStrictModels(t *testing.T) {
	// T2 starts after T1 committed x=1, yet reads nil: fine for a
	// serializable order T2, T1, but not in real time.
	h := serial(t, [2]string{"ok", "w 1 1"}, [2]string{"ok", "r 1 nil"})
	expect(t, h, "serializable", true)
	expect(t, h, "strict-serializable", false, GSingleItem+variantRealtime)
	expect(t, h, "strong-session-serializable", true) // different processes
}

func TestProcessOrderForSessionModels(t *testing.T) {
	h := hist(t,
		ev{0, history.Invoke, "w 1 1"},
		ev{0, history.OK, "w 1 1"},
		ev{0, history.Invoke, "r 1 nil"},
		ev{0, history.OK, "r 1 nil"},
	)
	expect(t, h, "serializable", true)
	expect(t, h, "strong-session-serializable", false, GSingleItem+variantProcess)
}

// Workbench-only checks and the anomalies read-uncommitted prohibits in
// Elle fail even the weakest model.
func TestAlwaysBadAnomalies(t *testing.T) {
	cases := map[string]history.History{
		GarbageRead:   serial(t, [2]string{"ok", "w 1 1"}, [2]string{"ok", "r 1 99"}),
		DuplicateW:    serial(t, [2]string{"ok", "w 1 1"}, [2]string{"ok", "w 1 1"}),
		CyclicVersion: serial(t, [2]string{"ok", "w 1 1"}, [2]string{"ok", "r 1 1, w 1 2"}, [2]string{"ok", "r 1 2, w 1 1"}),
	}
	for typ, h := range cases {
		t.Run(typ, func(t *testing.T) { expect(t, h, "read-uncommitted", false, typ) })
	}
	t.Run("non-integer read", func(t *testing.T) {
		h := serial(t, [2]string{"ok", "w 1 1"}, [2]string{"ok", "r 1 nil"})
		h[len(h)-1].Value = []any{[]any{"r", int64(1), "hello"}}
		expect(t, h, "read-uncommitted", false, GarbageRead)
	})
}

// Internal inconsistency is prohibited by serializable and snapshot
// isolation (Cerone's INT) but not by the read-committed family, in Elle's
// table.
func TestNonRepeatableReadIsInternal(t *testing.T) {
	h := serial(t, [2]string{"ok", "w 1 1"}, [2]string{"ok", "w 1 2"}, [2]string{"ok", "r 1 1, r 1 2"})
	expect(t, h, "read-committed", true)
	expect(t, h, "serializable", false, Internal)
	expect(t, h, "snapshot-isolation", false, Internal)
	h = serial(t, [2]string{"ok", "w 1 1"}, [2]string{"ok", "w 1 2, r 1 1"})
	expect(t, h, "serializable", false, Internal)
}

func TestLostUpdate(t *testing.T) {
	h := hist(t,
		ev{0, history.Invoke, "w 1 1"},
		ev{0, history.OK, "w 1 1"},
		ev{1, history.Invoke, "r 1 nil, w 1 2"},
		ev{2, history.Invoke, "r 1 nil, w 1 3"},
		ev{1, history.OK, "r 1 1, w 1 2"},
		ev{2, history.OK, "r 1 1, w 1 3"},
	)
	expect(t, h, "read-committed", true)
	expect(t, h, "cursor-stability", false, LostUpdate)
}

func TestUnknownModel(t *testing.T) {
	if err := ValidateModels([]string{"read-committed", "bogus"}); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("ValidateModels = %v", err)
	}
	if err := ValidateModels([]string{"read-uncommitted", "strict-serializable"}); err != nil {
		t.Fatal(err)
	}
}

func TestEmptyGraphFails(t *testing.T) {
	h := rawHist(t, ev{0, history.Invoke, "w 1 1"}, ev{0, history.OK, "w 1 1"},
		ev{1, history.Invoke, "w 2 1"}, ev{1, history.OK, "w 2 1"})
	expect(t, h, "read-committed", false, EmptyGraph)
}

// A txn that reads a value nobody wrote and then overwrites it relates to
// itself only, but that is enough for Elle's graph to have a vertex: not
// an empty graph (the run is then judged by its other anomalies).
func TestSelfRelationIsNotAnEmptyGraph(t *testing.T) {
	h := rawHist(t, ev{0, history.Invoke, "r 1 nil, w 1 1"}, ev{0, history.OK, "r 1 1000001, w 1 1"})
	r := Check(h, []string{"read-uncommitted"}, checker.AsMaelstrom)
	if r.Valid() != checker.Valid {
		t.Errorf("as Maelstrom: %v", r)
	}
	if r := Check(h, []string{"read-uncommitted"}); slices.Contains(types(r), EmptyGraph) || !slices.Contains(types(r), GarbageRead) {
		t.Errorf("strict: %v", r)
	}
}

// serialHistory simulates a serializable store: txns run one at a time
// against a map, but invocations overlap (up to conc at once).
func serialHistory(n, conc, keys int, rng *rand.Rand) history.History {
	state := map[int64]int64{}
	next := map[int64]int64{}
	var h history.History
	type pending struct {
		p   int
		txn []any
	}
	var inflight []pending
	for i := 0; i < n; i++ {
		p := i % conc
		var txn []any
		for j := 0; j < 1+rng.IntN(4); j++ {
			k := int64(rng.IntN(keys))
			if rng.IntN(2) == 0 {
				txn = append(txn, []any{"r", k, nil})
			} else {
				next[k]++
				txn = append(txn, []any{"w", k, next[k]})
			}
		}
		h = append(h, history.Op{Type: history.Invoke, Process: p, F: "txn", Value: txn})
		inflight = append(inflight, pending{p, txn})
		if len(inflight) == conc || i == n-1 {
			// Complete them in a random order, executing each at its
			// completion, so the order is serializable and in real time.
			rng.Shuffle(len(inflight), func(a, b int) { inflight[a], inflight[b] = inflight[b], inflight[a] })
			for _, pd := range inflight {
				out := make([]any, len(pd.txn))
				for j, m := range pd.txn {
					mop := m.([]any)
					k := mop[1].(int64)
					if mop[0] == "w" {
						state[k] = mop[2].(int64)
						out[j] = mop
					} else if v, ok := state[k]; ok {
						out[j] = []any{"r", k, v}
					} else {
						out[j] = []any{"r", k, nil}
					}
				}
				h = append(h, history.Op{Type: history.OK, Process: pd.p, F: "txn", Value: out})
			}
			inflight = nil
		}
	}
	h.Reindex()
	return h
}

// bigHistory is the size of a 6b/6c run (2 nodes × 1000 txn/s × 20 s),
// cut down under the race detector, which only needs to see the code run.
func bigHistory() int {
	if raceEnabled {
		return 2000
	}
	return 20000
}

func TestLargeSerializableHistoryIsValidAndFast(t *testing.T) {
	h := serialHistory(bigHistory(), 4, 10, rand.New(rand.NewPCG(1, 2)))
	start := time.Now()
	expect(t, h, "strict-serializable", true)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("%d txns took %v", bigHistory(), d)
	}
}

// dirtyHistory interleaves concurrent txns micro-op by micro-op on one
// shared map, the way a node without isolation would.
func dirtyHistory(n, conc, keys int, rng *rand.Rand) history.History {
	state := map[int64]int64{}
	next := map[int64]int64{}
	var h history.History
	type run struct {
		p   int
		txn []any
		out []any
	}
	var live []*run
	started := 0
	for started < n || len(live) > 0 {
		for len(live) < conc && started < n {
			var txn []any
			for j := 0; j < 1+rng.IntN(4); j++ {
				k := int64(rng.IntN(keys))
				if rng.IntN(2) == 0 {
					txn = append(txn, []any{"r", k, nil})
				} else {
					next[k]++
					txn = append(txn, []any{"w", k, next[k]})
				}
			}
			busy := map[int]bool{}
			for _, l := range live {
				busy[l.p] = true
			}
			p := 0
			for busy[p] {
				p++
			}
			r := &run{p: p, txn: txn}
			started++
			live = append(live, r)
			h = append(h, history.Op{Type: history.Invoke, Process: r.p, F: "txn", Value: txn})
		}
		i := rng.IntN(len(live))
		r := live[i]
		mop := r.txn[len(r.out)].([]any)
		k := mop[1].(int64)
		if mop[0] == "w" {
			state[k] = mop[2].(int64)
			r.out = append(r.out, mop)
		} else if v, ok := state[k]; ok {
			r.out = append(r.out, []any{"r", k, v})
		} else {
			r.out = append(r.out, []any{"r", k, nil})
		}
		if len(r.out) == len(r.txn) {
			h = append(h, history.Op{Type: history.OK, Process: r.p, F: "txn", Value: r.out})
			live = append(live[:i], live[i+1:]...)
		}
	}
	h.Reindex()
	return h
}

func TestDirtyInterleavingIsCaughtQuickly(t *testing.T) {
	h := dirtyHistory(bigHistory(), 8, 5, rand.New(rand.NewPCG(3, 4)))
	start := time.Now()
	r := expect(t, h, "strict-serializable", false, G1b, G1c, Internal)
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("%d dirty txns took %v", bigHistory(), d)
	}
	t.Logf("counts %v (in %v)", r["anomaly-counts"], time.Since(start))
	// Interleaving micro-ops shows up as intermediate and circular reads
	// (read-committed fails) and non-repeatable reads inside txns
	// (serializable fails); writes-follow-reads alone seldom proves a pure
	// write cycle (Maelstrom issue #56), so read-uncommitted passes, as it
	// does under Elle.
	expect(t, h, "read-committed", false, G1b, G1c)
	expect(t, h, "serializable", false, Internal)
}
