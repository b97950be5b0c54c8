// Package gset is Maelstrom's g-set workload: a grow-only set. Clients send
// {"type":"add","element":v} with v = 0, 1, 2, … (in order across all
// threads) and {"type":"read"}, which answers with every element the node
// holds, about half and half; after the nemesis heals and the network has
// been quiet, every thread does one final read. The checker is Jepsen's
// set-full, the same as broadcast's (package setfull): every acknowledged
// add must eventually show up in every read, with the same lost, stale and
// never-read figures, and the same strict check on elements that reads
// return but nobody added (unexpected).
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
	Name:    "g-set",
	Doc:     Doc,
	Summary: workload.Summary{Figures: summaryFigures, StableLatency: "stable-latencies"},
	Strict:  StrictChecks,
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
	Check: func(h history.History, opts workload.Options) checker.Result {
		return setfull.Strict(setfull.Check(h, "add"), opts, "added")
	},
}

// StrictChecks are g-set's checks beyond Maelstrom's (set-full): the same
// as broadcast's.
var StrictChecks = []workload.StrictCheck{{
	Name:      "unexpected",
	Defect:    "reads return elements nobody added (the node invents or corrupts elements)",
	Maelstrom: "Jepsen's set-full ignores elements that were never added: valid as long as the real ones all arrive",
	Fixture:   "gset-extra",
}}

// summaryFigures are g-set's figures in the summary line: stable latency,
// lost elements, and invented ones when there are any.
func summaryFigures(r workload.Results) []string {
	var out []string
	p50, ok50 := r.Quantile("stable-latencies", 0.5)
	mx, okMax := r.Quantile("stable-latencies", 1)
	if ok50 && okMax {
		out = append(out, fmt.Sprintf("stable p50/max %s/%s ms", workload.FmtFig(p50), workload.FmtFig(mx)))
	}
	if n, ok := r.Num("workload", "lost-count"); ok {
		out = append(out, fmt.Sprintf("lost %d", int64(n)))
	}
	if n, ok := r.Num("workload", "unexpected-count"); ok && n > 0 {
		out = append(out, fmt.Sprintf("unexpected %d (strict)", int64(n)))
	}
	return out
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
