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
	// every other node: each flush costs one message per leaf, so it trades
	// messages per op against the time a value waits at the hub.
	FlushInterval time.Duration
	// AlignLeaves makes a leaf batch its new values once per FlushInterval,
	// timed to reach the hub just before its flush, instead of sending each
	// value at once: the value waits at the leaf rather than at the hub, so
	// latency stays while the leaf's messages drop to one per interval.
	AlignLeaves bool
	// AlignMargin is how long before the hub's flush an aligned leaf's batch
	// aims to arrive, to absorb latency jitter and timer granularity.
	AlignMargin time.Duration
	// AckDelay is how long a node waits for a message it sends anyway to
	// carry its acknowledgement before it sends a bare one; it must stay
	// below RetransmitTimeout minus a round trip, or healthy peers resend.
	AckDelay time.Duration
	// RetransmitTimeout is how long sent values may stay unacknowledged
	// before they are sent again; a peer that needs it is probed once per
	// timeout until it answers, which bounds recovery after a partition.
	RetransmitTimeout time.Duration
	// MaxBatch caps the values in one message so a line stays far below the
	// 64 KiB naive Maelstrom readers accept; a longer backlog takes rounds.
	MaxBatch int
}

// Shared by both presets.
const (
	// Long enough that an ack nearly always rides on a flush or a value,
	// short enough to arrive a round trip before the peer's retransmission.
	ackDelay = 2 * time.Second
	// Far above a healthy round trip (200 ms), so only a partition causes a
	// retransmission, and well inside Maelstrom's quiet period before the
	// final reads, so values held back by a partition arrive in time.
	retransmitTimeout = 3 * time.Second
	// 2000 small integers are about 10 KiB, far below 64 KiB.
	maxBatch = 2000
)

// Latency is the star tuned for Fly.io's 3d (25 nodes, 100 ms latency,
// rate 100): leaves send at once and the hub flushes every 120 ms, about
// 2.6 server messages per op. Not 100 ms: under Maelstrom a leaf's
// receiver sleeps on each hub flush for its 100 ms flight, so client
// requests reach a leaf in a burst as a flush lands, and their values
// reach the hub 100 ms later, about when the flush after next leaves. At
// 100 ms they race it and half of them wait a whole interval; at 120 ms
// they arrive 40 ms before it, a margin that also absorbs the CPU wait of
// 24 leaves woken at once on two cores (110 ms left 20 ms, and a tail;
// see README.md). Each call returns a fresh Config, so a caller that
// tunes its copy changes no one else's.
func Latency() Config {
	return Config{
		FlushInterval:     120 * time.Millisecond,
		AlignLeaves:       false,
		AlignMargin:       20 * time.Millisecond,
		AckDelay:          ackDelay,
		RetransmitTimeout: retransmitTimeout,
		MaxBatch:          maxBatch,
	}
}

// Messages is the star tuned for Fly.io's 3e: aligned leaves and a 470 ms
// round keep it under 0.95 server messages per op at the ~94 ops/s that
// Fly.io's command reaches (a round costs the hub's 24 messages plus one
// from each leaf that has a value, about 16 of 24), at the price of up to
// one round of batching wait at the leaf. The 30 ms margin absorbs the
// jitter that would otherwise make a batch miss its flush and wait a
// second round.
func Messages() Config {
	return Config{
		FlushInterval:     470 * time.Millisecond,
		AlignLeaves:       true,
		AlignMargin:       30 * time.Millisecond,
		AckDelay:          ackDelay,
		RetransmitTimeout: retransmitTimeout,
		MaxBatch:          maxBatch,
	}
}

// LatencyEager is the configuration the Maelstrom reference runs in
// tools/workbench/maelstromstore/testdata were made with (GOSSIP_PRESET
// latency-eager): Latency with a 100 ms flush.
func LatencyEager() Config {
	c := Latency()
	c.FlushInterval = 100 * time.Millisecond
	return c
}

// presets maps GOSSIP_PRESET names to the constructors of their configs.
// latency-eager and messages-eager are the names stored command lines use.
var presets = map[string]func() Config{
	"latency":        Latency,
	"messages":       Messages,
	"latency-eager":  LatencyEager,
	"messages-eager": Messages,
}

// Preset returns a fresh copy of the named preset (see PresetNames).
func Preset(name string) (Config, error) {
	preset, ok := presets[name]
	if !ok {
		return Config{}, fmt.Errorf("unknown gossip preset %q (known: %v)", name, PresetNames())
	}
	return preset(), nil
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
	}
	return nil
}
