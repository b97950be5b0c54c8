package workload

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/glomers/glomers/tools/workbench/history"
)

func TestCheckReply(t *testing.T) {
	cases := []struct {
		name string
		body string
		ok   bool
	}{
		{"exact", `{"type":"echo_ok","echo":"x","in_reply_to":1}`, true},
		{"with msg_id", `{"type":"echo_ok","echo":"x","in_reply_to":1,"msg_id":7}`, true},
		{"extra key", `{"type":"echo_ok","echo":"x","in_reply_to":1,"note":"hi"}`, false},
		{"missing field", `{"type":"echo_ok","in_reply_to":1}`, false},
		{"wrong type", `{"type":"echo","echo":"x","in_reply_to":1}`, false},
		{"null msg_id", `{"type":"echo_ok","echo":"x","in_reply_to":1,"msg_id":null}`, false},
		{"fractional msg_id", `{"type":"echo_ok","echo":"x","in_reply_to":1,"msg_id":1.5}`, false},
		{"string in_reply_to", `{"type":"echo_ok","echo":"x","in_reply_to":"1"}`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body map[string]any
			d := json.NewDecoder(strings.NewReader(c.body))
			d.UseNumber()
			if err := d.Decode(&body); err != nil {
				t.Fatal(err)
			}
			err := CheckReply(body, "echo_ok", "echo")
			if c.ok && err != nil {
				t.Errorf("CheckReply(%s) = %v, want nil", c.body, err)
			}
			if !c.ok && !errors.Is(err, ErrMalformedReply) {
				t.Errorf("CheckReply(%s) = %v, want ErrMalformedReply", c.body, err)
			}
		})
	}
}

func TestCompleteFollowsWithErrors(t *testing.T) {
	w := &Workload{Idempotent: map[string]bool{"read": true}}
	write := history.Op{F: "write"}
	read := history.Op{F: "read"}
	cases := []struct {
		name string
		op   history.Op
		err  error
		want history.Type
	}{
		{"success", write, nil, history.OK},
		{"definite error", write, &RPCError{Code: 22}, history.Fail},
		{"indefinite error", write, &RPCError{Code: 13}, history.Info},
		{"user code is indefinite", write, &RPCError{Code: 1000}, history.Info},
		{"indefinite error on idempotent f", read, &RPCError{Code: 13}, history.Fail},
		{"timeout", write, ErrTimeout, history.Info},
		{"timeout on idempotent f", read, ErrTimeout, history.Fail},
		{"malformed reply", write, ErrMalformedReply, history.Info},
	}
	for _, c := range cases {
		if got := w.Complete(c.op, nil, c.err).Type; got != c.want {
			t.Errorf("%s: Complete = %s, want %s", c.name, got, c.want)
		}
	}
}

func TestEachThreadOnceGivesEveryThreadOneOp(t *testing.T) {
	g := EachThreadOnce(history.Op{F: "read", Final: true})
	seen := map[int]int{}
	for _, thread := range []int{0, 1, 0, 2, 1, 2} {
		op, st := g.Next(GenContext{Thread: thread})
		if st == Ready {
			if op.F != "read" || !op.Final {
				t.Fatalf("thread %d got %+v, want the final read", thread, op)
			}
			seen[thread]++
		} else if st != Exhausted {
			t.Fatalf("thread %d: status %v, want Ready or Exhausted", thread, st)
		}
	}
	for thread := 0; thread < 3; thread++ {
		if seen[thread] != 1 {
			t.Errorf("thread %d got %d ops, want exactly 1", thread, seen[thread])
		}
	}
}
