// Command broadcast is Gossip Glomers challenge 3 (3a–3e): nodes accept
// "broadcast" values from clients, answer "read" with every value they
// know, and spread values to each other with lib/gossip. The gossip preset
// comes from the environment variable GOSSIP_PRESET: "latency" (default,
// for 3d), which answers broadcast_ok once the value has been forwarded to
// every reachable node (at most 1 s later); "messages" (for 3e), which
// answers once the value has left in its batch to the hub (at most 250 ms
// later); or "latency-eager" / "messages-eager", which answer at once. The
// first two hide a value from reads until it has fanned out. The suggested
// topology is acknowledged and ignored: lib/gossip routes through a hub of
// its own choosing.
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

// server owns the gossip state; mu guards it because handlers and ticks
// run concurrently.
type server struct {
	n   *node.Node
	cfg gossip.Config

	mu sync.Mutex
	g  *gossip.Gossip
	// waiting maps gossip's tickets to the broadcast requests they stand
	// for; gossip releases every ticket within AckWaitCap, so this stays
	// as small as the number of clients.
	waiting    map[gossip.Ticket]node.Message
	nextTicket gossip.Ticket

	// kick wakes the timer loop after an event may have moved the next
	// deadline earlier.
	kick chan struct{}
}

func newNode(cfg gossip.Config) *node.Node {
	n := node.New()
	s := &server{n: n, cfg: cfg, kick: make(chan struct{}, 1), waiting: map[gossip.Ticket]node.Message{}}
	n.OnInit(func(context.Context) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.g = gossip.New(n.ID(), n.NodeIDs(), cfg, time.Now())
		n.Logger.Info("gossip ready", "hub", s.g.Hub(), "flush", cfg.FlushInterval, "align", cfg.AlignLeaves,
			"ack_after_fanout", cfg.AckAfterFanout, "ack_wait_cap", cfg.AckWaitCap)
		n.Go(s.timerLoop)
		return nil
	})
	n.Handle("topology", s.topology)
	n.Handle("broadcast", s.broadcast)
	n.Handle("read", s.read)
	n.Handle(gossip.MessageType, s.gossip)
	n.Every(5*time.Second, s.logStats)
	return n
}

type typeOnly struct {
	Type string `json:"type"`
}

func (s *server) topology(context.Context, node.Message) (any, error) {
	return typeOnly{Type: "topology_ok"}, nil
}

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
	s.mu.Lock()
	t := s.nextTicket
	s.nextTicket++
	s.waiting[t] = req
	out := s.g.Submit(*body.Message, t, time.Now())
	acks := s.takeAcks()
	s.mu.Unlock()
	s.send(out)
	s.answer(acks)
	s.wake()
	// The answer goes out from answer, now or once gossip releases the
	// ticket.
	return nil, nil
}

// takeAcks collects the requests whose tickets gossip released. The
// caller holds mu.
func (s *server) takeAcks() []node.Message {
	var reqs []node.Message
	for _, t := range s.g.Acks() {
		if req, ok := s.waiting[t]; ok {
			reqs = append(reqs, req)
			delete(s.waiting, t)
		}
	}
	return reqs
}

// answer tells each client its broadcast is done.
func (s *server) answer(reqs []node.Message) {
	for _, req := range reqs {
		// Exactly type (in_reply_to is added): Maelstrom's schema
		// rejects any other field.
		if err := s.n.Reply(req, typeOnly{Type: "broadcast_ok"}); err != nil {
			s.n.Logger.Error("answer broadcast", "src", req.Src, "err", err)
		}
	}
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
	s.mu.Lock()
	out := s.g.Receive(req.Src, m, time.Now())
	acks := s.takeAcks()
	s.mu.Unlock()
	s.send(out)
	s.answer(acks)
	s.wake()
	return nil, nil
}

// timerLoop gives gossip its ticks: it sleeps until the protocol's next
// deadline, or until an event may have moved that deadline. Sleeping
// instead of polling keeps 25 idle nodes off the CPU and makes the
// hub's flushes punctual to the timer's precision.
func (s *server) timerLoop(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		s.mu.Lock()
		out := s.g.Tick(now)
		acks := s.takeAcks()
		next := s.g.NextDeadline(now)
		s.mu.Unlock()
		s.send(out)
		s.answer(acks)
		wait := time.Hour
		if !next.IsZero() {
			wait = max(0, time.Until(next))
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.kick:
		}
	}
}

// wake tells the timer loop to look at the deadline again.
func (s *server) wake() {
	select {
	case s.kick <- struct{}{}:
	default: // a wake-up is already pending
	}
}

func (s *server) send(out []gossip.Outbound) {
	for _, o := range out {
		if err := s.n.Send(o.To, o.Body); err != nil {
			s.n.Logger.Error("send gossip", "to", o.To, "err", err)
		}
	}
}

func (s *server) logStats(context.Context) {
	s.mu.Lock()
	st, known, held := s.g.Stats(), len(s.g.Values()), s.g.Held()
	s.mu.Unlock()
	s.n.Logger.Info("gossip stats", "values", known, "data", st.DataMessages, "retransmissions", st.Retransmissions,
		"bare_acks", st.BareAcks, "fanout_only", st.FanoutOnly, "values_sent", st.ValuesSent, "duplicates", st.DuplicatesReceived,
		"acks_fanned_out", st.AcksFannedOut, "acks_sent", st.AcksSent, "acks_capped", st.AcksCapped, "held", held)
}
