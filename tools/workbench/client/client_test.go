package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/client"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/network"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// fakeNode answers each request on n0 with reply(body), until ctx ends.
func fakeNode(ctx context.Context, t *testing.T, net *network.Network, reply func(req map[string]any) []map[string]any) {
	in := net.Join("n0")
	go func() {
		for {
			m, err := in.Recv(ctx)
			if err != nil {
				return
			}
			var req map[string]any
			d := json.NewDecoder(bytes.NewReader(m.Body))
			d.UseNumber()
			d.Decode(&req)
			for _, r := range reply(req) {
				b, _ := json.Marshal(r)
				net.Send("n0", m.Src, b)
			}
		}
	}()
}

func TestIDsAndMsgIDs(t *testing.T) {
	net := network.New(network.Config{})
	pool := client.NewPool(net, time.Second)
	a, b := pool.Open(), pool.Open()
	if a.ID() != "c0" || b.ID() != "c1" {
		t.Fatalf("ids %s %s, want c0 c1", a.ID(), b.ID())
	}
	a.Close()
	if c := pool.Open(); c.ID() != "c2" {
		t.Errorf("after closing c0 the next id is %s, want c2 (ids are never reused)", c.ID())
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var seen []string
	fakeNode(ctx, t, net, func(req map[string]any) []map[string]any {
		seen = append(seen, req["msg_id"].(json.Number).String())
		return []map[string]any{{"type": "echo_ok", "in_reply_to": req["msg_id"]}}
	})
	for i := 0; i < 3; i++ {
		if _, err := b.Call(ctx, "n0", map[string]any{"type": "echo"}, 0); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"1", "2", "3"}; len(seen) != 3 || seen[0] != want[0] || seen[2] != want[2] {
		t.Errorf("msg_ids %v, want %v", seen, want)
	}
}

func TestErrorTimeoutAndLateReplies(t *testing.T) {
	net := network.New(network.Config{})
	pool := client.NewPool(net, 100*time.Millisecond)
	c := pool.Open()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fakeNode(ctx, t, net, func(req map[string]any) []map[string]any {
		switch req["type"] {
		case "err":
			return []map[string]any{{"type": "error", "in_reply_to": req["msg_id"], "code": 22, "text": "nope", "extra": 1}}
		case "weird":
			return []map[string]any{{"type": "error", "in_reply_to": req["msg_id"], "code": 1001}}
		case "silent":
			return nil
		case "late":
			// A stale reply to msg 1 arrives first; Call must skip it.
			return []map[string]any{
				{"type": "x_ok", "in_reply_to": 1},
				{"type": "x_ok", "in_reply_to": req["msg_id"], "v": 7},
			}
		}
		return nil
	})

	w := &workload.Workload{Name: "t", Idempotent: map[string]bool{"read": true}}
	op := history.Op{Type: history.Invoke, F: "write", Value: 1}

	reply, err := c.Call(ctx, "n0", map[string]any{"type": "err"}, 0)
	var rpc *client.RPCError
	if !errors.As(err, &rpc) || rpc.Code != 22 || rpc.Text != "nope" || reply["extra"] == nil {
		t.Fatalf("error reply: %v %v", reply, err)
	}
	if got := w.Complete(op, nil, err); got.Type != history.Fail {
		t.Errorf("definite error 22 → %s, want fail", got.Type)
	}

	_, err = c.Call(ctx, "n0", map[string]any{"type": "weird"}, 0)
	if got := w.Complete(op, nil, err); got.Type != history.Info {
		t.Errorf("unknown code 1001 on a non-idempotent op → %s, want info", got.Type)
	}
	if got := w.Complete(history.Op{F: "read"}, nil, err); got.Type != history.Fail {
		t.Errorf("unknown code on an idempotent op → %s, want fail", got.Type)
	}

	start := time.Now()
	_, err = c.Call(ctx, "n0", map[string]any{"type": "silent"}, 0)
	if !errors.Is(err, client.ErrTimeout) {
		t.Fatalf("silent node: %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d < 90*time.Millisecond || d > time.Second {
		t.Errorf("timeout took %v, want ≈100ms", d)
	}
	if got := w.Complete(op, nil, err); got.Type != history.Info || got.Error != "net-timeout" {
		t.Errorf("timeout → %+v, want info net-timeout", got)
	}

	reply, err = c.Call(ctx, "n0", map[string]any{"type": "late"}, 0)
	if err != nil || reply["v"] != json.Number("7") {
		t.Errorf("late reply handling: %v %v, want the reply with v=7", reply, err)
	}

	c.Close()
	if _, err := c.Call(ctx, "n0", map[string]any{"type": "x"}, 0); err == nil {
		t.Error("call on a closed client succeeded")
	}
	if _, err := pool.Open().Call(ctx, "n9", map[string]any{"type": "x"}, 0); err == nil || errors.Is(err, client.ErrTimeout) {
		t.Errorf("call to an unknown node = %v, want an immediate send error", err)
	}
}
