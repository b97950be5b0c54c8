package broadcast

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/edn"
	"github.com/glomers/glomers/tools/workbench/history"
)

// hist builds a history from compact steps; times are in milliseconds.
type hist struct{ h history.History }

func (b *hist) op(typ history.Type, process int, f string, value any, ms int64) *hist {
	b.h = append(b.h, history.Op{Index: len(b.h), Type: typ, Process: process, F: f, Value: value, Time: ms * int64(time.Millisecond)})
	return b
}

func (b *hist) broadcast(process int, v int64, invokeMs, okMs int64) *hist {
	return b.op(history.Invoke, process, "broadcast", v, invokeMs).op(history.OK, process, "broadcast", v, okMs)
}

func (b *hist) read(process int, vals []any, invokeMs, okMs int64) *hist {
	return b.op(history.Invoke, process, "read", nil, invokeMs).op(history.OK, process, "read", vals, okMs)
}

func vals(xs ...int64) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func TestCheckValidWithStaleLatency(t *testing.T) {
	b := &hist{}
	b.broadcast(0, 0, 0, 1)         // known at 1 ms
	b.read(1, vals(), 10, 11)       // misses 0 (invoked at 10 ms)
	b.read(2, vals(), 250, 251)     // misses 0 again at 250 ms
	b.read(1, vals(0), 300, 301)    // has it
	b.broadcast(0, 1, 400, 400)     // known at 400 ms
	b.read(2, vals(0, 1), 400, 401) // has both at once: latency 0
	b.read(1, vals(1, 0), 500, 501) // order does not matter
	res := Check(b.h)
	if res.Valid() != checker.Valid {
		t.Fatalf("valid? = %v: %v", res.Valid(), res)
	}
	// Value 0: last absent read invoked at 250 ms, known at 1 ms → 249 ms
	// (+1 ns, truncated). Value 1: 0.
	if got := res["stale"]; !reflect.DeepEqual(got, []any{int64(0)}) {
		t.Errorf("stale = %v", got)
	}
	want := map[float64]any{0: int64(0), 0.5: int64(249), 0.95: int64(249), 0.99: int64(249), 1: int64(249)}
	if got := res["stable-latencies"]; !reflect.DeepEqual(got, want) {
		t.Errorf("stable-latencies = %v, want %v", got, want)
	}
	for k, v := range map[string]any{"attempt-count": 2, "stable-count": 2, "lost-count": 0, "stale-count": 1, "never-read-count": 0, "duplicated-count": 0} {
		if res[k] != v {
			t.Errorf("%s = %v, want %v", k, res[k], v)
		}
	}
	worst := res["worst-stale"].([]any)
	if len(worst) != 1 || worst[0].(map[string]any)["stable-latency"] != int64(249) {
		t.Errorf("worst-stale = %v", worst)
	}
	if _, ok := res["lost-latencies"]; ok {
		t.Error("lost-latencies present with nothing lost")
	}
	if _, ok := res["first-error"]; ok {
		t.Error("first-error on a valid result")
	}
	if _, err := edn.Marshal(map[string]any(res)); err != nil {
		t.Errorf("result does not marshal to EDN: %v", err)
	}
}

func TestCheckLost(t *testing.T) {
	b := &hist{}
	b.broadcast(0, 0, 0, 1)
	b.broadcast(0, 1, 2, 3)
	b.read(1, vals(0, 1), 100, 101)
	b.op(history.Invoke, 2, "read", nil, 200) // concurrent reads: one finishes first
	b.read(1, vals(1), 210, 211)              // 0 gone
	b.op(history.OK, 2, "read", vals(1), 220)
	res := Check(b.h)
	if res.Valid() != checker.Invalid {
		t.Fatalf("valid? = %v", res.Valid())
	}
	if got := res["lost"]; !reflect.DeepEqual(got, []any{int64(0)}) {
		t.Errorf("lost = %v", got)
	}
	// Lost latency: last present read invoked at 100 ms (+1 ns) − known 1 ms.
	if got := res["lost-latencies"].(map[float64]any)[1]; got != int64(99) {
		t.Errorf("lost latency = %v, want 99", got)
	}
	fe, _ := res["first-error"].(string)
	// The latest-invoked read that missed 0 is process 1's, invoked at op 7.
	if !strings.Contains(fe, "value 0 lost") || !strings.Contains(fe, "op 7") || !strings.Contains(fe, "process 1") {
		t.Errorf("first-error = %q", fe)
	}
}

// A read concurrent with the broadcast that misses it does not make the
// value lost: it may have happened first. The value is never-read unless a
// later read sees it.
func TestCheckConcurrentMissIsNotLoss(t *testing.T) {
	b := &hist{}
	b.op(history.Invoke, 0, "broadcast", int64(0), 0)
	b.op(history.Invoke, 1, "read", nil, 1)
	b.op(history.OK, 1, "read", vals(), 2)
	b.op(history.OK, 0, "broadcast", int64(0), 3)
	res := Check(b.h)
	if res.Valid() != checker.Unknown {
		t.Fatalf("valid? = %v, want unknown", res.Valid())
	}
	if !reflect.DeepEqual(res["never-read"], []any{int64(0)}) || res["lost-count"] != 0 {
		t.Errorf("never-read = %v lost-count = %v", res["never-read"], res["lost-count"])
	}
	if _, ok := res["stable-latencies"]; ok {
		t.Error("stable-latencies present with nothing stable")
	}
	if fe, _ := res["first-error"].(string); !strings.Contains(fe, "no broadcast value became stable") {
		t.Errorf("first-error = %q", fe)
	}
}

