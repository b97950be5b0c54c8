package gossip

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

var t0 = time.Unix(1000, 0)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// testPresets are the distinct presets (PresetNames also lists aliases).
var testPresets = map[string]Config{"latency": Latency(), "messages": Messages()}

func mustNew(t *testing.T, self string, nodes []string, cfg Config) *Gossip {
	t.Helper()
	g, err := New(self, nodes, cfg, t0)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestValueKeepsCompactJSON(t *testing.T) {
	var vs []Value
	if err := json.Unmarshal([]byte(`[1, "a b", {"x": [1, 2]}, 1.0]`), &vs); err != nil {
		t.Fatal(err)
	}
	want := []Value{"1", `"a b"`, `{"x":[1,2]}`, "1.0"}
	if !slices.Equal(vs, want) {
		t.Fatalf("got %q, want %q", vs, want)
	}
	b, err := json.Marshal(vs)
	if err != nil || string(b) != `[1,"a b",{"x":[1,2]},1.0]` {
		t.Fatalf("marshal = %s, %v", b, err)
	}
	if IntValue(-42) != "-42" {
		t.Fatalf("IntValue(-42) = %q", IntValue(-42))
	}
}

func TestPresets(t *testing.T) {
	for _, name := range PresetNames() {
		cfg, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("preset %s: %v", name, err)
		}
	}
	if _, err := Preset("fastest"); err == nil {
		t.Error("unknown preset accepted")
	}
	bad := Latency()
	bad.AckDelay = bad.RetransmitTimeout
	if bad.Validate() == nil {
		t.Error("AckDelay ≥ RetransmitTimeout accepted")
	}
	if _, err := New("n0", []string{"n0", "n1"}, bad, t0); err == nil {
		t.Error("New accepted an invalid config")
	}
}

func TestSingleNodeKeepsValuesAndSendsNothing(t *testing.T) {
	g := mustNew(t, "n0", []string{"n0"}, Latency())
	for i := range 3 {
		if out := g.Broadcast(IntValue(int64(i)), t0).Messages; len(out) != 0 {
			t.Fatalf("single node sent %v", out)
		}
	}
	g.Broadcast(IntValue(1), t0) // a client may repeat a value
	if out := g.Tick(t0.Add(time.Minute)).Messages; len(out) != 0 {
		t.Fatalf("single node sent %v on tick", out)
	}
	if got, want := g.Values(), []Value{"0", "1", "2"}; !slices.Equal(got, want) {
		t.Fatalf("values %v, want %v", got, want)
	}
}

// TestBroadcastIsReadableInTheSameStep: a node acknowledges a broadcast in
// the step that stores it, so a read right after Broadcast returns (no
// Tick, no message delivered) must include the value, on the hub, on a
// leaf that sends at once and on an aligned leaf that holds its batch; and
// a value from a peer is readable when Receive returns.
func TestBroadcastIsReadableInTheSameStep(t *testing.T) {
	nodes := []string{"n0", "n1", "n2"}
	for name, cfg := range testPresets {
		t.Run(name, func(t *testing.T) {
			s := newSim(3, cfg, 1)
			// Let leaves align (messages): one value round trip each.
			s.broadcast("n1", "10")
			s.broadcast("n2", "20")
			s.run(2 * cfg.FlushInterval)
			for i, id := range nodes {
				v := IntValue(int64(100 + i))
				r := s.g[id].Broadcast(v, s.now)
				if !slices.Contains(s.g[id].Values(), v) {
					t.Errorf("%s (aligned %v): read after Broadcast lacks %s: %v", id, s.g[id].alignedLeaf(), v, s.g[id].Values())
				}
				s.apply(id, r)
			}
			if cfg.AlignLeaves && !s.g["n1"].alignedLeaf() {
				t.Error("n1 never aligned; the aligned case is untested")
			}
			leaf := mustNew(t, "n2", nodes, cfg)
			leaf.Receive("n0", Message{Type: MessageType, Seq: 0, Values: []Value{"7"}}, t0)
			if !slices.Equal(leaf.Values(), []Value{"7"}) {
				t.Errorf("read after Receive: %v, want [7]", leaf.Values())
			}
		})
	}
}

