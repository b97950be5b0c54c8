// Command pn-counter is Maelstrom's pn-counter workload as its CRDT chapter
// builds it: a counter that needs no service. add {delta} → add_ok, read →
// read_ok {value}. Each node holds a lib/crdt Counter replica (per-node P
// and N counters merged by maximum); this node's new component versions
// travel to every node over lib/gossip's star with retransmission, so
// every node answers at once, partitioned or not, and a partition only
// delays convergence. (challenges/counter serves the same workload on
// seq-kv, Fly.io's way.) The gossip preset comes from GOSSIP_PRESET:
// "messages" (default: only the message count is judged here) or
// "latency".
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

	"github.com/glomers/glomers/lib/crdt"
	"github.com/glomers/glomers/lib/gossip"
	"github.com/glomers/glomers/lib/node"
)

func main() {
	cfg, err := gossip.Preset(presetName())
	if err != nil {
		fmt.Fprintln(os.Stderr, "pn-counter: GOSSIP_PRESET:", err)
		os.Exit(2)
	}
	if err := newNode(cfg).Run(); err != nil {
		slog.Error("pn-counter node failed", "err", err)
		os.Exit(1)
	}
}

func presetName() string {
	if name := os.Getenv("GOSSIP_PRESET"); name != "" {
		return name
	}
	return "messages"
}

// server answers the clients' requests from its replica; lib/crdt wires
// the replica to the node and its peers.
type server struct {
	counter *crdt.Served[*crdt.Counter]
}

func newNode(cfg gossip.Config) *node.Node {
	n := node.New()
	s := &server{counter: crdt.Serve(n, func(self string, nodes []string, now time.Time) (*crdt.Counter, error) {
		return crdt.NewCounter(self, nodes, cfg, now)
	})}
	n.Handle("add", s.add)
	n.Handle("read", s.read)
	return n
}

type typeOnly struct {
	Type string `json:"type"`
}

// add applies the delta and answers at once; spreading it is gossip's
// business, not the client's wait.
func (s *server) add(_ context.Context, req node.Message) (any, error) {
	var body struct {
		Delta *int64 `json:"delta"`
	}
	if err := node.Decode(req, &body); err != nil {
		return nil, err
	}
	if body.Delta == nil {
		return nil, node.Errorf(maelstrom.MalformedRequest, "add needs an integer delta")
	}
	add := func(c *crdt.Counter, now time.Time) gossip.Ready { return c.Add(*body.Delta, now) }
	return s.counter.Update(add, typeOnly{Type: "add_ok"}), nil
}

type readOK struct {
	Type  string `json:"type"`
	Value int64  `json:"value"`
}

func (s *server) read(context.Context, node.Message) (any, error) {
	var v int64
	s.counter.Read(func(c *crdt.Counter) { v = c.Value() })
	return readOK{Type: "read_ok", Value: v}, nil
}