func TestCheckEmptyHistoryIsUnknown(t *testing.T) {
	res := Check(nil)
	if res.Valid() != checker.Unknown || res["attempt-count"] != 0 {
		t.Fatalf("empty history: %v", res)
	}
}

// Failed and crashed broadcasts are attempts too; one a read saw becomes
// known through that read.
func TestCheckUnacknowledgedBroadcasts(t *testing.T) {
	b := &hist{}
	b.op(history.Invoke, 0, "broadcast", int64(0), 0)
	b.op(history.Info, 0, "broadcast", int64(0), 5000)
	b.op(history.Invoke, 3, "broadcast", int64(1), 0)
	b.op(history.Info, 3, "broadcast", int64(1), 5000)
	b.read(1, vals(0), 6000, 6001)
	b.read(2, vals(0), 7000, 7001)
	res := Check(b.h)
	if res.Valid() != checker.Valid || res["attempt-count"] != 2 || res["stable-count"] != 1 {
		t.Fatalf("res = %v", res)
	}
	if !reflect.DeepEqual(res["never-read"], []any{int64(1)}) {
		t.Errorf("never-read = %v (1 was never known, so its absence proves nothing)", res["never-read"])
	}
}

// Invented and duplicated values never change the verdict (Maelstrom
// ignores them) but are reported.
func TestCheckReportsInventedAndRepeatedValuesWithoutFailing(t *testing.T) {
	b := &hist{}
	b.broadcast(0, 0, 0, 1)
	b.read(1, vals(0, 0, 0, 999), 10, 11)
	b.broadcast(0, 5, 20, 21)
	b.read(1, vals(0, 5, 5), 30, 31)
	res := Check(b.h)
	if res.Valid() != checker.Valid {
		t.Fatalf("valid? = %v", res.Valid())
	}
	if !reflect.DeepEqual(res["unexpected"], []any{int64(999)}) || res["unexpected-count"] != 1 {
		t.Errorf("unexpected = %v", res["unexpected"])
	}
	want := []any{[]any{int64(0), 3}, []any{int64(5), 2}}
	if !reflect.DeepEqual(res["repeated-in-read"], want) {
		t.Errorf("repeated-in-read = %v, want %v", res["repeated-in-read"], want)
	}
	if res["duplicated-count"] != 0 {
		t.Errorf("duplicated-count = %v; Jepsen 0.3.7 never reports duplicates", res["duplicated-count"])
	}
}

// A node that replaces real values by made-up ones loses the real ones:
// that is how the broadcast-invent fixture fails.
func TestCheckInventingNodeFailsThroughLoss(t *testing.T) {
	b := &hist{}
	b.broadcast(0, 0, 0, 1)
	b.broadcast(0, 1, 2, 3)
	b.read(1, vals(1000000, 1000001), 50, 51)
	res := Check(b.h)
	if res.Valid() != checker.Invalid || res["lost-count"] != 2 || res["unexpected-count"] != 2 {
		t.Fatalf("res = %v", res)
	}
}

// Elements are reported in value order even when broadcasts complete out
// of order, numerically (2 before 10).
func TestCheckSortsNumerically(t *testing.T) {
	b := &hist{}
	b.broadcast(0, 10, 0, 1)
	b.broadcast(0, 2, 2, 3)
	b.read(1, vals(), 50, 51)
	b.read(1, vals(2, 10), 60, 61)
	res := Check(b.h)
	if !reflect.DeepEqual(res["stale"], []any{int64(2), int64(10)}) {
		t.Errorf("stale = %v", res["stale"])
	}
}

// A node that holds broadcast_ok until the value has spread shows a small
// stable latency (Maelstrom's clock starts at the ok); the dissemination
// latency, from the invocation, shows what readers waited all the same.
func TestDisseminationLatencyStartsAtTheInvocation(t *testing.T) {
	b := &hist{}
	b.broadcast(0, 7, 100, 350)  // invoked at 100 ms, ok held until 350 ms
	b.read(1, vals(), 120, 121)  // misses 7
	b.read(2, vals(), 340, 341)  // misses 7: last absent, invoked at 340 ms
	b.read(1, vals(7), 360, 361) // has it
	b.broadcast(0, 8, 400, 401)  // ok at once
	b.read(2, vals(7, 8), 402, 403)
	res := Check(b.h)
	if res.Valid() != checker.Valid {
		t.Fatalf("valid? = %v: %v", res.Valid(), res)
	}
	// 7: stable latency 0 (no read missed it after the ok), dissemination
	// 340 − 100 = 240 ms (+1 ns, truncated). 8: both 0.
	wantStable := map[float64]any{0: int64(0), 0.5: int64(0), 0.95: int64(0), 0.99: int64(0), 1: int64(0)}
	if got := res["stable-latencies"]; !reflect.DeepEqual(got, wantStable) {
		t.Errorf("stable-latencies = %v, want %v", got, wantStable)
	}
	wantDis := map[float64]any{0: int64(0), 0.5: int64(240), 0.95: int64(240), 0.99: int64(240), 1: int64(240)}
	if got := res["dissemination-latencies"]; !reflect.DeepEqual(got, wantDis) {
		t.Errorf("dissemination-latencies = %v, want %v", got, wantDis)
	}
}
