package broadcast

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// fakeConn answers every call with reply(dest, body).
type fakeConn struct {
	calls []map[string]any
	dests []string
	reply func(dest string, body map[string]any) (map[string]any, error)
}

func (c *fakeConn) ID() string { return "c9" }

func (c *fakeConn) Call(_ context.Context, dest string, body map[string]any, _ time.Duration) (map[string]any, error) {
	c.calls = append(c.calls, body)
	c.dests = append(c.dests, dest)
	return c.reply(dest, body)
}

func answer(body map[string]any) func(string, map[string]any) (map[string]any, error) {
	return func(string, map[string]any) (map[string]any, error) {
		b := map[string]any{"in_reply_to": json.Number("1")}
		for k, v := range body {
			b[k] = v
		}
		return b, nil
	}
}

func invoke(t *testing.T, conn *fakeConn, op history.Op) history.Op {
	t.Helper()
	return Workload.NewClient(conn, "n3", workload.Options{}).Invoke(context.Background(), op)
}

func TestClientBroadcast(t *testing.T) {
	conn := &fakeConn{reply: answer(map[string]any{"type": "broadcast_ok", "msg_id": json.Number("4")})}
	got := invoke(t, conn, history.Op{Type: history.Invoke, F: "broadcast", Value: int64(7)})
	if got.Type != history.OK || got.Value != int64(7) {
		t.Fatalf("completion %+v", got)
	}
	if want := map[string]any{"type": "broadcast", "message": int64(7)}; !reflect.DeepEqual(conn.calls[0], want) || conn.dests[0] != "n3" {
		t.Errorf("sent %v to %s", conn.calls[0], conn.dests[0])
	}
}

func TestClientRejectsExtraKeys(t *testing.T) {
	conn := &fakeConn{reply: answer(map[string]any{"type": "broadcast_ok", "message": json.Number("7")})}
	got := invoke(t, conn, history.Op{Type: history.Invoke, F: "broadcast", Value: int64(7)})
	if got.Type != history.Info {
		t.Errorf("broadcast_ok with an extra key: %s, want info (malformed reply)", got.Type)
	}
	conn = &fakeConn{reply: answer(map[string]any{"type": "read_ok", "messages": []any{}, "extra": true})}
	if got := invoke(t, conn, history.Op{Type: history.Invoke, F: "read"}); got.Type != history.Info {
		t.Errorf("read_ok with an extra key: %s, want info", got.Type)
	}
	conn = &fakeConn{reply: answer(map[string]any{"type": "read_ok", "messages": "1,2"})}
	if got := invoke(t, conn, history.Op{Type: history.Invoke, F: "read"}); got.Type != history.Info {
		t.Errorf("read_ok with a string for messages: %s, want info", got.Type)
	}
}

func TestClientRead(t *testing.T) {
	msgs := []any{json.Number("1"), json.Number("1"), json.Number("2")}
	conn := &fakeConn{reply: answer(map[string]any{"type": "read_ok", "messages": msgs})}
	got := invoke(t, conn, history.Op{Type: history.Invoke, F: "read"})
	if got.Type != history.OK || !reflect.DeepEqual(got.Value, msgs) {
		t.Fatalf("completion %+v", got)
	}
}

func TestClientErrorsFollowWithErrors(t *testing.T) {
	conn := &fakeConn{reply: func(string, map[string]any) (map[string]any, error) { return nil, workload.ErrTimeout }}
	if got := invoke(t, conn, history.Op{Type: history.Invoke, F: "read"}); got.Type != history.Fail {
		t.Errorf("timed-out read: %s, want fail (reads are idempotent)", got.Type)
	}
	if got := invoke(t, conn, history.Op{Type: history.Invoke, F: "broadcast", Value: int64(1)}); got.Type != history.Info {
		t.Errorf("timed-out broadcast: %s, want info", got.Type)
	}
	conn.reply = func(string, map[string]any) (map[string]any, error) {
		return map[string]any{"type": "error"}, &workload.RPCError{Code: 13, Text: "boom"}
	}
	if got := invoke(t, conn, history.Op{Type: history.Invoke, F: "broadcast", Value: int64(1)}); got.Type != history.Info {
		t.Errorf("crash error on broadcast: %s, want info", got.Type)
	}
}

func TestSetupSendsWholeTopologyToEveryNode(t *testing.T) {
	conn := &fakeConn{reply: answer(map[string]any{"type": "topology_ok"})}
	opts := workload.Options{Nodes: nodeIDs(5), Topology: "line"}
	if err := Workload.Setup(context.Background(), opts, conn); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(conn.dests, opts.Nodes) {
		t.Fatalf("topology sent to %v", conn.dests)
	}
	for _, body := range conn.calls {
		topo := body["topology"].(map[string]any)
		if body["type"] != "topology" || len(topo) != 5 || !reflect.DeepEqual(topo["n2"], []string{"n1", "n3"}) {
			t.Errorf("topology body %v", body)
		}
	}
	conn = &fakeConn{reply: answer(map[string]any{"type": "topology_ok", "note": "hi"})}
	if err := Workload.Setup(context.Background(), opts, conn); !errors.Is(err, workload.ErrMalformedReply) {
		t.Errorf("topology_ok with an extra key: err %v", err)
	}
	if err := Workload.Setup(context.Background(), workload.Options{Nodes: nodeIDs(2), Topology: "ring"}, conn); err == nil {
		t.Error("unknown topology accepted")
	}
}

func TestGeneratorMixesInOrderValues(t *testing.T) {
	g := Workload.NewGenerator(workload.Options{}, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	var next int64
	counts := map[string]int{}
	for i := range 2000 {
		op, st := g.Next(workload.GenContext{Thread: i % 5, Rand: rng})
		if st != workload.Ready {
			t.Fatalf("status %v", st)
		}
		counts[op.F]++
		if op.F == "broadcast" {
			if op.Value != next {
				t.Fatalf("broadcast %v, want %d", op.Value, next)
			}
			next++
		}
	}
	if counts["broadcast"] < 900 || counts["read"] < 900 {
		t.Errorf("mix %v, want about half each", counts)
	}
	fg := Workload.NewFinalGenerator(workload.Options{}, nil, nil)
	for thread := range 3 {
		op, st := fg.Next(workload.GenContext{Thread: thread, Rand: rng})
		if st != workload.Ready || op.F != "read" || !op.Final {
			t.Fatalf("final op %+v %v", op, st)
		}
		if _, st := fg.Next(workload.GenContext{Thread: thread, Rand: rng}); st != workload.Exhausted {
			t.Fatalf("second final op for thread %d: %v", thread, st)
		}
	}
}
