package service

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// body decodes a JSON request the way the network hands it to a service.
func body(t *testing.T, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("bad test body %s: %v", s, err)
	}
	return m
}

// call sends a request and returns the reply re-encoded as JSON, for
// readable comparisons.
func call(t *testing.T, s Service, src, req string) string {
	t.Helper()
	reply, err := s.Handle(src, body(t, req))
	if err != nil {
		t.Fatalf("%s: %v", req, err)
	}
	b, _ := json.Marshal(reply)
	return string(b)
}

func TestLinKVReadWriteCAS(t *testing.T) {
	kv := NewLinearizableKV()
	steps := []struct{ req, want string }{
		{`{"type":"read","key":"a"}`, `{"code":20,"text":"key does not exist","type":"error"}`},
		{`{"type":"cas","key":"a","from":1,"to":2}`, `{"code":20,"text":"key does not exist","type":"error"}`},
		{`{"type":"write","key":"a","value":1}`, `{"type":"write_ok"}`},
		{`{"type":"read","key":"a"}`, `{"type":"read_ok","value":1}`},
		{`{"type":"cas","key":"a","from":1.0,"to":2}`, `{"code":22,"text":"current value 1 is not 1.0","type":"error"}`},
		{`{"type":"cas","key":"a","from":1,"to":2}`, `{"type":"cas_ok"}`},
		{`{"type":"cas","key":"a","from":"x","to":3}`, `{"code":22,"text":"current value 2 is not \"x\"","type":"error"}`},
		{`{"type":"cas","key":"b","from":null,"to":[1,{"z":1,"y":null}],"create_if_not_exists":true}`, `{"type":"cas_ok"}`},
		{`{"type":"cas","key":"b","from":[1,{"y":null,"z":1}],"to":7}`, `{"type":"cas_ok"}`},
		{`{"type":"cas","key":"b","from":null,"to":8,"create_if_not_exists":true}`, `{"code":22,"text":"current value 7 is not nil","type":"error"}`},
		// Keys are values too: the integer 1 and the string "1" differ.
		{`{"type":"write","key":1,"value":"int"}`, `{"type":"write_ok"}`},
		{`{"type":"read","key":"1"}`, `{"code":20,"text":"key does not exist","type":"error"}`},
		{`{"type":"read","key":1}`, `{"type":"read_ok","value":"int"}`},
		{`{"type":"write","key":{"k":[1,2]},"value":true}`, `{"type":"write_ok"}`},
		{`{"type":"read","key":{"k":[1,2]}}`, `{"type":"read_ok","value":true}`},
	}
	for _, s := range steps {
		if got := call(t, kv, "n0", s.req); got != s.want {
			t.Errorf("%s\n got  %s\n want %s", s.req, got, s.want)
		}
	}
}

func TestUnknownTypesGetNoReply(t *testing.T) {
	for name, s := range Defaults(rand.New(rand.NewPCG(1, 2))) {
		req := `{"type":"frobnicate","key":1,"msg_id":3}`
		if _, err := s.Handle("n0", body(t, req)); !errors.As(err, new(ErrUnknownType)) {
			t.Errorf("%s: %s gave err %v, want ErrUnknownType", name, req, err)
		}
	}
	if _, err := NewTSO().Handle("n0", body(t, `{"type":"read","key":1}`)); err == nil {
		t.Error("lin-tso answered a read")
	}
}

func TestTSOCountsFromZero(t *testing.T) {
	tso := NewTSO()
	for i := 0; i < 3; i++ {
		reply, err := tso.Handle("n"+string(rune('0'+i)), body(t, `{"type":"ts"}`))
		if err != nil || reply["ts"] != int64(i) {
			t.Fatalf("ts #%d = %v, %v", i, reply, err)
		}
	}
}

// script returns an intN that replays picks (each must be < n) and fails
// the test if it runs out or a pick is out of range.
func script(t *testing.T, picks ...int) func(int) int {
	return func(n int) int {
		t.Helper()
		if len(picks) == 0 {
			t.Fatalf("unexpected random draw (n=%d)", n)
		}
		p := picks[0]
		picks = picks[1:]
		if p < 0 || p >= n {
			t.Fatalf("scripted pick %d out of [0,%d)", p, n)
		}
		return p
	}
}

func TestSeqKVReaderSeesThePastAndWriterCatchesUp(t *testing.T) {
	// n0 writes 1, 2, 3 (states 1..3). n1 only reads: its draws come from
	// [0, last) so it can never see state 3 while it has seen nothing newer.
	s := NewSequentialKV(script(t,
		// n1's reads: pick offsets 2 (state 2), then 0 (state 2 again: its
		// seen index is now 2, range [2,3) has one element).
		2, 0,
	))
	for _, v := range []string{"1", "2", "3"} {
		if got := call(t, s, "n0", `{"type":"write","key":"k","value":`+v+`}`); got != `{"type":"write_ok"}` {
			t.Fatal(got)
		}
	}
	if got := call(t, s, "n1", `{"type":"read","key":"k"}`); got != `{"type":"read_ok","value":2}` {
		t.Errorf("first stale read = %s", got)
	}
	if got := call(t, s, "n1", `{"type":"read","key":"k"}`); got != `{"type":"read_ok","value":2}` {
		t.Errorf("second read = %s (must not go backwards, and the newest state is out of reach)", got)
	}
	// n0 has seen state 3 (its own write), so its reads draw nothing.
	if got := call(t, s, "n0", `{"type":"read","key":"k"}`); got != `{"type":"read_ok","value":3}` {
		t.Errorf("writer's read = %s", got)
	}
}