// TestReadyNextTick follows one value from the hub through its flush and
// the leaves' acks: each step's Ready says when the next Tick has work,
// and an idle cluster asks for none.
func TestReadyNextTick(t *testing.T) {
	nodes := []string{"n0", "n1", "n2"}
	hub := mustNew(t, "n0", nodes, Latency())
	leaves := []*Gossip{mustNew(t, "n1", nodes, Latency()), mustNew(t, "n2", nodes, Latency())}
	if r := hub.Tick(t0); len(r.Messages) != 0 || !r.NextTick.IsZero() {
		t.Fatalf("idle hub: %+v, want nothing to do", r)
	}
	r := hub.Broadcast("1", t0.Add(ms(10)))
	if flush := t0.Add(Latency().FlushInterval); len(r.Messages) != 0 || !r.NextTick.Equal(flush) {
		t.Fatalf("hub broadcast: %+v, want no message and NextTick at the flush %v", r, flush)
	}
	flushed := r.NextTick
	r = hub.Tick(flushed)
	if len(r.Messages) != 2 || !r.NextTick.Equal(flushed.Add(Latency().RetransmitTimeout)) {
		t.Fatalf("flush: %+v, want 2 messages and NextTick at the retransmit timeout", r)
	}
	flush := r.Messages
	arrive := flushed.Add(ms(100))
	for i, leaf := range leaves {
		lr := leaf.Receive("n0", to(t, flush, leaf.self), arrive)
		if len(lr.Messages) != 0 || !lr.NextTick.Equal(arrive.Add(Latency().AckDelay)) {
			t.Fatalf("leaf %d: %+v, want no message and NextTick at the bare ack", i, lr)
		}
		lr = leaf.Tick(lr.NextTick)
		if len(lr.Messages) != 1 || lr.Messages[0].Body.Ack != 1 || !lr.NextTick.IsZero() {
			t.Fatalf("leaf %d ack: %+v, want one bare ack of 1 and nothing more", i, lr)
		}
		r = hub.Receive(leaf.self, lr.Messages[0].Body, arrive.Add(Latency().AckDelay+ms(100)))
	}
	if len(r.Messages) != 0 || !r.NextTick.IsZero() {
		t.Fatalf("hub after both acks: %+v, want nothing to do", r)
	}
}

