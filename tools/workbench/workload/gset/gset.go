// Package gset is Maelstrom's g-set workload: a grow-only set. Clients send
// {"type":"add","element":v} with v = 0, 1, 2, … (in order across all
// threads) and {"type":"read"}, which answers with every element the node
// holds, about half and half; after the nemesis heals and the network has
// been quiet, every thread does one final read. The checker is Jepsen's
// set-full, the same as broadcast's (package setfull): every acknowledged
// add must eventually show up in every read, with the same lost, stale and
// never-read figures.
//
// Unlike broadcast, g-set's client does not use Maelstrom's with-errors:
// any error reply, timeout or malformed reply is an exception in
// Maelstrom's client, which Jepsen records as info, reads included.
package gset

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/workload"
	"github.com/glomers/glomers/tools/workbench/workload/setfull"
)

// Workload is the g-set workload. Clients are not reusable, as in
// Maelstrom.
var Workload = &workload.Workload{
	Name: "g-set",
	NewGenerator: func(_ workload.Options, _ *rand.Rand) workload.Generator {
		return &generator{}
	},
	// Maelstrom's final generator is (gen/each-thread {:f :read}); the
	// runner marks final-phase ops final.
	NewFinalGenerator: func(_ workload.Options, _ *rand.Rand, _ workload.Generator) workload.Generator {
		return workload.EachThreadOnce(history.Op{F: "read", Final: true})
	},
	NewClient: func(conn workload.Conn, node string, _ workload.Options) workload.Client {
		return &client{conn: conn, node: node}
	},
	Check: Check,
}

// Check is set-full with add in the role of adds, made strict about
// invented elements unless opts asks for Maelstrom's verdicts
// (setfull.Strict).
func Check(h history.History, opts workload.Options) checker.Result {
	return setfull.Strict(setfull.Check(h, "add"), opts, "added")
}

// generator mixes adds of 0, 1, 2, … with reads, choosing uniformly on
// every op like Jepsen's gen/mix.
type generator struct{ next int64 }

func (g *generator) Next(ctx workload.GenContext) (history.Op, workload.Status) {
	if ctx.Rand.IntN(2) == 0 {
		v := g.next
		g.next++
		return history.Op{F: "add", Value: v}, workload.Ready
	}
	return history.Op{F: "read"}, workload.Ready
}

func (g *generator) Update(workload.GenContext, history.Op, history.Op) {}

type client struct {
	conn workload.Conn
	node string
}

// Invoke performs an add (ok value: the element) or a read (ok value: the
// set as the node returned it). Replies must match Maelstrom's closed
// schemas: add_ok has no fields, read_ok exactly value, which must be a
// list.
func (c *client) Invoke(ctx context.Context, op history.Op) history.Op {
	done := op
	fail := func(err error) history.Op {
		done.Type = history.Info
		done.Error = err.Error()
		return done
	}
	switch op.F {
	case "add":
		reply, err := c.conn.Call(ctx, c.node, map[string]any{"type": "add", "element": op.Value}, 0)
		if err == nil {
			err = workload.CheckReply(reply, "add_ok")
		}
		if err != nil {
			return fail(fmt.Errorf("add %v: %w", op.Value, err))
		}
		done.Type = history.OK
		return done
	case "read":
		reply, err := c.conn.Call(ctx, c.node, map[string]any{"type": "read"}, 0)
		if err == nil {
			err = workload.CheckReply(reply, "read_ok", "value")
		}
		if err != nil {
			return fail(fmt.Errorf("read: %w", err))
		}
		elements, ok := reply["value"].([]any)
		if !ok {
			return fail(fmt.Errorf("read: %w: read_ok value is %T, not a list", workload.ErrMalformedReply, reply["value"]))
		}
		done.Type = history.OK
		done.Value = elements
		return done
	}
	return fail(fmt.Errorf("unknown op %q", op.F))
}
