package echo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/workload"
)

func reply(v string) map[string]any {
	return map[string]any{"type": "echo_ok", "echo": v, "in_reply_to": 1}
}

func TestCheckAcceptsMatchingEchoes(t *testing.T) {
	h := history.History{
		{Type: history.Invoke, Process: 0, F: "echo", Value: "Please echo 1"},
		{Type: history.Invoke, Process: 1, F: "echo", Value: "Please echo 2"},
		{Type: history.OK, Process: 1, F: "echo", Value: reply("Please echo 2")},
		{Type: history.OK, Process: 0, F: "echo", Value: reply("Please echo 1")},
	}
	h.Reindex()
	res := Check(h)
	if res.Valid() != checker.Valid {
		t.Fatalf("valid history judged %v: %v", res.Valid(), res)
	}
	if _, ok := res["first-error"]; ok {
		t.Error("first-error set on a valid result")
	}
}

func TestCheckRejectsMismatchAndTimeouts(t *testing.T) {
	for name, completion := range map[string]history.Op{
		"mismatch": {Type: history.OK, Process: 0, F: "echo", Value: reply("Please echo 9")},
		// Maelstrom's checker compares (:echo value) for every pair, so
		// an info completion (timeout) is an error too.
		"timeout": {Type: history.Info, Process: 0, F: "echo", Value: "Please echo 1", Error: "net-timeout"},
	} {
		h := history.History{{Type: history.Invoke, Process: 0, F: "echo", Value: "Please echo 1"}, completion}
		h.Reindex()
		res := Check(h)
		if res.Valid() != checker.Invalid {
			t.Errorf("%s: judged %v, want invalid", name, res.Valid())
		}
		if errs := res["errors"].([]any); len(errs) != 1 {
			t.Errorf("%s: %d errors, want 1", name, len(errs))
		}
		if fe, _ := res["first-error"].(string); !strings.Contains(fe, "op 1") {
			t.Errorf("%s: first-error %q should name op 1", name, fe)
		}
	}
}

type fakeConn struct {
	reply map[string]any
	err   error
}

func (f fakeConn) ID() string { return "c9" }
func (f fakeConn) Call(_ context.Context, _ string, body map[string]any, _ time.Duration) (map[string]any, error) {
	if f.reply == nil && f.err == nil {
		return map[string]any{"type": "echo_ok", "echo": body["echo"], "in_reply_to": 1}, nil
	}
	return f.reply, f.err
}

func TestClientEnforcesReplySchema(t *testing.T) {
	op := history.Op{Type: history.Invoke, F: "echo", Value: "Please echo 3"}
	ok := Workload.NewClient(fakeConn{}, "n0", workload.Options{}).Invoke(context.Background(), op)
	if ok.Type != history.OK {
		t.Fatalf("good reply → %+v", ok)
	}
	bad := Workload.NewClient(fakeConn{reply: map[string]any{"type": "echo_ok", "echo": "x", "in_reply_to": 1, "extra": 1}}, "n0", workload.Options{}).Invoke(context.Background(), op)
	if bad.Type != history.Info {
		t.Errorf("reply with an extra key → %s, want info (malformed RPC response)", bad.Type)
	}
	to := Workload.NewClient(fakeConn{err: workload.ErrTimeout}, "n0", workload.Options{}).Invoke(context.Background(), op)
	if to.Type != history.Info || to.Error != "net-timeout" {
		t.Errorf("timeout → %+v, want info net-timeout", to)
	}
	e := Workload.NewClient(fakeConn{reply: map[string]any{"type": "error"}, err: &workload.RPCError{Code: 10}}, "n0", workload.Options{}).Invoke(context.Background(), op)
	if e.Type != history.Fail {
		t.Errorf("not-supported error → %s, want fail (definite)", e.Type)
	}
}
