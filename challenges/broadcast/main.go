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

// server owns the gossip state; mu guards it (and next) because handlers
// and the timer loop run concurrently.
type server struct {
	n *node.Node

	mu   sync.Mutex
	g    *gossip.Gossip
	next time.Time // the latest Ready.NextTick: when the timer loop ticks

	// kick wakes the timer loop after a step may have moved next earlier.
	kick chan struct{}
}

func newNode(cfg gossip.Config) *node.Node {
	n := node.New()
	s := &server{n: n, kick: make(chan struct{}, 1)}
	n.OnInit(func(context.Context) error {
		g, err := gossip.New(n.ID(), n.NodeIDs(), cfg, time.Now())
		if err != nil {
			return fmt.Errorf("start gossip: %w", err)
		}
		s.mu.Lock()
		s.g = g
		s.mu.Unlock()
		n.Logger.Info("gossip ready", "hub", g.Hub(), "flush", cfg.FlushInterval, "align", cfg.AlignLeaves)
		n.Go(s.timerLoop)
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

// step runs one gossip step and notes when to tick next in the same
// critical section (a later step's NextTick must never be overwritten by an
// earlier one's), wakes the timer loop to look at it, and returns the
// messages to send.
func (s *server) step(fn func(now time.Time) gossip.Ready) []gossip.Outbound {
	s.mu.Lock()
	r := fn(time.Now())
	s.next = r.NextTick
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default: // a wake-up is already pending
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

// timerLoop gives gossip its ticks: it sleeps until the latest
// Ready.NextTick, or until a step may have moved it. Sleeping instead of
// polling keeps 25 idle nodes off the CPU and makes the hub's flushes
// punctual to the timer's precision.
func (s *server) timerLoop(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		now, next := time.Now(), s.next
		s.mu.Unlock()
		if !next.IsZero() && !now.Before(next) {
			s.send(s.step(s.g.Tick))
			continue
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = next.Sub(now)
		}
		// Since Go 1.23 Reset discards a stale expiry, so no drain.
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.kick:
		}
	}
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
