// Command broadcast is Gossip Glomers challenge 3 (3a–3e): nodes accept
// "broadcast" values from clients, answer "read" with every value they
// hold, and spread values to each other with lib/gossip. A broadcast is
// answered as soon as the value is stored, so the writer's own read sees
// it at once. The gossip preset comes from the environment variable
// GOSSIP_PRESET: "latency" (default, for 3d) or "messages" (for 3e). The
// suggested topology is acknowledged and ignored: lib/gossip routes through
// a hub of its own choosing.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/glomers/glomers/lib/gossip"
	"github.com/glomers/glomers/lib/node"
)

func main() {
	cfg, err := presetFromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "broadcast:", err)
		os.Exit(2)
	}
	if err := newNode(cfg).Run(); err != nil {
		slog.Error("broadcast node failed", "err", err)
		os.Exit(1)
	}
}

func presetFromEnv() (gossip.Config, error) {
	name := os.Getenv("GOSSIP_PRESET")
	if name == "" {
		name = "latency"
	}
	cfg, err := gossip.Preset(name)
	if err != nil {
		return gossip.Config{}, fmt.Errorf("GOSSIP_PRESET: %w", err)
	}
	return cfg, nil
}

// server wires one gossip.Gossip to the node. steps serialises gossip's
// steps and ticks it; g and the read cache are only touched in a step or
// under steps.Locked, because handlers and ticks run concurrently.
type server struct {
	n     *node.Node
	steps *node.Stepper[gossip.Ready] // set by init, before any handler or tick runs
	g     *gossip.Gossip
	// readOK is the read reply encoded up to the values known so far,
	// without its closing "]}", and encoded counts the values in it;
	// reply is the whole reply for those values, made when a read finds
	// new ones and never changed after. gossip only ever appends to
	// Values, so a read encodes only the values new since the last read,
	// and otherwise costs the copy of reply into the output: a flood of
	// reads of 10k values does not encode 10k values per read.
	readOK  []byte
	encoded int
	reply   node.Encoded
}

// maxLineBytes is far above the largest message this node is sent (a
// gossip batch of MaxBatch small integers is ~20 KB; a topology of
// Maelstrom's largest clusters a few KB) and keeps a hostile line from
// costing more: node's default, 64 MiB, let one 60 MB broadcast grow the
// node to 1 GB.
const maxLineBytes = 1 << 20

// maxValueBytes is the longest broadcast message accepted: Maelstrom's
// broadcast workload sends small unique integers, and the node's bounds
// (gossip batches, read replies) are sized for them.
const maxValueBytes = 20 // -9223372036854775808

func newNode(cfg gossip.Config) *node.Node {
	n := node.New()
	// No handler waits on anything, so serve messages in arrival order: a
	// read delivered after a gossip message answers with its values.
	n.InOrder = true
	n.MaxLineBytes = maxLineBytes
	s := &server{n: n, readOK: []byte(`{"type":"read_ok","messages":[`)}
	n.OnInit(func(context.Context) error {
		g, err := gossip.New(n.ID(), n.NodeIDs(), cfg, time.Now())
		if err != nil {
			return fmt.Errorf("start gossip: %w", err)
		}
		s.g = g
		// Ticks give gossip the time: flushes, retransmissions, bare acks.
		s.steps = node.NewStepper(n, g.Tick, func(r gossip.Ready) time.Time { return r.NextTick }, s.send)
		n.Logger.Info("gossip ready", "hub", g.Hub(), "flush", cfg.FlushInterval, "align", cfg.AlignLeaves)
		return nil
	})
	n.Handle("topology", s.topology)
	n.Handle("broadcast", s.broadcast)
	n.Handle("read", s.read)
	n.HandlePeer(gossip.MessageType, s.gossip)
	n.Every(5*time.Second, s.logStats)
	return n
}

type typeOnly struct {
	Type string `json:"type"`
}

func (s *server) topology(context.Context, node.Message) (any, error) {
	return typeOnly{Type: "topology_ok"}, nil
}

// broadcast stores the value and answers at once: the value is readable
// from this step on, and spreading it is gossip's business, not the
// client's wait. The reply goes out before the step's gossip. Only an
// integer is stored (error 12 otherwise), so no client can make a value
// that every read, gossip batch and retransmission then carries.
func (s *server) broadcast(_ context.Context, req node.Message) (any, error) {
	var body struct {
		Message json.RawMessage `json:"message"`
	}
	if err := node.Decode(req, &body); err != nil {
		return nil, err
	}
	v, err := smallInteger(body.Message)
	if err != nil {
		return nil, node.Errorf(node.MalformedRequest, "broadcast message %s", err)
	}
	r := s.steps.Step(func(now time.Time) gossip.Ready { return s.g.Broadcast(v, now) })
	// Exactly type (in_reply_to is added): Maelstrom's schema rejects any
	// other field.
	return node.ReplyThen(typeOnly{Type: "broadcast_ok"}, func() { s.send(r) }), nil
}

// smallInteger is the Value of a message that is a JSON integer in
// int64's range, or an error saying what it is instead.
func smallInteger(raw json.RawMessage) (gossip.Value, error) {
	text := bytes.TrimSpace(raw)
	switch {
	case len(text) == 0 || string(text) == "null":
		return "", fmt.Errorf("is missing")
	case len(text) > maxValueBytes:
		return "", fmt.Errorf("of %d bytes is not a small integer", len(text))
	}
	i, err := strconv.ParseInt(string(text), 10, 64)
	if err != nil {
		return "", fmt.Errorf("%s is not a small integer", text)
	}
	return gossip.IntValue(i), nil
}

// read answers with every value, from the encoding kept in readOK.
func (s *server) read(context.Context, node.Message) (any, error) {
	var reply node.Encoded
	s.steps.Locked(func() {
		if vals := s.g.Values(); len(vals) > s.encoded || s.reply == nil {
			for _, v := range vals[s.encoded:] {
				if s.encoded > 0 {
					s.readOK = append(s.readOK, ',')
				}
				s.readOK = append(s.readOK, v...)
				s.encoded++
			}
			s.reply = append(append(node.Encoded(nil), s.readOK...), "]}"...)
		}
		reply = s.reply
	})
	return reply, nil
}

// gossip takes a peer's message. It never answers: gossip carries no
// msg_id, and acknowledgements travel inside gossip messages.
func (s *server) gossip(_ context.Context, req node.Message) (any, error) {
	var m gossip.Message
	if err := json.Unmarshal(req.Body, &m); err != nil {
		s.n.Logger.Warn("dropping malformed gossip", "src", req.Src, "err", err)
		return nil, nil
	}
	s.send(s.steps.Step(func(now time.Time) gossip.Ready { return s.g.Receive(req.Src, m, now) }))
	return nil, nil
}

// send carries out a step's Ready: its messages. A failed send is only
// logged; gossip resends what is not acknowledged.
func (s *server) send(r gossip.Ready) {
	for _, o := range r.Messages {
		if err := s.n.Send(o.To, o.Body); err != nil {
			s.n.Logger.Error("send gossip", "to", o.To, "err", err)
		}
	}
}

func (s *server) logStats(context.Context) {
	if s.steps == nil { // init failed
		return
	}
	var st gossip.Stats
	var known int
	s.steps.Locked(func() { st, known = s.g.Stats(), len(s.g.Values()) })
	s.n.Logger.Info("gossip stats", "values", known, "data", st.DataMessages, "retransmissions", st.Retransmissions,
		"bare_acks", st.BareAcks, "values_sent", st.ValuesSent, "duplicates", st.DuplicatesReceived)
}