func TestSeqKVUniqueWriteRefreshesButSameValueDoesNot(t *testing.T) {
	s := NewSequentialKV(script(t,
		0, // n1 writes scratch=0 speculatively on state 0: new key, so mutating.
		0, // n0's second write draws too (seen 1, last 2).
		// n1 writes scratch=0 again: range [2,3): pick 0 → state 2 where scratch=0 already: non-mutating.
		0,
		// n1 reads k: seen=2, last=3, pick 0 → state 2, k=1: stale.
		0,
	))
	call(t, s, "n0", `{"type":"write","key":"k","value":1}`)       // state 1
	call(t, s, "n1", `{"type":"write","key":"scratch","value":0}`) // drew 0, mutating: state 2
	call(t, s, "n0", `{"type":"write","key":"k","value":2}`)       // state 3
	call(t, s, "n1", `{"type":"write","key":"scratch","value":0}`) // same value: stays on state 2
	if got := call(t, s, "n1", `{"type":"read","key":"k"}`); got != `{"type":"read_ok","value":1}` {
		t.Errorf("read after rewriting the same value = %s, want the stale 1", got)
	}
	s.intN = script(t, 0) // the unique write draws once, then jumps to the newest
	call(t, s, "n1", `{"type":"write","key":"scratch","value":1}`)
	if got := call(t, s, "n1", `{"type":"read","key":"k"}`); got != `{"type":"read_ok","value":2}` {
		t.Errorf("read after a unique write = %s, want 2", got)
	}
}

func TestSeqKVStaleCASSucceedsOnlyOnNewest(t *testing.T) {
	s := NewSequentialKV(script(t, 0))
	call(t, s, "n0", `{"type":"write","key":"k","value":1}`) // state 1
	call(t, s, "n0", `{"type":"write","key":"k","value":2}`) // state 2
	// n1 draws state 0 (k missing → 20, non-mutating). Then a CAS 1→5:
	// drawn on state 1 it would succeed, so it re-runs on the newest (k=2)
	// and fails there — and still advances the history.
	if got := call(t, s, "n1", `{"type":"read","key":"k"}`); !strings.Contains(got, `"code":20`) {
		t.Errorf("read on state 0 = %s", got)
	}
	s.intN = script(t, 1)
	if got := call(t, s, "n1", `{"type":"cas","key":"k","from":1,"to":5}`); got != `{"code":22,"text":"current value 2 is not 1","type":"error"}` {
		t.Errorf("stale CAS = %s", got)
	}
	if s.last != 3 || s.seen["n1"] != 3 {
		t.Errorf("last=%d seen[n1]=%d, want 3 and 3", s.last, s.seen["n1"])
	}
}

func TestSeqKVWrapsAroundTheRingBuffer(t *testing.T) {
	s := NewSequentialKV(script(t, 0))
	// 40 writes by n0: states 1..40; state i holds k=i.
	s.intN = func(int) int { return 0 }
	for i := 1; i <= 40; i++ {
		call(t, s, "n0", `{"type":"write","key":"k","value":`+itoa(i)+`}`)
	}
	// n1 has seen nothing (index 0); drawing index 3 hits slot 3, which now
	// holds state 35 — Maelstrom's ring buffer wraps the same way.
	s.intN = script(t, 3)
	if got := call(t, s, "n1", `{"type":"read","key":"k"}`); got != `{"type":"read_ok","value":35}` {
		t.Errorf("wrapped read = %s", got)
	}
	if s.seen["n1"] != 3 {
		t.Errorf("seen[n1] = %d, want the drawn index 3", s.seen["n1"])
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestLWWKVReplicasNeverConverge(t *testing.T) {
	e := NewEventualKV(script(t, 0, 1, 0, 1))
	call(t, e, "n0", `{"type":"write","key":"k","value":1}`) // replica 0
	if got := call(t, e, "n0", `{"type":"read","key":"k"}`); !strings.Contains(got, `"code":20`) {
		t.Errorf("replica 1 read = %s, want key does not exist", got)
	}
	if got := call(t, e, "n0", `{"type":"read","key":"k"}`); got != `{"type":"read_ok","value":1}` {
		t.Errorf("replica 0 read = %s", got)
	}
	e.intN = script(t, 1, 0)
	if got := call(t, e, "n0", `{"type":"cas","key":"k","from":null,"to":2,"create_if_not_exists":true}`); got != `{"code":20,"text":"key does not exist","type":"error"}` {
		t.Errorf("lww-kv honoured create_if_not_exists: %s", got)
	}
	if got := call(t, e, "n0", `{"type":"cas","key":"k","from":"1","to":2}`); got != `{"code":22,"text":"current value 1 is not 1","type":"error"}` {
		t.Errorf("lww-kv CAS text = %s (from is rendered with str)", got)
	}
}

// Value equality (history.Key) is tested in package history; these are
// the renderings the services' error texts use.
func TestClojureRendering(t *testing.T) {
	if got := prStr(map[string]any{"b": []any{1, "x"}, "a": nil}); got != `{"a" nil, "b" [1 "x"]}` {
		t.Errorf("prStr = %s", got)
	}
	if !reflect.DeepEqual(str("x"), "x") || str(nil) != "" {
		t.Error("str of a string or nil")
	}
}
