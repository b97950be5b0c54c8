// Package broadcast is Maelstrom's broadcast workload (Gossip Glomers
// challenge 3). Before the test every node is told the whole topology map;
// then clients send {"type":"broadcast","message":v} with v = 0, 1, 2, …
// and {"type":"read"} about half and half, and after the nemesis heals and
// the network has been quiet, every thread does one final read. The
// checker is Jepsen's set-full: every acknowledged value must eventually
// show up in every read, and the time it takes is the stable latency.
package broadcast

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// Workload is the broadcast workload. Reads are idempotent (a timed-out
// read definitely changed nothing); clients are not reusable.
var Workload = &workload.Workload{
	Name:       "broadcast",
	Doc:        Doc,
	Summary:    workload.Summary{LatencyF: "broadcast", Figures: summaryFigures, StableLatency: "stable-latencies"},
	Strict:     StrictChecks,
	Idempotent: map[string]bool{"read": true},
	Setup:      setup,
	NewGenerator: func(_ workload.Options, _ *rand.Rand) workload.Generator {
		return &generator{}
	},
	NewFinalGenerator: func(_ workload.Options, _ *rand.Rand, _ workload.Generator) workload.Generator {
		return workload.EachThreadOnce(history.Op{F: "read", Final: true})
	},
	NewClient: func(conn workload.Conn, node string, _ workload.Options) workload.Client {
		return &client{conn: conn, node: node}
	},
	Check: func(h history.History, opts workload.Options) checker.Result { return Strict(Check(h), opts) },
}

// setup tells every node the whole topology map, as each of Maelstrom's
// per-node setup clients does, and insists on topology_ok.
func setup(ctx context.Context, opts workload.Options, conn workload.Conn) error {
	topo, err := Topology(opts.Topology, opts.Nodes)
	if err != nil {
		return err
	}
	wire := make(map[string]any, len(topo))
	for node, nbs := range topo {
		wire[node] = nbs
	}
	for _, node := range opts.Nodes {
		reply, err := conn.Call(ctx, node, map[string]any{"type": "topology", "topology": wire}, 0)
		if err == nil {
			err = workload.CheckReply(reply, "topology_ok")
		}
		if err != nil {
			return fmt.Errorf("topology to %s: %w", node, err)
		}
	}
	return nil
}

// generator mixes broadcasts of 0, 1, 2, … (in order across all threads)
// with reads, choosing uniformly on every op like Jepsen's gen/mix.
type generator struct{ next int64 }

func (g *generator) Next(ctx workload.GenContext) (history.Op, workload.Status) {
	if ctx.Rand.IntN(2) == 0 {
		v := g.next
		g.next++
		return history.Op{F: "broadcast", Value: v}, workload.Ready
	}
	return history.Op{F: "read"}, workload.Ready
}

func (g *generator) Update(workload.GenContext, history.Op, history.Op) {}

type client struct {
	conn workload.Conn
	node string
}

// Invoke performs a broadcast (ok value: the value sent) or a read (ok
// value: the messages list as the node returned it, duplicates and all).
// Replies must match Maelstrom's closed schemas: broadcast_ok has no
// fields, read_ok exactly messages, which must be a list.
func (c *client) Invoke(ctx context.Context, op history.Op) history.Op {
	switch op.F {
	case "broadcast":
		reply, err := c.conn.Call(ctx, c.node, map[string]any{"type": "broadcast", "message": op.Value}, 0)
		if err == nil {
			err = workload.CheckReply(reply, "broadcast_ok")
		}
		return Workload.Complete(op, op.Value, err)
	case "read":
		reply, err := c.conn.Call(ctx, c.node, map[string]any{"type": "read"}, 0)
		if err == nil {
			err = workload.CheckReply(reply, "read_ok", "messages")
		}
		var messages []any
		if err == nil {
			var ok bool
			if messages, ok = reply["messages"].([]any); !ok {
				err = fmt.Errorf("%w: read_ok messages is %T, not a list", workload.ErrMalformedReply, reply["messages"])
			}
		}
		if messages == nil {
			messages = []any{}
		}
		return Workload.Complete(op, messages, err)
	}
	done := op
	done.Type = history.Info
	done.Error = fmt.Sprintf("unknown op %q", op.F)
	return done
}

// summaryFigures are broadcast's figures in the summary line: the node's
// own share of a broadcast's latency (delivery to reply, net.service-times),
// stable and dissemination latencies, and lost values (with invented and
// duplicated ones when there are any).
func summaryFigures(r workload.Results) []string {
	var out []string
	p50, ok50 := r.Num("net", "service-times", "broadcast", "0.5")
	p99, ok99 := r.Num("net", "service-times", "broadcast", "0.99")
	if ok50 && ok99 {
		out = append(out, fmt.Sprintf("at the node p50/p99 %s/%s ms", workload.FmtFig(p50), workload.FmtFig(p99)))
	}
	for _, k := range []struct{ key, label string }{{"stable-latencies", "stable"}, {"dissemination-latencies", "dissemination"}} {
		p50, ok50 := r.Quantile(k.key, 0.5)
		mx, okMax := r.Quantile(k.key, 1)
		if ok50 && okMax {
			out = append(out, fmt.Sprintf("%s p50/max %s/%s ms", k.label, workload.FmtFig(p50), workload.FmtFig(mx)))
		}
	}
	for _, k := range []struct{ key, label string }{{"lost-count", "lost"}, {"unexpected-count", "unexpected"}, {"duplicated-count", "duplicated"}} {
		if n, ok := r.Num("workload", k.key); ok && (n > 0 || k.key == "lost-count") {
			phrase := fmt.Sprintf("%s %d", k.label, int64(n))
			if k.key == "unexpected-count" {
				phrase += " (strict)"
			}
			out = append(out, phrase)
		}
	}
	return out
}
