// Package echo is Maelstrom's echo workload: clients send
// {"type":"echo","echo":"Please echo <r>"} and expect echo_ok carrying the
// same payload back.
package echo

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// Workload is the echo workload. Its clients are not reusable: after an
// info completion the client is replaced, as in Maelstrom.
var Workload = &workload.Workload{
	Name:         "echo",
	Doc:          Doc,
	NewGenerator: func(_ workload.Options, _ *rand.Rand) workload.Generator { return generator{} },
	NewClient: func(conn workload.Conn, node string, _ workload.Options) workload.Client {
		return &client{conn: conn, node: node}
	},
	Check: func(h history.History, _ workload.Options) checker.Result { return Check(h) },
}

// generator endlessly asks every thread to echo "Please echo <0..127>".
type generator struct{}

func (generator) Next(ctx workload.GenContext) (history.Op, workload.Status) {
	return history.Op{F: "echo", Value: fmt.Sprintf("Please echo %d", ctx.Rand.IntN(128))}, workload.Ready
}

func (generator) Update(workload.GenContext, history.Op, history.Op) {}

type client struct {
	conn workload.Conn
	node string
}

// Invoke sends one echo. The ok value is the whole reply body, as
// Maelstrom records it.
func (c *client) Invoke(ctx context.Context, op history.Op) history.Op {
	reply, err := c.conn.Call(ctx, c.node, map[string]any{"type": "echo", "echo": op.Value}, 0)
	if err == nil {
		err = workload.CheckReply(reply, "echo_ok", "echo")
	}
	return Workload.Complete(op, reply, err)
}

// Check pairs every echo invocation with its completion: the completion's
// value must be a reply whose echo equals what was sent. Like Maelstrom's
// checker this also flags invocations that did not complete ok (their
// value carries no echo).
func Check(h history.History) checker.Result {
	var errs []any
	first := ""
	for _, p := range h.Pairs() {
		if p.Invoke.F != "echo" {
			continue
		}
		var got any
		if p.Completion != nil {
			if body, ok := p.Completion.Value.(map[string]any); ok {
				got = body["echo"]
			}
		}
		if p.Completion != nil && p.Completion.Type == history.OK && sameValue(got, p.Invoke.Value) {
			continue
		}
		var received any
		if p.Completion != nil {
			received = p.Completion.Value
		}
		errs = append(errs, []any{"Expected a message with :echo", p.Invoke.Value, "But received", received})
		if first == "" {
			first = describe(p)
		}
	}
	res := checker.Result{"valid?": checker.Of(len(errs) == 0), "errors": errs}
	if errs == nil {
		res["errors"] = []any{}
	}
	if first != "" {
		res["first-error"] = first
	}
	return res
}

func describe(p history.Pair) string {
	if p.Completion == nil {
		return fmt.Sprintf("op %d (process %d) echo %q never completed", p.Invoke.Index, p.Invoke.Process, p.Invoke.Value)
	}
	c := p.Completion
	if c.Type != history.OK {
		return fmt.Sprintf("op %d (process %d) echo %q completed %s with error %v", c.Index, c.Process, p.Invoke.Value, c.Type, c.Error)
	}
	got, err := json.Marshal(c.Value)
	if err != nil {
		got = []byte(fmt.Sprint(c.Value))
	}
	return fmt.Sprintf("op %d (process %d) sent echo %q but received %s", c.Index, c.Process, p.Invoke.Value, got)
}

// sameValue compares a JSON value read back from a reply with the value
// sent, by their canonical forms (numbers may differ in Go type).
func sameValue(a, b any) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	return history.Key(a) == history.Key(b)
}
