// Command g-set is Maelstrom's g-set workload (its CRDT chapter): a
// grow-only set. add {element} → add_ok, read → read_ok {value: [...]}.
// Each node holds a lib/crdt GSet replica; elements travel to every node
// over lib/gossip's star with retransmission, so every node answers at
// once, partitioned or not, and a partition only delays convergence. The
// gossip preset comes from GOSSIP_PRESET: "messages" (default: only the
// message count is judged here) or "latency".
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
		fmt.Fprintln(os.Stderr, "g-set: GOSSIP_PRESET:", err)
		os.Exit(2)
	}
	if err := newNode(cfg).Run(); err != nil {
		slog.Error("g-set node failed", "err", err)
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
	set *crdt.Served[*crdt.GSet]
}

func newNode(cfg gossip.Config) *node.Node {
	n := node.New()
	s := &server{set: crdt.Serve(n, func(self string, nodes []string, now time.Time) (*crdt.GSet, error) {
		return crdt.NewGSet(self, nodes, cfg, now)
	})}
	n.Handle("add", s.add)
	n.Handle("read", s.read)
	return n
}

type typeOnly struct {
	Type string `json:"type"`
}

// add stores the element and answers at once; spreading it is gossip's
// business, not the client's wait.
func (s *server) add(_ context.Context, req node.Message) (any, error) {
	var body struct {
		Element *gossip.Value `json:"element"`
	}
	if err := node.Decode(req, &body); err != nil {
		return nil, err
	}
	if body.Element == nil || *body.Element == "null" {
		return nil, node.Errorf(maelstrom.MalformedRequest, "add needs an element")
	}
	add := func(set *crdt.GSet, now time.Time) gossip.Ready { return set.Add(*body.Element, now) }
	return s.set.Update(add, typeOnly{Type: "add_ok"}), nil
}

type readOK struct {
	Type  string         `json:"type"`
	Value []gossip.Value `json:"value"`
}

func (s *server) read(context.Context, node.Message) (any, error) {
	var elems []gossip.Value
	s.set.Read(func(set *crdt.GSet) { elems = append(make([]gossip.Value, 0, len(set.Elements())), set.Elements()...) })
	return readOK{Type: "read_ok", Value: elems}, nil
}
