package analysis

import (
	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/network"
)

// Net computes Maelstrom's :net result from a network journal: send,
// receive and message counts for all traffic, for traffic touching a
// client, and for traffic between servers (services included).
// msgs-per-op divides by opCount, the number of client invocations, and is
// left out when that is zero, as Maelstrom does.
func Net(journal []network.Event, opCount int) checker.Result {
	type counts struct{ send, recv, msgs int }
	var all, clients, servers counts
	add := func(c *counts, e network.Event) {
		if e.Kind == network.Send {
			c.send++
			c.msgs++ // every send has a fresh id
		} else {
			c.recv++
		}
	}
	for _, e := range journal {
		add(&all, e)
		if network.IsClient(e.Msg.Src) || network.IsClient(e.Msg.Dest) {
			add(&clients, e)
		} else {
			add(&servers, e)
		}
	}
	res := func(c counts, perOp bool) map[string]any {
		m := map[string]any{"send-count": c.send, "recv-count": c.recv, "msg-count": c.msgs}
		if perOp && opCount > 0 {
			m["msgs-per-op"] = float64(c.msgs) / float64(opCount)
		}
		return m
	}
	return checker.Result{
		"all":     res(all, true),
		"clients": res(clients, false),
		"servers": res(servers, true),
		"valid?":  checker.Valid,
	}
}
