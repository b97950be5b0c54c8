// Command echo is Gossip Glomers challenge 1: every "echo" request is
// answered with "echo_ok" carrying the same payload. The payload is passed
// through as raw JSON so that numbers and key order come back byte for
// byte.
package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"

	"github.com/glomers/glomers/lib/node"
)

func main() {
	if err := newNode().Run(); err != nil {
		slog.Error("echo node failed", "err", err)
		os.Exit(1)
	}
}

func newNode() *node.Node {
	n := node.New()
	n.Handle("echo", echo)
	return n
}

type echoOK struct {
	Type string          `json:"type"`
	Echo json.RawMessage `json:"echo"`
}

func echo(_ context.Context, req node.Message) (any, error) {
	var body struct {
		Echo json.RawMessage `json:"echo"`
	}
	if err := node.Decode(req, &body); err != nil {
		return nil, err
	}
	if body.Echo == nil {
		return nil, node.Errorf(node.MalformedRequest, "echo request has no echo field")
	}
	return echoOK{Type: "echo_ok", Echo: body.Echo}, nil
}
