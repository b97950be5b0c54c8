package gset

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// fakeConn answers every call with reply(body).
type fakeConn struct {
	calls []map[string]any
	dests []string
	reply func(body map[string]any) (map[string]any, error)
}

func (c *fakeConn) ID() string { return "c9" }

func (c *fakeConn) Call(_ context.Context, dest string, body map[string]any, _ time.Duration) (map[string]any, error) {
	c.calls = append(c.calls, body)
	c.dests = append(c.dests, dest)
	return c.reply(body)
}

func answer(body map[string]any) func(map[string]any) (map[string]any, error) {
	return func(map[string]any) (map[string]any, error) {
		b := map[string]any{"in_reply_to": json.Number("1")}
		for k, v := range body {
			b[k] = v
		}
		return b, nil
	}
}

func invoke(conn *fakeConn, op history.Op) history.Op {
	op.Type = history.Invoke
	return Workload.NewClient(conn, "n2", workload.Options{}).Invoke(context.Background(), op)
}

func TestClientAdd(t *testing.T) {
	conn := &fakeConn{reply: answer(map[string]any{"type": "add_ok", "msg_id": json.Number("3")})}
	got := invoke(conn, history.Op{F: "add", Value: int64(7)})
	if got.Type != history.OK || got.Value != int64(7) {
		t.Fatalf("completion %+v", got)
	}
	if want := map[string]any{"type": "add", "element": int64(7)}; !reflect.DeepEqual(conn.calls[0], want) || conn.dests[0] != "n2" {
		t.Errorf("sent %v to %s", conn.calls[0], conn.dests[0])
	}
}

func TestClientRead(t *testing.T) {
	elems := []any{json.Number("1"), json.Number("7")}
	conn := &fakeConn{reply: answer(map[string]any{"type": "read_ok", "value": elems})}
	got := invoke(conn, history.Op{F: "read"})
	if got.Type != history.OK || !reflect.DeepEqual(got.Value, elems) {
		t.Fatalf("completion %+v", got)
	}
	if want := map[string]any{"type": "read"}; !reflect.DeepEqual(conn.calls[0], want) {
		t.Errorf("sent %v", conn.calls[0])
	}
}

// Maelstrom's g-set client raises on any error, timeout or schema
// violation, which Jepsen records as info: reads too (broadcast's reads
// fail instead).
func TestClientAnyErrorIsInfo(t *testing.T) {
	for name, reply := range map[string]func(map[string]any) (map[string]any, error){
		"timeout": func(map[string]any) (map[string]any, error) { return nil, workload.ErrTimeout },
		"definite error": func(map[string]any) (map[string]any, error) {
			return map[string]any{"type": "error"}, &workload.RPCError{Code: 11}
		},
		"elements key":    answer(map[string]any{"type": "read_ok", "elements": []any{}}),
		"extra key":       answer(map[string]any{"type": "read_ok", "value": []any{}, "extra": 1}),
		"value not list":  answer(map[string]any{"type": "read_ok", "value": "1,2"}),
		"add_ok with key": answer(map[string]any{"type": "add_ok", "element": 1}),
	} {
		for _, f := range []string{"add", "read"} {
			got := invoke(&fakeConn{reply: reply}, history.Op{F: f, Value: int64(1)})
			if f == "add" && strings.HasPrefix(name, "value") || f == "read" && name == "add_ok with key" {
				continue // not this f's reply
			}
			if got.Type != history.Info || got.Error == nil {
				t.Errorf("%s on %s: %s (error %v), want info", name, f, got.Type, got.Error)
			}
		}
	}
}

