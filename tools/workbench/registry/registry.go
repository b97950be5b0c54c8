// Package registry is the workbench's table of workloads by name. Each
// workload package adds one line to the map below; everything else the CLI
// shows of a workload (its doc, its summary figures, its strict checks)
// comes from the Workload value itself.
package registry

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sort"

	"github.com/glomers/glomers/tools/workbench/network"
	"github.com/glomers/glomers/tools/workbench/service"
	"github.com/glomers/glomers/tools/workbench/workload"
	"github.com/glomers/glomers/tools/workbench/workload/broadcast"
	"github.com/glomers/glomers/tools/workbench/workload/counter"
	"github.com/glomers/glomers/tools/workbench/workload/echo"
	"github.com/glomers/glomers/tools/workbench/workload/gset"
	"github.com/glomers/glomers/tools/workbench/workload/kafka"
	"github.com/glomers/glomers/tools/workbench/workload/linkv"
	"github.com/glomers/glomers/tools/workbench/workload/txn"
	"github.com/glomers/glomers/tools/workbench/workload/uniqueids"
)

var workloads = map[string]*workload.Workload{
	"broadcast":       broadcast.Workload,
	"echo":            echo.Workload,
	"g-set":           gset.Workload,
	"g-counter":       counter.GCounter,
	"pn-counter":      counter.PNCounter,
	"kafka":           kafka.Workload,
	"lin-kv":          linkv.Workload,
	"unique-ids":      uniqueids.Workload,
	"txn-rw-register": txn.RWRegister,
	"txn-list-append": txn.ListAppend,
}

// Topologies lists the --topology names Maelstrom accepts (whichever the
// workload; broadcast is the one that reads it).
func Topologies() []string { return broadcast.Topologies }

// Lookup finds a workload by its Maelstrom name.
func Lookup(name string) (*workload.Workload, bool) {
	w, ok := workloads[name]
	return w, ok
}

// Names lists the known workloads, sorted.
func Names() []string {
	names := make([]string, 0, len(workloads))
	for n := range workloads {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Services starts Maelstrom's built-in services (lin-kv, seq-kv, lww-kv,
// lin-tso) on the network, as every Maelstrom run does, and returns a
// function that stops them. rng is the run's seeded source for the
// services' randomness (seq-kv staleness, lww-kv replica choice).
func Services(ctx context.Context, net *network.Network, rng *rand.Rand, log *slog.Logger) (stop func()) {
	return service.Start(ctx, net, service.Defaults(rng), log)
}
