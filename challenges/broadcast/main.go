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
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

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

// server owns the gossip state; mu guards it (and timer, stopped)
// because handlers and timer ticks run concurrently.
type server struct {
	n *node.Node

	mu sync.Mutex
	g  *gossip.Gossip
	// timer calls tick at the latest Ready.NextTick. Resetting it costs no
	// goroutine switch, unlike waking a loop that sleeps until then, and
	// nothing runs while nothing is scheduled.
	timer   *time.Timer
	stopped bool // the node is shutting down: no more ticks
}

func newNode(cfg gossip.Config) *node.Node {
	n := node.New()
	// No handler waits on anything, so serve messages in arrival order: a
	// read delivered after a gossip message answers with its values.
	n.InOrder = true
	s := &server{n: n}
	n.OnInit(func(context.Context) error {
		g, err := gossip.New(n.ID(), n.NodeIDs(), cfg, time.Now())
		if err != nil {
			return fmt.Errorf("start gossip: %w", err)
		}
		s.mu.Lock()
		s.g = g
		s.timer = time.AfterFunc(time.Hour, s.tick)
		s.timer.Stop()
		s.mu.Unlock()
		n.Logger.Info("gossip ready", "hub", g.Hub(), "flush", cfg.FlushInterval, "align", cfg.AlignLeaves)
		n.Go(s.stopAtShutdown)
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
// client's wait. The reply goes out before the step's gossip.
func (s *server) broadcast(_ context.Context, req node.Message) (any, error) {
	var body struct {
		Message *gossip.Value `json:"message"`
	}
	if err := node.Decode(req, &body); err != nil {
		return nil, err
	}
	if body.Message == nil || *body.Message == "null" {
		return nil, node.Errorf(maelstrom.MalformedRequest, "broadcast needs a message")
	}
	msgs := s.step(func(now time.Time) gossip.Ready { return s.g.Broadcast(*body.Message, now) })
	// Exactly type (in_reply_to is added): Maelstrom's schema rejects any
	// other field.
	if err := s.n.Reply(req, typeOnly{Type: "broadcast_ok"}); err != nil {
		s.n.Logger.Error("answer broadcast", "src", req.Src, "err", err)
	}
	s.send(msgs)
	return nil, nil
}

type readOK struct {
	Type     string         `json:"type"`
	Messages []gossip.Value `json:"messages"`
}

func (s *server) read(context.Context, node.Message) (any, error) {
	s.mu.Lock()
	vals := append(make([]gossip.Value, 0, len(s.g.Values())), s.g.Values()...)
	s.mu.Unlock()
	return readOK{Type: "read_ok", Messages: vals}, nil
}

// gossip takes a peer's message. It never answers: gossip carries no
// msg_id, and acknowledgements travel inside gossip messages.
func (s *server) gossip(_ context.Context, req node.Message) (any, error) {
	var m gossip.Message
	if err := json.Unmarshal(req.Body, &m); err != nil {
		s.n.Logger.Warn("dropping malformed gossip", "src", req.Src, "err", err)
		return nil, nil
	}
	s.send(s.step(func(now time.Time) gossip.Ready { return s.g.Receive(req.Src, m, now) }))
	return nil, nil
}

// step runs one gossip step and schedules the next tick in the same
// critical section, so a later step's NextTick is never overwritten by an
// earlier one's, and returns the messages to send.
func (s *server) step(fn func(now time.Time) gossip.Ready) []gossip.Outbound {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	r := fn(now)
	switch {
	case s.stopped:
	case r.NextTick.IsZero():
		s.timer.Stop()
	default:
		// Since Go 1.23 Reset discards a pending expiry, so no drain.
		s.timer.Reset(r.NextTick.Sub(now))
	}
	return r.Messages
}

func (s *server) send(out []gossip.Outbound) {
	for _, o := range out {
		if err := s.n.Send(o.To, o.Body); err != nil {
			s.n.Logger.Error("send gossip", "to", o.To, "err", err)
		}
	}
}

// tick gives gossip the time: flushes, retransmissions, bare acks. It runs
// on the timer's own goroutine; one that fires early or twice only finds
// nothing due.
func (s *server) tick() { s.send(s.step(s.g.Tick)) }

// stopAtShutdown stops the ticks once stdin has ended.
func (s *server) stopAtShutdown(ctx context.Context) {
	<-ctx.Done()
	s.mu.Lock()
	s.stopped = true
	s.timer.Stop()
	s.mu.Unlock()
}

func (s *server) logStats(context.Context) {
	s.mu.Lock()
	if s.g == nil {
		s.mu.Unlock()
		return
	}
	st, known := s.g.Stats(), len(s.g.Values())
	s.mu.Unlock()
	s.n.Logger.Info("gossip stats", "values", known, "data", st.DataMessages, "retransmissions", st.Retransmissions,
		"bare_acks", st.BareAcks, "values_sent", st.ValuesSent, "duplicates", st.DuplicatesReceived)
}