func TestGeneratorMixesInOrderElements(t *testing.T) {
	g := Workload.NewGenerator(workload.Options{}, nil)
	rng := rand.New(rand.NewPCG(3, 4))
	var next int64
	counts := map[string]int{}
	for i := range 2000 {
		op, st := g.Next(workload.GenContext{Thread: i % 3, Rand: rng})
		if st != workload.Ready {
			t.Fatalf("status %v", st)
		}
		counts[op.F]++
		if op.F == "add" {
			if op.Value != next {
				t.Fatalf("add %v, want %d", op.Value, next)
			}
			next++
		}
	}
	if counts["add"] < 900 || counts["read"] < 900 || len(counts) != 2 {
		t.Errorf("mix %v, want about half adds, half reads", counts)
	}
	fg := Workload.NewFinalGenerator(workload.Options{}, nil, nil)
	for thread := range 3 {
		if op, st := fg.Next(workload.GenContext{Thread: thread, Rand: rng}); st != workload.Ready || op.F != "read" {
			t.Fatalf("final op %+v %v", op, st)
		}
		if _, st := fg.Next(workload.GenContext{Thread: thread, Rand: rng}); st != workload.Exhausted {
			t.Fatalf("second final op for thread %d: %v", thread, st)
		}
	}
}

// steps builds a history; times are in milliseconds.
type steps struct{ h history.History }

func (s *steps) call(process int, f string, in, out any, invokeMs, okMs int64) *steps {
	ms := int64(time.Millisecond)
	s.h = append(s.h,
		history.Op{Index: len(s.h), Type: history.Invoke, Process: process, F: f, Value: in, Time: invokeMs * ms},
		history.Op{Index: len(s.h) + 1, Type: history.OK, Process: process, F: f, Value: out, Time: okMs * ms})
	return s
}

func TestCheck(t *testing.T) {
	ok := (&steps{}).
		call(0, "add", int64(0), int64(0), 0, 1).
		call(1, "read", nil, []any{}, 5, 6). // not there yet: stale
		call(1, "add", int64(1), int64(1), 10, 11).
		call(0, "read", nil, []any{json.Number("1"), json.Number("0")}, 50, 51).
		call(1, "read", nil, []any{json.Number("0"), json.Number("1")}, 60, 61).h
	res := Workload.Check(ok, workload.Options{})
	if res.Valid() != checker.Valid || res["stable-count"] != 2 || res["stale-count"] != 1 || res["lost-count"] != 0 {
		t.Fatalf("valid history: %v", res)
	}

	// The element 1 is acknowledged, seen, then missing from the last read
	// (a node that forgot it): lost.
	lost := (&steps{}).
		call(0, "add", int64(0), int64(0), 0, 1).
		call(1, "add", int64(1), int64(1), 2, 3).
		call(0, "read", nil, []any{json.Number("0"), json.Number("1")}, 10, 11).
		call(1, "read", nil, []any{json.Number("0")}, 20, 21).h
	res = Workload.Check(lost, workload.Options{})
	if res.Valid() != checker.Invalid || res["lost-count"] != 1 || !reflect.DeepEqual(res["lost"], []any{int64(1)}) {
		t.Fatalf("lost history: %v", res)
	}
	if fe, _ := res["first-error"].(string); !strings.HasPrefix(fe, "value 1 lost") {
		t.Errorf("first-error %q", fe)
	}

	// Invented elements fail the strict check, unless Maelstrom's verdicts
	// are asked for.
	invented := (&steps{}).
		call(0, "add", int64(0), int64(0), 0, 1).
		call(1, "read", nil, []any{json.Number("0"), json.Number("42")}, 10, 11).h
	res = Workload.Check(invented, workload.Options{})
	if res.Valid() != checker.Invalid || !strings.Contains(res["first-error"].(string), "unexpected [strict]: reads returned 1 value(s) nobody added, e.g. 42") {
		t.Errorf("invented: %v %v", res.Valid(), res["first-error"])
	}
	if res := Workload.Check(invented, workload.Options{MaelstromVerdicts: true}); res.Valid() != checker.Valid || res["unexpected-count"] != 1 {
		t.Errorf("invented, --maelstrom-verdicts: %v, unexpected-count %v", res.Valid(), res["unexpected-count"])
	}
}
