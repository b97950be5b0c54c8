// Package counter holds Maelstrom's g-counter and pn-counter workloads:
// clients add integer deltas ({"type":"add","delta":d} → add_ok) and read
// the total ({"type":"read"} → read_ok with an integer value), mixed about
// half and half; after the test each thread does one final read. The
// checker accepts a final read if it equals the sum of all acknowledged
// adds plus any subset of the adds whose outcome is unknown. Reads before
// the final phase are never judged: the counter only has to converge.
package counter

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// GCounter is the grow-only counter workload: deltas 0…4.
var GCounter = newWorkload("g-counter", 0)

// PNCounter allows decrements: deltas −5…4.
var PNCounter = newWorkload("pn-counter", -5)

func newWorkload(name string, minDelta int) *workload.Workload {
	w := &workload.Workload{
		Name:    name,
		Doc:     Doc,
		Summary: workload.Summary{Figures: summaryFigures},
		NewGenerator: func(_ workload.Options, _ *rand.Rand) workload.Generator {
			return &generator{minDelta: minDelta}
		},
		NewFinalGenerator: func(_ workload.Options, _ *rand.Rand, _ workload.Generator) workload.Generator {
			return workload.EachThreadOnce(history.Op{F: "read", Final: true})
		},
		Check: func(h history.History, _ workload.Options) checker.Result { return Check(h) },
	}
	w.NewClient = func(conn workload.Conn, node string, _ workload.Options) workload.Client {
		return &client{conn: conn, node: node}
	}
	return w
}

// generator picks add or read with equal odds on every op, like gen/mix.
type generator struct{ minDelta int }

func (g *generator) Next(ctx workload.GenContext) (history.Op, workload.Status) {
	if ctx.Rand.IntN(2) == 0 {
		// Maelstrom draws (rand-int 10) - 5; the g-counter drops negative
		// draws, which leaves 0…4 uniform.
		return history.Op{F: "add", Value: g.minDelta + ctx.Rand.IntN(5-g.minDelta)}, workload.Ready
	}
	return history.Op{F: "read"}, workload.Ready
}

func (g *generator) Update(workload.GenContext, history.Op, history.Op) {}

type client struct {
	conn workload.Conn
	node string
}

// Invoke performs an add or a read. These workloads do not classify errors
// the way the others do: any error reply, timeout or malformed reply is an
// exception in Maelstrom's client, recorded as info.
func (c *client) Invoke(ctx context.Context, op history.Op) history.Op {
	done := op
	fail := func(err error) history.Op {
		done.Type = history.Info
		done.Error = err.Error()
		return done
	}
	switch op.F {
	case "add":
		reply, err := c.conn.Call(ctx, c.node, map[string]any{"type": "add", "delta": op.Value}, 0)
		if err == nil {
			err = workload.CheckReply(reply, "add_ok")
		}
		if err != nil {
			return fail(err)
		}
		done.Type = history.OK
		return done
	case "read":
		reply, err := c.conn.Call(ctx, c.node, map[string]any{"type": "read"}, 0)
		if err == nil {
			err = workload.CheckReply(reply, "read_ok", "value")
		}
		if err != nil {
			return fail(err)
		}
		v, ok := history.Int(reply["value"])
		if !ok {
			return fail(fmt.Errorf("%w: read_ok value %v is not an integer", workload.ErrMalformedReply, reply["value"]))
		}
		done.Type = history.OK
		done.Value = v
		return done
	}
	return fail(fmt.Errorf("unknown op %q", op.F))
}

// Interval is a closed range of integers [Lo, Hi].
type Interval struct{ Lo, Hi int64 }

// Acceptable returns the totals a counter may have after h: the sum of ok
// adds, plus any subset of the info adds, as disjoint sorted intervals.
// Adjacent integers merge, as Maelstrom's range set does.
func Acceptable(h history.History) []Interval {
	var sum int64
	var unknown []int64
	for _, op := range h {
		if op.F != "add" || !op.IsClient() {
			continue
		}
		d, ok := history.Int(op.Value)
		if !ok {
			continue
		}
		switch op.Type {
		case history.OK:
			sum += d
		case history.Info:
			unknown = append(unknown, d)
		}
	}
	set := []Interval{{sum, sum}}
	for _, d := range unknown {
		shifted := make([]Interval, len(set))
		for i, r := range set {
			shifted[i] = Interval{r.Lo + d, r.Hi + d}
		}
		set = union(set, shifted)
	}
	return set
}

// union merges two interval lists into sorted, disjoint, non-adjacent
// intervals.
func union(a, b []Interval) []Interval {
	all := append(append([]Interval(nil), a...), b...)
	sort.Slice(all, func(i, j int) bool { return all[i].Lo < all[j].Lo })
	var out []Interval
	for _, r := range all {
		if n := len(out); n > 0 && r.Lo <= out[n-1].Hi+1 {
			if r.Hi > out[n-1].Hi {
				out[n-1].Hi = r.Hi
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

func contains(set []Interval, v int64) bool {
	for _, r := range set {
		if r.Lo <= v && v <= r.Hi {
			return true
		}
	}
	return false
}

// Check judges the final ok reads against Acceptable(h). The result has
// Maelstrom's keys: valid?, errors (the offending reads, nil if none),
// final-reads and acceptable ([[lo hi] …]).
func Check(h history.History) checker.Result {
	acceptable := Acceptable(h)
	var errs []any
	finalReads := []any{}
	first := ""
	for _, op := range h {
		if !op.IsClient() || op.F != "read" || !op.Final || op.Type != history.OK {
			continue
		}
		v, ok := history.Int(op.Value)
		finalReads = append(finalReads, op.Value)
		if ok && contains(acceptable, v) {
			continue
		}
		errs = append(errs, op.Render())
		if first == "" {
			first = fmt.Sprintf("op %d (process %d, node %s): final read %v is not an acceptable total %v",
				op.Index, op.Process, op.Node, op.Value, render(acceptable))
		}
	}
	res := checker.Result{
		"valid?":      checker.Of(len(errs) == 0),
		"errors":      nil,
		"final-reads": finalReads,
		"acceptable":  render(acceptable),
	}
	if len(errs) > 0 {
		res["errors"] = errs
		res["first-error"] = first
	}
	return res
}

func render(set []Interval) []any {
	out := make([]any, len(set))
	for i, r := range set {
		out[i] = []any{r.Lo, r.Hi}
	}
	return out
}

// summaryFigures: the final reads, which the checker judges.
func summaryFigures(r workload.Results) []string {
	if v, ok := r.Get("workload", "final-reads"); ok {
		return []string{"final reads " + workload.Brief(v)}
	}
	return nil
}