// to returns the one message in out addressed to peer.
func to(t *testing.T, out []Outbound, peer string) Message {
	t.Helper()
	var found []Message
	for _, o := range out {
		if o.To == peer {
			found = append(found, o.Body)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one message to %s in %+v", peer, out)
	}
	return found[0]
}

func TestUnalignedLeafSendsAtOnceAndHubBatches(t *testing.T) {
	nodes := []string{"n0", "n1", "n2"}
	hub := mustNew(t, "n0", nodes, Latency())
	flush := Latency().FlushInterval
	leaf := mustNew(t, "n1", nodes, Latency())

	out := leaf.Broadcast("7", t0).Messages
	if len(out) != 1 || out[0].To != "n0" || !slices.Equal(out[0].Body.Values, []Value{"7"}) || out[0].Body.Seq != 0 {
		t.Fatalf("leaf broadcast sent %+v, want one message with [7] at seq 0 to the hub", out)
	}
	if out := hub.Receive("n1", out[0].Body, t0.Add(flush)).Messages; len(out) != 0 {
		t.Fatalf("hub answered at once: %+v", out)
	}
	if out := hub.Broadcast("8", t0.Add(flush)).Messages; len(out) != 0 {
		t.Fatalf("hub sent at once: %+v", out)
	}
	// The flush is due FlushInterval after start.
	out = hub.Tick(t0.Add(flush)).Messages
	if len(out) != 2 {
		t.Fatalf("hub flush sent %d messages, want 2: %+v", len(out), out)
	}
	byPeer := map[string]Message{}
	for _, o := range out {
		byPeer[o.To] = o.Body
	}
	if got := byPeer["n1"]; !slices.Equal(got.Values, []Value{"8"}) || got.Ack != 1 {
		t.Errorf("to n1 (the origin of 7): %+v, want only [8] and ack 1", got)
	}
	if got := byPeer["n2"]; !slices.Equal(got.Values, []Value{"7", "8"}) || got.Ack != 0 {
		t.Errorf("to n2: %+v, want [7 8], ack 0", got)
	}
	// Nothing new: the next flush sends nothing.
	if out := hub.Tick(t0.Add(ms(200))).Messages; len(out) != 0 {
		t.Errorf("idle hub sent %+v", out)
	}
}

func TestBareAckAfterDelayAndImmediateAckOfRetransmission(t *testing.T) {
	nodes := []string{"n0", "n1"}
	leaf := mustNew(t, "n1", nodes, Latency())
	m := Message{Type: MessageType, Seq: 0, Values: []Value{"1", "2"}}
	if out := leaf.Receive("n0", m, t0).Messages; len(out) != 0 {
		t.Fatalf("leaf acked at once: %+v", out)
	}
	if out := leaf.Tick(t0.Add(Latency().AckDelay - time.Millisecond)).Messages; len(out) != 0 {
		t.Fatalf("leaf acked before AckDelay: %+v", out)
	}
	out := leaf.Tick(t0.Add(Latency().AckDelay)).Messages
	if len(out) != 1 || out[0].Body.Ack != 2 || len(out[0].Body.Values) != 0 {
		t.Fatalf("want one bare ack of 2, got %+v", out)
	}
	// The hub did not get the ack and resends: the leaf acks at once.
	out = leaf.Receive("n0", m, t0.Add(5*time.Second)).Messages
	if len(out) != 1 || out[0].Body.Ack != 2 {
		t.Fatalf("retransmission not acked at once: %+v", out)
	}
	if s := leaf.Stats(); s.DuplicatesReceived != 2 || s.BareAcks != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestRetransmitProbesUnreachablePeerOncePerTimeout(t *testing.T) {
	nodes := []string{"n0", "n1"}
	leaf := mustNew(t, "n1", nodes, Latency())
	leaf.Broadcast("1", t0)
	rt := Latency().RetransmitTimeout
	if out := leaf.Tick(t0.Add(rt - time.Millisecond)).Messages; len(out) != 0 {
		t.Fatalf("retransmitted early: %+v", out)
	}
	out := leaf.Tick(t0.Add(rt)).Messages
	if len(out) != 1 || !slices.Equal(out[0].Body.Values, []Value{"1"}) {
		t.Fatalf("want a retransmission of [1], got %+v", out)
	}
	// While probing, new values wait for the next probe instead of going
	// out one message each.
	if out := leaf.Broadcast("2", t0.Add(rt+ms(10))).Messages; len(out) != 0 {
		t.Fatalf("probing leaf sent at once: %+v", out)
	}
	if out := leaf.Tick(t0.Add(2*rt - time.Millisecond)).Messages; len(out) != 0 {
		t.Fatalf("probed twice in one timeout: %+v", out)
	}
	out = leaf.Tick(t0.Add(2 * rt)).Messages
	if len(out) != 1 || out[0].Body.Seq != 0 || !slices.Equal(out[0].Body.Values, []Value{"1", "2"}) {
		t.Fatalf("second probe %+v, want [1 2] from seq 0", out)
	}
	// The hub answers: everything acknowledged, nothing more to send.
	leaf.Receive("n0", Message{Type: MessageType, Ack: 2}, t0.Add(2*rt+ms(200)))
	if out := leaf.Tick(t0.Add(10 * rt)).Messages; len(out) != 0 {
		t.Fatalf("sent after full ack: %+v", out)
	}
	if out := leaf.Broadcast("3", t0.Add(10*rt)).Messages; len(out) != 1 || out[0].Body.Seq != 2 {
		t.Fatalf("after the ack a new value goes out at once at seq 2: %+v", out)
	}
}

func TestAckBeyondStreamIsClamped(t *testing.T) {
	leaf := mustNew(t, "n1", []string{"n0", "n1"}, Latency())
	leaf.Broadcast("1", t0)
	leaf.Receive("n0", Message{Type: MessageType, Ack: 99}, t0)
	out := leaf.Broadcast("2", t0).Messages
	if len(out) != 1 || out[0].Body.Seq != 1 {
		t.Fatalf("want seq 1 after a bogus ack, got %+v", out)
	}
}

func TestOutOfOrderSpansMerge(t *testing.T) {
	l := &link{}
	l.markReceived(5, 7)
	l.markReceived(2, 3)
	if l.recvNext != 0 || len(l.above) != 2 {
		t.Fatalf("recvNext %d above %v", l.recvNext, l.above)
	}
	l.markReceived(0, 2)
	if l.recvNext != 3 || len(l.above) != 1 {
		t.Fatalf("after [0,2): recvNext %d above %v", l.recvNext, l.above)
	}
	l.markReceived(3, 5)
	if l.recvNext != 7 || len(l.above) != 0 {
		t.Fatalf("after [3,5): recvNext %d above %v", l.recvNext, l.above)
	}
}

func TestAlignedLeafLearnsTheHubsPhase(t *testing.T) {
	s := newSim(5, Messages(), 1)
	s.workload3d(20, 5*time.Second)
	// After a few rounds, each leaf's batches should arrive at the hub
	// about AlignMargin before its flush.
	var waits []time.Duration
	s.onDeliver = func(d delivery) {
		if d.from == "n0" && d.body.Hold != nil {
			waits = append(waits, time.Duration(d.body.Hold.Micros)*time.Microsecond)
		}
	}
	for i := range 40 {
		for j, id := range s.nodes[1:] {
			s.broadcast(id, IntValue(int64(1000+i*10+j)))
		}
		s.run(Messages().FlushInterval)
	}
	if len(waits) == 0 {
		t.Fatal("no feedback observed")
	}
	for _, w := range waits {
		if w < 0 || w > Messages().AlignMargin+2*s.tick {
			t.Fatalf("batch waited %v at the hub, want ≤ margin %v + 2 ticks (all: %v)", w, Messages().AlignMargin, waits)
		}
	}
}

func TestConvergesAndGoesQuiet(t *testing.T) {
	for name, cfg := range testPresets {
		for _, lat := range []string{"constant", "uniform"} {
			t.Run(name+"/"+lat, func(t *testing.T) {
				s := newSim(5, cfg, 7)
				if lat == "uniform" {
					s.latency = uniform(ms(100))
				}
				s.workload3d(10, 10*time.Second)
				s.run(cfg.RetransmitTimeout + cfg.AckDelay + time.Second)
				if m := s.missing(); len(m) > 0 {
					t.Fatalf("missing values: %v", m)
				}
				if err := s.quiescent(); err != nil {
					t.Fatal(err)
				}
				before := s.sent
				s.run(time.Minute)
				if s.sent != before {
					t.Fatalf("%d messages sent while idle", s.sent-before)
				}
			})
		}
	}
}

func TestDuplicatedAndReorderedDelivery(t *testing.T) {
	for name, cfg := range testPresets {
		t.Run(name, func(t *testing.T) {
			s := newSim(7, cfg, 11)
			s.latency = uniform(ms(150))
			s.dupProb = 0.3
			s.workload3d(40, 10*time.Second)
			s.run(3 * cfg.RetransmitTimeout)
			if m := s.missing(); len(m) > 0 {
				t.Fatalf("missing values: %v", m)
			}
			for _, id := range s.nodes {
				if got, want := len(s.g[id].Values()), len(s.born); got != want {
					t.Fatalf("%s holds %d values, want %d (duplicates stored?)", id, got, want)
				}
			}
			if err := s.quiescent(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestPartitionHeal cuts the cluster in two (the hub on the minority side),
// keeps broadcasting on both sides, heals, and expects every value
// everywhere within one anti-entropy round, then silence.
func TestPartitionHeal(t *testing.T) {
	for name, cfg := range testPresets {
		t.Run(name, func(t *testing.T) {
			s := newSim(5, cfg, 3)
			s.workload3d(20, 3*time.Second)
			side := map[string]int{"n0": 0, "n1": 0, "n2": 1, "n3": 1, "n4": 1}
			cut := true
			s.blocked = func(from, to string) bool { return cut && side[from] != side[to] }
			s.workload3d(20, 10*time.Second)
			if m := s.missing(); len(m["n3"]) == 0 {
				t.Fatal("partition had no effect; the test proves nothing")
			}
			// How many messages does a long partition cost? Probing keeps
			// it to about one per unreachable link per RetransmitTimeout.
			before := s.sent
			s.run(30 * time.Second)
			idle := s.sent - before
			// 6 directed links across the cut, each probed at most once
			// per timeout, plus slack for the acks inside each side.
			if limit := int(30*time.Second/cfg.RetransmitTimeout)*6 + 12; idle > limit {
				t.Errorf("%d messages in 30 s of partition without load, want ≤ %d", idle, limit)
			}
			cut = false
			s.run(cfg.RetransmitTimeout + 3*ms(100) + cfg.FlushInterval + 2*s.tick)
			if m := s.missing(); len(m) > 0 {
				t.Fatalf("one anti-entropy round after heal, still missing: %v", m)
			}
			s.run(cfg.RetransmitTimeout + cfg.AckDelay)
			if err := s.quiescent(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestValueLearnedWhileProbingSurvivesTheHeal is the partition run that
// lost values under Bazel (3d and 3e): a leaf that sends at once learns a
// value while it still treats the hub as unreachable, just after the heal,
// between its probe and the hub's ack of it. The ack ends the probe and
// with it every retransmission timer; the value, never sent, must still go
// out. Every value must then be readable on every node within one
// anti-entropy round and a few flushes of the heal, and the cluster must
// go quiet.
func TestValueLearnedWhileProbingSurvivesTheHeal(t *testing.T) {
	const latency = 100 * time.Millisecond // newSim's
	for name, cfg := range testPresets {
		for _, isolated := range []string{"n1", "n0"} { // a leaf, the hub
			for _, deadlines := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/cut-%s/deadlines-%v", name, isolated, deadlines), func(t *testing.T) {
					s := newSim(5, cfg, 7)
					s.deadlineDriven = deadlines
					// Cut from the start, so n1 (messages) never learns the
					// hub's phase and keeps sending at once.
					cut := true
					s.blocked = func(from, to string) bool { return cut && (from == isolated) != (to == isolated) }
					s.broadcast("n1", "100") // in flight to the hub: n1 probes
					s.broadcast("n2", "200") // and the hub has values for n1
					s.broadcast("n0", "0")
					s.run(2*cfg.RetransmitTimeout + ms(500))
					if !s.g["n1"].links["n0"].probing {
						t.Fatal("n1 does not treat the hub as unreachable; the test proves nothing")
					}
					cut = false
					healed := s.now
					// From the first message across n0–n1 after the heal until
					// the hub's ack reaches n1, n1 still treats the hub as
					// unreachable: its client's value arrives then.
					crossed := false
					s.onDeliver = func(d delivery) {
						if (d.from == "n0" && d.to == "n1") || (d.from == "n1" && d.to == "n0") {
							crossed = true
						}
					}
					for !crossed {
						s.run(ms(1))
					}
					if !s.g["n1"].links["n0"].probing {
						t.Fatal("n1 already reached the hub; the value would not be learned while probing")
					}
					s.broadcast("n1", "101")
					s.broadcast("n3", "300")

					s.advance(healed.Add(cfg.RetransmitTimeout + 4*latency + 2*cfg.FlushInterval))
					for _, id := range s.nodes {
						g := s.g[id]
						for v := range s.born {
							if !slices.Contains(g.Values(), v) {
								t.Errorf("%s: value %s not readable %v after the heal (known %v)", id, v, s.now.Sub(healed), g.Has(v))
							}
						}
					}
					s.run(cfg.RetransmitTimeout + cfg.AckDelay)
					if err := s.quiescent(); err != nil {
						t.Error(err)
					}
				})
			}
		}
	}
}

// Test3dBudget runs Fly.io's 3d/3e setting (25 nodes, 100 ms latency, 100
// ops/s for 20 s, then 10 s quiet) in simulation and holds each preset to
// its message budget and to the latency its design promises: two hops, a
// wait of up to one flush interval (U(0, F), so F/2 at the median), and
// for aligned leaves the margin, plus tick granularity.
func Test3dBudget(t *testing.T) {
	const hops = 200 * time.Millisecond
	cases := []struct {
		name       string
		cfg        Config
		msgsPerOp  float64
		maxSpread  time.Duration
		medianUpTo time.Duration
	}{
		{"latency", Latency(), 3.0, hops + Latency().FlushInterval + 4*5*time.Millisecond, hops + Latency().FlushInterval/2 + 20*time.Millisecond},
		{"messages", Messages(), 1.0, hops + Messages().FlushInterval + Messages().AlignMargin + 4*5*time.Millisecond, hops + Messages().FlushInterval/2 + 40*time.Millisecond},
	}
	for _, c := range cases {
		for _, driven := range []bool{false, true} {
			name := c.name + "/ticks"
			if driven {
				name = c.name + "/deadlines"
			}
			t.Run(name, func(t *testing.T) {
				// One seed keeps `go test` quick; GOSSIP_SIM_SEEDS=3 for more.
				seeds := uint64(1)
				if n, err := strconv.Atoi(os.Getenv("GOSSIP_SIM_SEEDS")); err == nil && n > 0 {
					seeds = uint64(n)
				}
				for seed := uint64(1); seed <= seeds; seed++ {
					s := newSim(25, c.cfg, seed)
					s.deadlineDriven = driven
					// Nodes start (init, topology) before clients do.
					s.run(time.Second)
					ops, _ := s.workload3d(100, 20*time.Second)
					s.run(10 * time.Second)
					ops += 25 // the final reads
					if m := s.missing(); len(m) > 0 {
						t.Fatalf("seed %d: missing %v", seed, m)
					}
					// Aligned leaves learn the hub's phase from its first
					// feedback; the steady state starts after that.
					s.since = s.start.Add(2 * time.Second)
					perOp := float64(s.sent) / float64(ops)
					ds := s.spread()
					med, maxd := quantile(ds, 0.5), quantile(ds, 1)
					t.Logf("seed %d: %d ops, %d msgs, %.2f msgs/op, spread median %v p99 %v max %v; hub stats %+v",
						seed, ops, s.sent, perOp, med, quantile(ds, 0.99), maxd, s.g["n0"].Stats())
					if perOp > c.msgsPerOp {
						t.Errorf("seed %d: %.2f msgs/op, budget %.1f", seed, perOp, c.msgsPerOp)
					}
					if med > c.medianUpTo {
						t.Errorf("seed %d: median spread %v > %v", seed, med, c.medianUpTo)
					}
					if q := quantile(ds, 0.99); q > c.maxSpread {
						t.Errorf("seed %d: p99 spread %v > %v", seed, q, c.maxSpread)
					}
				}
			})
		}
	}
}

// A preset is made fresh by each call: a caller tuning its copy changes
// neither the next call's nor Preset's.
func TestPresetsAreFreshCopies(t *testing.T) {
	mine := Latency()
	mine.FlushInterval = time.Hour
	if Latency().FlushInterval == time.Hour {
		t.Error("changing a Latency() copy changed the preset")
	}
	if cfg, _ := Preset("latency"); cfg.FlushInterval == time.Hour || cfg != Latency() {
		t.Errorf("Preset(latency) = %+v, want Latency()", cfg)
	}
	if cfg, _ := Preset("latency-eager"); cfg.FlushInterval != 100*time.Millisecond || cfg.MaxBatch != Latency().MaxBatch {
		t.Errorf("Preset(latency-eager) = %+v, want Latency() with a 100 ms flush", cfg)
	}
}
