package txn

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/workload"
)

func TestGeneratorFollowsWrTxns(t *testing.T) {
	g := NewGenerator(workload.Options{KeyCount: 3, MaxTxnLength: 4, MaxWritesPerKey: 5}, "w")
	rng := rand.New(rand.NewPCG(1, 1))
	written := map[[2]int64]bool{}
	writes := map[int64]int{}
	lengths := map[int]int{}
	reads := 0
	total := 0
	for i := 0; i < 5000; i++ {
		txn := g.Txn(rng)
		lengths[len(txn)]++
		for _, m := range txn {
			mop := m.([]any)
			k := mop[1].(int64)
			total++
			if mop[0] == "r" {
				reads++
				if mop[2] != nil {
					t.Fatalf("read request carries a value: %v", mop)
				}
				continue
			}
			v := mop[2].(int64)
			if written[[2]int64{k, v}] {
				t.Fatalf("write %d=%d generated twice", k, v)
			}
			written[[2]int64{k, v}] = true
			writes[k]++
			if v != int64(writes[k]) {
				t.Fatalf("key %d got value %d as write #%d; values go 1, 2, 3", k, v, writes[k])
			}
		}
	}
	for k, n := range writes {
		if n > 5 {
			t.Fatalf("key %d written %d times, max-writes-per-key is 5", k, n)
		}
	}
	if len(writes) < 100 {
		t.Fatalf("only %d keys used; exhausted keys should be replaced", len(writes))
	}
	for l := 1; l <= 4; l++ {
		if lengths[l] < 1000 {
			t.Fatalf("length %d drawn %d times of 5000; want uniform 1..4 (%v)", l, lengths[l], lengths)
		}
	}
	if lengths[0]+lengths[5] > 0 || reads < total*4/10 || reads > total*6/10 {
		t.Fatalf("lengths %v, reads %d of %d", lengths, reads, total)
	}
}

func TestKeyPopularityIsExponential(t *testing.T) {
	g := NewGenerator(workload.Options{}, "w")
	rng := rand.New(rand.NewPCG(2, 2))
	counts := make([]int, 10)
	for i := 0; i < 100000; i++ {
		counts[g.randKey(rng)]++
	}
	// Each key is twice as likely as the one before it.
	for i := 1; i < 10; i++ {
		ratio := float64(counts[i]) / float64(counts[i-1])
		if i > 4 && (ratio < 1.7 || ratio > 2.3) {
			t.Fatalf("key %d / key %d = %.2f, want ≈2 (%v)", i, i-1, ratio, counts)
		}
	}
}

func req(mops ...[]any) []any {
	out := make([]any, len(mops))
	for i, m := range mops {
		out[i] = m
	}
	return out
}

func decode(t *testing.T, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCompletedChecksShape(t *testing.T) {
	request := req([]any{"r", int64(1), nil}, []any{"w", int64(2), int64(3)})
	got, err := Completed(request, decode(t, `[["r",1,7],["w",2,3]]`))
	if err != nil {
		t.Fatal(err)
	}
	if got[0].([]any)[2] != int64(7) {
		t.Fatalf("read value %#v, want int64 7", got[0].([]any)[2])
	}
	if got, err := Completed(request, decode(t, `[["r",1,"junk"],["w",2,3]]`)); err != nil || got[0].([]any)[2] != "junk" {
		t.Fatalf("non-integer reads are the checker's business: %v %v", got, err)
	}
	for _, bad := range []string{
		`[["r",1,7]]`,                     // too short
		`[["w",1,7],["w",2,3]]`,           // f changed
		`[["r",5,7],["w",2,3]]`,           // key changed
		`[["r",1,7],["w",2,4]]`,           // write changed
		`[["r",1,7],["w",2,3],["r",1,7]]`, // too long
		`{"r":1}`,
		`[["r",1],["w",2,3]]`,
	} {
		if _, err := Completed(request, decode(t, bad)); !errors.Is(err, workload.ErrMalformedReply) {
			t.Errorf("%s: err %v, want malformed", bad, err)
		}
	}
}

type fakeConn struct {
	reply map[string]any
	err   error
	sent  map[string]any
}

func (f *fakeConn) ID() string { return "c1" }
func (f *fakeConn) Call(_ context.Context, _ string, body map[string]any, _ time.Duration) (map[string]any, error) {
	f.sent = body
	return f.reply, f.err
}

func TestClientOutcomes(t *testing.T) {
	op := history.Op{Type: history.Invoke, F: "txn", Value: req([]any{"r", int64(1), nil})}
	cases := []struct {
		name string
		conn *fakeConn
		want history.Type
	}{
		{"ok", &fakeConn{reply: decode(t, `{"type":"txn_ok","in_reply_to":1,"txn":[["r",1,null]]}`).(map[string]any)}, history.OK},
		{"conflict", &fakeConn{reply: map[string]any{"type": "error"}, err: &workload.RPCError{Code: 30}}, history.Fail},
		{"crash", &fakeConn{reply: map[string]any{"type": "error"}, err: &workload.RPCError{Code: 13}}, history.Info},
		{"timeout", &fakeConn{err: workload.ErrTimeout}, history.Info},
		{"extra key", &fakeConn{reply: decode(t, `{"type":"txn_ok","in_reply_to":1,"txn":[["r",1,null]],"x":1}`).(map[string]any)}, history.Info},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			done := RWRegister.NewClient(c.conn, "n0", workload.Options{}).Invoke(context.Background(), op)
			if done.Type != c.want {
				t.Fatalf("type %s, want %s (%v)", done.Type, c.want, done)
			}
			if c.conn.sent["type"] != "txn" || c.conn.sent["txn"] == nil {
				t.Fatalf("sent %v", c.conn.sent)
			}
		})
	}
}

func TestUnknownModelIsRejected(t *testing.T) {
	if err := RWRegister.Validate(workload.Options{ConsistencyModels: []string{"linearizable-ish"}}); err == nil {
		t.Fatal("unknown model accepted")
	}
	if err := RWRegister.Validate(workload.Options{ConsistencyModels: []string{"read-committed"}}); err != nil {
		t.Fatal(err)
	}
}

func TestListAppendClientKeepsLists(t *testing.T) {
	request := req([]any{"r", int64(1), nil}, []any{"append", int64(1), int64(4)})
	got, err := Completed(request, decode(t, `[["r",1,[1,2,3]],["append",1,4]]`))
	if err != nil {
		t.Fatal(err)
	}
	list := got[0].([]any)[2].([]any)
	if len(list) != 3 || list[2] != int64(3) {
		t.Fatalf("read %#v", got[0])
	}
	if _, err := Completed(request, decode(t, `[["r",1,[1]],["w",1,4]]`)); !errors.Is(err, workload.ErrMalformedReply) {
		t.Fatalf("append answered as w: %v", err)
	}
	g := NewGenerator(workload.Options{}, "append")
	for _, m := range g.Txn(rand.New(rand.NewPCG(5, 5))) {
		if f := m.([]any)[0]; f != "r" && f != "append" {
			t.Fatalf("list-append generator made %v", m)
		}
	}
}
