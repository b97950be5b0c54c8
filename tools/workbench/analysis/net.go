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
	var t NetTally
	for _, e := range journal {
		t.Add(e)
	}
	return t.Result(opCount)
}

// NetTally counts journal events one at a time, for a run that streams its
// journal to disk instead of keeping it (network.JournalFile.Observe).
type NetTally struct{ all, clients, servers netCounts }

type netCounts struct{ send, recv, msgs int }

// Add counts one event.
func (t *NetTally) Add(e network.Event) {
	add := func(c *netCounts) {
		if e.Kind == network.Send {
			c.send++
			c.msgs++ // every send has a fresh id
		} else {
			c.recv++
		}
	}
	add(&t.all)
	if network.IsClient(e.Msg.Src) || network.IsClient(e.Msg.Dest) {
		add(&t.clients)
	} else {
		add(&t.servers)
	}
}

// Result is the :net result of the events counted so far (see Net).
func (t *NetTally) Result(opCount int) checker.Result {
	res := func(c netCounts, perOp bool) map[string]any {
		m := map[string]any{"send-count": c.send, "recv-count": c.recv, "msg-count": c.msgs}
		if perOp && opCount > 0 {
			m["msgs-per-op"] = float64(c.msgs) / float64(opCount)
		}
		return m
	}
	return checker.Result{
		"all":     res(t.all, true),
		"clients": res(t.clients, false),
		"servers": res(t.servers, true),
		"valid?":  checker.Valid,
	}
}
