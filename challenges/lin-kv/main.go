// Command lin-kv is a linearizable key-value store (Maelstrom's lin-kv
// workload: read, write, cas) replicated with lib/raft through lib/rsm.
// Writes and CASes are log entries, applied in log order by every node;
// reads take no entry: the leader confirms them with ReadIndex and answers
// from its state (docs/raft.md says why that is linearizable). A request at
// a follower is forwarded to the leader; error 11 means it certainly had
// no effect (no leader known, or its entry lost to another term's).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

	"github.com/glomers/glomers/lib/node"
	"github.com/glomers/glomers/lib/rsm"
)

func main() {
	if err := newNode().Run(); err != nil {
		slog.Error("lin-kv node failed", "err", err)
		os.Exit(1)
	}
}

func newNode() *node.Node {
	n := node.New()
	srv := rsm.New(n, newStore(), rsm.Options{})
	n.Handle("read", func(_ context.Context, req node.Message) (any, error) {
		c, err := parse(req, "read")
		if err != nil {
			return nil, err
		}
		srv.Read(req, c)
		return nil, nil
	})
	for _, typ := range []string{"write", "cas"} {
		n.Handle(typ, func(_ context.Context, req node.Message) (any, error) {
			c, err := parse(req, typ)
			if err != nil {
				return nil, err
			}
			srv.Submit(req, c)
			return nil, nil
		})
	}
	return n
}

// command is a client request as it goes into the log (or, for a read, to
// the leader): the request's fields without its msg_id. Keys and values
// are any JSON, kept as their compact text so equal values compare equal.
type command struct {
	Type  string          `json:"type"`
	Key   json.RawMessage `json:"key"`
	Value json.RawMessage `json:"value,omitempty"`
	From  json.RawMessage `json:"from,omitempty"`
	To    json.RawMessage `json:"to,omitempty"`
}

// parse checks a request and returns its command, or error 12.
func parse(req node.Message, typ string) (json.RawMessage, error) {
	var c command
	if err := node.Decode(req, &c); err != nil {
		return nil, err
	}
	missing := ""
	switch {
	case c.Key == nil:
		missing = "key"
	case typ == "write" && c.Value == nil:
		missing = "value"
	case typ == "cas" && c.From == nil:
		missing = "from"
	case typ == "cas" && c.To == nil:
		missing = "to"
	}
	if missing != "" {
		return nil, node.Errorf(maelstrom.MalformedRequest, "%s needs a %s", typ, missing)
	}
	for _, f := range []*json.RawMessage{&c.Key, &c.Value, &c.From, &c.To} {
		*f = compact(*f)
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, node.Errorf(maelstrom.MalformedRequest, "encode %s: %v", typ, err)
	}
	return b, nil
}

func compact(v json.RawMessage) json.RawMessage {
	if v == nil {
		return nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return v
	}
	return b.Bytes()
}

// store is the replicated state: every node applies the same commands in
// the same order, so Apply must be deterministic.
type store struct {
	data map[string]json.RawMessage // compact key text → value
}

func newStore() *store { return &store{data: map[string]json.RawMessage{}} }

type typeOnly struct {
	Type string `json:"type"`
}

type readOK struct {
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value"`
}

func decode(b json.RawMessage) (command, error) {
	var c command
	if err := json.Unmarshal(b, &c); err != nil {
		return c, node.Errorf(maelstrom.MalformedRequest, "command: %v", err)
	}
	return c, nil
}

// Apply executes a write or a cas.
func (s *store) Apply(b json.RawMessage) (any, error) {
	c, err := decode(b)
	if err != nil {
		return nil, err
	}
	k := string(c.Key)
	switch c.Type {
	case "write":
		s.data[k] = c.Value
		return typeOnly{Type: "write_ok"}, nil
	case "cas":
		cur, ok := s.data[k]
		if !ok {
			return nil, node.Errorf(maelstrom.KeyDoesNotExist, "key %s does not exist", k)
		}
		if !bytes.Equal(cur, c.From) {
			return nil, node.Errorf(maelstrom.PreconditionFailed, "key %s is %s, not %s", k, cur, c.From)
		}
		s.data[k] = c.To
		return typeOnly{Type: "cas_ok"}, nil
	}
	return nil, node.Errorf(maelstrom.MalformedRequest, "unknown command %q", c.Type)
}

// Query answers a read.
func (s *store) Query(b json.RawMessage) (any, error) {
	c, err := decode(b)
	if err != nil {
		return nil, err
	}
	v, ok := s.data[string(c.Key)]
	if !ok {
		return nil, node.Errorf(maelstrom.KeyDoesNotExist, "key %s does not exist", c.Key)
	}
	return readOK{Type: "read_ok", Value: v}, nil
}
