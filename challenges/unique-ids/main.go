// Command unique-ids is Gossip Glomers challenge 2: "generate" requests
// get an ID that is unique across the cluster. IDs come from lib/idgen,
// which needs no coordination, so every node keeps answering during
// partitions (the challenge runs with --availability total).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/glomers/glomers/lib/idgen"
	"github.com/glomers/glomers/lib/node"
)

func main() {
	if err := newNode().Run(); err != nil {
		slog.Error("unique-ids node failed", "err", err)
		os.Exit(1)
	}
}

func newNode() *node.Node {
	n := node.New()
	s := &server{}
	n.OnInit(func(context.Context) error {
		g, err := idgen.New(n.ID(), n.NodeIDs())
		if err != nil {
			return fmt.Errorf("unique-ids init: %w", err)
		}
		// Handlers start only after OnInit returns, so they see s.ids.
		s.ids = g
		return nil
	})
	n.Handle("generate", s.generate)
	return n
}

type server struct {
	ids *idgen.Generator
}

type generateOK struct {
	Type string `json:"type"`
	ID   uint64 `json:"id"`
}

func (s *server) generate(context.Context, node.Message) (any, error) {
	return generateOK{Type: "generate_ok", ID: s.ids.Next()}, nil
}
