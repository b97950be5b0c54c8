package gossip

import (
	"fmt"
	"sort"
	"time"
)

// Config holds every tunable of the protocol. The arithmetic behind the
// presets is in README.md next to this file.
type Config struct {
	// FlushInterval is how often the hub forwards what it has gathered to
	// every other node. Each flush costs one message per node, so this is
	// the main lever between messages per op and latency.
	FlushInterval time.Duration
	// AlignLeaves makes a leaf hold its new values and send them once per
	// FlushInterval, timed (from the hub's feedback) to arrive just before
	// the hub's next flush; off, a leaf sends each new value at once. Both
	// give the same latency (a value waits for the hub's flush either at the
	// leaf or at the hub) but aligned leaves send fewer messages.
	AlignLeaves bool
	// AlignMargin is how long before the hub's flush an aligned leaf's batch
	// aims to arrive; it absorbs latency jitter and tick granularity.
	AlignMargin time.Duration
	// AckDelay is how long a node waits for a message it would send anyway
	// (to piggyback an acknowledgement on) before sending a bare one. It
	// must stay well below RetransmitTimeout minus a round trip, or healthy
	// peers get retransmissions.
	AckDelay time.Duration
	// RetransmitTimeout is how long sent values may stay unacknowledged
	// before they are sent again. A peer that needed a retransmission is
	// treated as unreachable: it gets no regular flushes, only one probe
	// (carrying everything it lacks) per RetransmitTimeout until it answers.
	// This is the anti-entropy round: after a partition heals, values flow
	// again within one RetransmitTimeout.
	RetransmitTimeout time.Duration
	// MaxBatch caps the values in one message so a line stays far below
	// the 64 KiB that naive Maelstrom readers accept; a longer backlog goes
	// out over several rounds.
	MaxBatch int
	// AckAfterFanout holds a client's broadcast_ok (a ticket given to
	// Submit) until the value has been forwarded to every reachable node,
	// like a replicated write that waits for its replicas: the client
	// waits about one dissemination time, and the value is visible
	// everywhere by the time it is acknowledged. Off, tickets come back at
	// once. See README.md for what this does to Maelstrom's latencies.
	AckAfterFanout bool
	// AckWaitCap bounds how long a ticket is held: past it the ticket is
	// released anyway, so broadcasts stay available when the hub is cut
	// off (the value is already stored and anti-entropy still spreads it).
	// It is also what bounds the set of held tickets.
	AckWaitCap time.Duration
	// AckOnSend (with AckAfterFanout) releases a ticket once its value has
	// left this node on its regular schedule: an aligned leaf's batch to
	// the hub, or the hub's complete flush. Values stay hidden until
	// fanout as before, so no read shows a value before every node has
	// it; the client waits only for the batching slot, not for the two
	// hops after it, and the hops show as stable latency instead. Until a
	// leaf is aligned (its values would then wait at the hub) its tickets
	// still wait for fanout.
	AckOnSend bool
	// AckSendWait (with AckOnSend), if positive, bounds how long a ticket
	// waits for its value's slot: past it the ticket is released anyway
	// (the value is stored and goes out in the slot). A client released
	// before the slot can put another value into the same batch; the
	// value's remaining wait shows as stable latency.
	AckSendWait time.Duration
}

// LatencyEager is the star tuned for Fly.io's 3d setting (25 nodes, 100 ms
// latency, rate 100): the hub flushes every 100 ms and leaves send at once,
// the lowest latency that stays under 3 messages per op. Broadcasts are
// acknowledged as soon as the value is stored.
var LatencyEager = Config{
	FlushInterval:     100 * time.Millisecond,
	AlignLeaves:       false,
	AlignMargin:       20 * time.Millisecond,
	AckDelay:          2 * time.Second,
	RetransmitTimeout: 3 * time.Second,
	MaxBatch:          2000,
}

// MessagesEager is the star tuned for Fly.io's 3e: about one server message
// per op, at the price of a few hundred milliseconds of extra latency.
// Broadcasts are acknowledged as soon as the value is stored.
var MessagesEager = Config{
	FlushInterval:     420 * time.Millisecond,
	AlignLeaves:       true,
	AlignMargin:       20 * time.Millisecond,
	AckDelay:          2 * time.Second,
	RetransmitTimeout: 3 * time.Second,
	MaxBatch:          2000,
}

// ackWaitCap is above the longest normal dissemination of both presets
// (≈ 320 ms for latency, ≈ 840 ms for a hub value under messages; see
// README.md) and far below Maelstrom's 5 s client timeout, so a broadcast
// that cannot reach the hub still completes as ok.
const ackWaitCap = time.Second

// Latency is the default preset: LatencyEager with broadcast_ok held until
// the value has been forwarded to every reachable node.
var Latency = withAckAfterFanout(LatencyEager)

// Messages is the star tuned for Fly.io's 3e with values hidden until
// fanned out and broadcast_ok held until the value leaves the leaf in its
// batch, or for AckSendWait at most: holding it until fanout (≈ 450 ms)
// kept so many of the 25 synchronous clients busy that a fifth of the ops
// were never issued, and msgs/op rose by as much. The hub's round is longer
// and the margin wider than MessagesEager's, since a batch that misses its
// flush now shows directly as stable latency. See README.md.
var Messages = func() Config {
	c := withAckAfterFanout(MessagesEager)
	c.FlushInterval = 500 * time.Millisecond
	c.AlignMargin = 50 * time.Millisecond
	c.AckOnSend = true
	c.AckSendWait = 250 * time.Millisecond
	return c
}()

func withAckAfterFanout(c Config) Config {
	c.AckAfterFanout = true
	c.AckWaitCap = ackWaitCap
	return c
}

var presets = map[string]Config{
	"latency":        Latency,
	"messages":       Messages,
	"latency-eager":  LatencyEager,
	"messages-eager": MessagesEager,
}

// Preset returns the named preset (see PresetNames).
func Preset(name string) (Config, error) {
	cfg, ok := presets[name]
	if !ok {
		return Config{}, fmt.Errorf("unknown gossip preset %q (known: %v)", name, PresetNames())
	}
	return cfg, nil
}

// PresetNames lists the known presets, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Validate reports a config that cannot work.
func (c Config) Validate() error {
	switch {
	case c.FlushInterval <= 0:
		return fmt.Errorf("gossip config: FlushInterval %v must be positive", c.FlushInterval)
	case c.RetransmitTimeout <= 0:
		return fmt.Errorf("gossip config: RetransmitTimeout %v must be positive", c.RetransmitTimeout)
	case c.AckDelay < 0 || c.AckDelay >= c.RetransmitTimeout:
		return fmt.Errorf("gossip config: AckDelay %v must be in [0, RetransmitTimeout %v)", c.AckDelay, c.RetransmitTimeout)
	case c.MaxBatch <= 0:
		return fmt.Errorf("gossip config: MaxBatch %d must be positive", c.MaxBatch)
	case c.AlignMargin < 0 || c.AlignMargin >= c.FlushInterval:
		return fmt.Errorf("gossip config: AlignMargin %v must be in [0, FlushInterval %v)", c.AlignMargin, c.FlushInterval)
	case c.AckSendWait < 0:
		return fmt.Errorf("gossip config: AckSendWait %v must not be negative", c.AckSendWait)
	case c.AckAfterFanout && c.AckWaitCap <= 0:
		return fmt.Errorf("gossip config: AckWaitCap %v must be positive with AckAfterFanout", c.AckWaitCap)
	}
	return nil
}
