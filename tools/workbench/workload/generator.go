package workload

import "github.com/glomers/glomers/tools/workbench/history"

// EachThreadOnce gives every thread exactly one copy of op and is then
// exhausted for that thread, like Jepsen's (gen/each-thread (gen/once op)):
// the final read of broadcast and the counters.
func EachThreadOnce(op history.Op) Generator {
	return &eachThreadOnce{op: op, done: map[int]bool{}}
}

type eachThreadOnce struct {
	op   history.Op
	done map[int]bool
}

func (g *eachThreadOnce) Next(ctx GenContext) (history.Op, Status) {
	if g.done[ctx.Thread] {
		return history.Op{}, Exhausted
	}
	g.done[ctx.Thread] = true
	return g.op, Ready
}

func (g *eachThreadOnce) Update(GenContext, history.Op, history.Op) {}
