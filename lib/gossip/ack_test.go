package gossip

import (
	"slices"
	"testing"
	"time"
)

// star3 is a hub n0 and leaves n1, n2 with the latency preset, and a way
// to hand messages over by hand.
type star3 struct {
	g map[string]*Gossip
}

func newStar3(cfg Config) star3 {
	nodes := []string{"n0", "n1", "n2"}
	s := star3{g: map[string]*Gossip{}}
	for _, n := range nodes {
		s.g[n] = New(n, nodes, cfg, t0)
	}
	return s
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

func TestLeafAckWaitsForTheHubsFlush(t *testing.T) {
	s := newStar3(Latency)
	hub, leaf, other := s.g["n0"], s.g["n1"], s.g["n2"]

	out := leaf.Submit("7", 41, t0)
	if got := leaf.Acks(); len(got) != 0 {
		t.Fatalf("acknowledged at once: %v", got)
	}
	if got := leaf.Values(); len(got) != 0 {
		t.Fatalf("an unacknowledged value is visible: %v", got)
	}
	// The value reaches the hub, which does not show it yet.
	hub.Receive("n1", to(t, out, "n0"), t0.Add(ms(100)))
	if got := hub.Values(); len(got) != 0 {
		t.Fatalf("hub shows a value its flush has not delivered: %v", got)
	}
	out = hub.Tick(t0.Add(ms(100)))
	toLeaf, toOther := to(t, out, "n1"), to(t, out, "n2")
	if toLeaf.Fanout != 1 || len(toLeaf.Values) != 0 {
		t.Fatalf("flush to the origin: %+v, want no values and fanout 1", toLeaf)
	}
	if !slices.Equal(toOther.Values, []Value{"7"}) {
		t.Fatalf("flush to n2: %+v", toOther)
	}
	// Nothing is released before the flush arrives, whatever the time
	// (short of the cap).
	leaf.Tick(t0.Add(ms(199)))
	if got := leaf.Acks(); len(got) != 0 {
		t.Fatalf("released before the fanout watermark: %v", got)
	}
	// The flush reaches both leaves at once: n2 shows the value, and the
	// origin shows it and releases the ticket.
	other.Receive("n0", toOther, t0.Add(ms(200)))
	leaf.Receive("n0", toLeaf, t0.Add(ms(200)))
	if got := leaf.Acks(); !slices.Equal(got, []Ticket{41}) {
		t.Fatalf("acks after fanout %v, want [41]", got)
	}
	if !slices.Equal(leaf.Values(), []Value{"7"}) || !slices.Equal(other.Values(), []Value{"7"}) {
		t.Fatalf("visible: origin %v, n2 %v", leaf.Values(), other.Values())
	}
	if st := leaf.Stats(); st.AcksFannedOut != 1 || st.AcksCapped != 0 || leaf.Held() != 0 {
		t.Fatalf("stats %+v held %d", st, leaf.Held())
	}
	if got := leaf.Acks(); len(got) != 0 {
		t.Fatalf("Acks repeated %v", got)
	}
}

func TestHubAckWaitsForALeafToConfirmItsFlush(t *testing.T) {
	s := newStar3(Latency)
	hub := s.g["n0"]
	hub.Submit("5", 1, t0.Add(ms(10)))
	out := hub.Tick(t0.Add(ms(100)))
	var asked []Message
	for _, o := range out {
		if o.Body.AckNow {
			asked = append(asked, o.Body)
		}
	}
	if len(out) != 2 || len(asked) != 1 {
		t.Fatalf("flush %+v: want 2 messages, exactly one asking for an ack", out)
	}
	hub.Tick(t0.Add(ms(250)))
	if got := hub.Acks(); len(got) != 0 || len(hub.Values()) != 0 {
		t.Fatalf("released %v, visible %v before any leaf confirmed", got, hub.Values())
	}
	// The asked leaf answers at once; its ack releases the ticket and
	// gives the hub a round trip of 200 ms.
	var asker string
	for _, o := range out {
		if o.Body.AckNow {
			asker = o.To
		}
	}
	reply := s.g[asker].Receive("n0", to(t, out, asker), t0.Add(ms(200)))
	hub.Receive(asker, to(t, reply, "n0"), t0.Add(ms(300)))
	if got := hub.Acks(); !slices.Equal(got, []Ticket{1}) || !slices.Equal(hub.Values(), []Value{"5"}) {
		t.Fatalf("after the leaf's ack: acks %v visible %v", got, hub.Values())
	}
	if d, ok := hub.oneWay(); !ok || d != ms(100) {
		t.Fatalf("one-way estimate %v %v, want 100ms", d, ok)
	}
	// From now on the hub shows (and acknowledges) its flushes one way
	// after sending them, when the leaves receive them.
	hub.Submit("6", 2, t0.Add(ms(310)))
	hub.Tick(t0.Add(ms(400)))
	if d := hub.NextDeadline(t0.Add(ms(400))); !d.Equal(t0.Add(ms(500))) {
		t.Fatalf("next deadline %v, want the commit at +500ms", d.Sub(t0))
	}
	hub.Tick(t0.Add(ms(499)))
	if got := hub.Acks(); len(got) != 0 {
		t.Fatalf("released before one way passed: %v", got)
	}
	hub.Tick(t0.Add(ms(500)))
	if got := hub.Acks(); !slices.Equal(got, []Ticket{2}) || !slices.Equal(hub.Values(), []Value{"5", "6"}) {
		t.Fatalf("at flush + one way: acks %v visible %v", got, hub.Values())
	}
}

func TestCapReleasesTicketsWhenTheHubIsCutOff(t *testing.T) {
	leaf := New("n1", []string{"n0", "n1", "n2"}, Latency, t0)
	cap := Latency.AckWaitCap
	leaf.Submit("1", 1, t0)
	leaf.Submit("2", 2, t0.Add(ms(300)))
	if d := leaf.NextDeadline(t0.Add(ms(300))); !d.Equal(t0.Add(cap)) {
		t.Fatalf("next deadline %v, want the cap at %v", d.Sub(t0), cap)
	}
	leaf.Tick(t0.Add(cap - time.Millisecond))
	if got := leaf.Acks(); len(got) != 0 {
		t.Fatalf("released before the cap: %v", got)
	}
	leaf.Tick(t0.Add(cap))
	if got := leaf.Acks(); !slices.Equal(got, []Ticket{1}) || !slices.Equal(leaf.Values(), []Value{"1"}) {
		t.Fatalf("at the cap: acks %v visible %v", got, leaf.Values())
	}
	leaf.Tick(t0.Add(ms(300) + cap))
	if got := leaf.Acks(); !slices.Equal(got, []Ticket{2}) || !slices.Equal(leaf.Values(), []Value{"1", "2"}) {
		t.Fatalf("second cap: acks %v visible %v", got, leaf.Values())
	}
	if st := leaf.Stats(); st.AcksCapped != 2 || leaf.Held() != 0 || len(leaf.hidden) != 0 {
		t.Fatalf("stats %+v, held %d, hidden %d", st, leaf.Held(), len(leaf.hidden))
	}
	// The values were kept: the next probe still carries them.
	out := leaf.Tick(t0.Add(Latency.RetransmitTimeout))
	if len(out) != 1 || !slices.Equal(out[0].Body.Values, []Value{"1", "2"}) {
		t.Fatalf("probe after the cap: %+v", out)
	}
}

// TestHeldTicketsStayBounded keeps a leaf cut off from the hub under a
// steady stream of client broadcasts: every ticket comes back within the
// cap, so no more than cap × rate are ever held, and none after the load.
func TestHeldTicketsStayBounded(t *testing.T) {
	leaf := New("n1", []string{"n0", "n1", "n2"}, Latency, t0)
	every := ms(20)
	limit := int(Latency.AckWaitCap/every) + 1
	released := 0
	now := t0
	for i := range 1000 {
		now = t0.Add(time.Duration(i) * every)
		leaf.Tick(now)
		leaf.Submit(IntValue(int64(i)), Ticket(i), now)
		released += len(leaf.Acks())
		if leaf.Held() > limit || len(leaf.hidden) > limit {
			t.Fatalf("after %d broadcasts: %d held, %d hidden, want ≤ %d", i+1, leaf.Held(), len(leaf.hidden), limit)
		}
	}
	leaf.Tick(now.Add(Latency.AckWaitCap))
	released += len(leaf.Acks())
	if released != 1000 || leaf.Held() != 0 || len(leaf.hidden) != 0 || len(leaf.Values()) != 1000 {
		t.Fatalf("released %d of 1000, %d held, %d hidden, %d visible", released, leaf.Held(), len(leaf.hidden), len(leaf.Values()))
	}
}

func TestEagerPresetAcksAtOnceAndShowsValuesAtOnce(t *testing.T) {
	leaf := New("n1", []string{"n0", "n1"}, LatencyEager, t0)
	leaf.Submit("3", 9, t0)
	if got := leaf.Acks(); !slices.Equal(got, []Ticket{9}) || !slices.Equal(leaf.Values(), []Value{"3"}) {
		t.Fatalf("acks %v visible %v", got, leaf.Values())
	}
	// A lone node has no one to wait for, whatever the preset.
	solo := New("n0", []string{"n0"}, Latency, t0)
	solo.Submit("4", 1, t0)
	if got := solo.Acks(); !slices.Equal(got, []Ticket{1}) || !slices.Equal(solo.Values(), []Value{"4"}) {
		t.Fatalf("single node: acks %v visible %v", got, solo.Values())
	}
}

func TestFanoutFromANonHubIsIgnored(t *testing.T) {
	leaf := New("n1", []string{"n0", "n1", "n2"}, Latency, t0)
	leaf.Submit("1", 1, t0)
	leaf.Receive("n2", Message{Type: MessageType, Fanout: 5}, t0.Add(ms(10)))
	if got := leaf.Acks(); len(got) != 0 {
		t.Fatalf("a leaf's fanout released %v", got)
	}
	leaf.Receive("n0", Message{Type: MessageType, Fanout: 99}, t0.Add(ms(10)))
	if got := leaf.Acks(); !slices.Equal(got, []Ticket{1}) {
		t.Fatalf("acks %v", got)
	}
	// The bogus 99 was clamped to the stream: a new value still waits.
	leaf.Submit("2", 2, t0.Add(ms(20)))
	if got := leaf.Acks(); len(got) != 0 {
		t.Fatalf("a fanout beyond the stream released a later value: %v", got)
	}
}

// alignedStar3 is newStar3 with cfg after one leaf value has gone round,
// so that leaf n1 has the hub's timing: the hub flushes at +400 ms and
// every 400 ms after, n1's next batch leaves at +680 ms (arriving at
// +780, AlignMargin before the flush at +800).
func alignedStar3(t *testing.T, cfg Config) star3 {
	t.Helper()
	cfg.FlushInterval, cfg.AlignMargin = ms(400), ms(20)
	s := newStar3(cfg)
	hub, leaf := s.g["n0"], s.g["n1"]
	out := leaf.Submit("1", 1, t0.Add(ms(10)))
	hub.Receive("n1", to(t, out, "n0"), t0.Add(ms(110)))
	out = hub.Tick(t0.Add(ms(400)))
	s.g["n2"].Receive("n0", to(t, out, "n2"), t0.Add(ms(500)))
	leaf.Receive("n0", to(t, out, "n1"), t0.Add(ms(500)))
	// Not yet aligned when submitted, so the ticket waited for fanout.
	if got := leaf.Acks(); !slices.Equal(got, []Ticket{1}) || !leaf.alignedLeaf() {
		t.Fatalf("set-up: acks %v, aligned %v", got, leaf.alignedLeaf())
	}
	if d := leaf.NextDeadline(t0.Add(ms(500))); !d.IsZero() {
		t.Fatalf("set-up: idle leaf has deadline %v", d.Sub(t0))
	}
	return s
}

func TestAckOnSendReleasesAtTheBatchAndHidesUntilFanout(t *testing.T) {
	cfg := Messages
	cfg.AckOnSend, cfg.AckSendWait = true, 0
	s := alignedStar3(t, cfg)
	hub, leaf, other := s.g["n0"], s.g["n1"], s.g["n2"]

	leaf.Submit("2", 2, t0.Add(ms(520)))
	if out, got := leaf.Tick(t0.Add(ms(679))), leaf.Acks(); len(out) != 0 || len(got) != 0 {
		t.Fatalf("before the slot: sent %+v, released %v", out, got)
	}
	out := leaf.Tick(t0.Add(ms(680)))
	if got := leaf.Acks(); !slices.Equal(got, []Ticket{2}) {
		t.Fatalf("at the slot: released %v, want [2]", got)
	}
	if st := leaf.Stats(); st.AcksSent != 1 {
		t.Fatalf("stats %+v, want one ack on send", st)
	}
	// Acknowledged, but not shown anywhere until the flush delivers it.
	if slices.Contains(leaf.Values(), "2") {
		t.Fatalf("origin shows a value before fanout: %v", leaf.Values())
	}
	hub.Receive("n1", to(t, out, "n0"), t0.Add(ms(780)))
	if slices.Contains(hub.Values(), "2") {
		t.Fatalf("hub shows a value before its flush: %v", hub.Values())
	}
	out = hub.Tick(t0.Add(ms(800)))
	toLeaf, toOther := to(t, out, "n1"), to(t, out, "n2")
	other.Receive("n0", toOther, t0.Add(ms(900)))
	leaf.Receive("n0", toLeaf, t0.Add(ms(900)))
	if !slices.Contains(leaf.Values(), "2") || !slices.Contains(other.Values(), "2") {
		t.Fatalf("after the flush: origin %v, n2 %v", leaf.Values(), other.Values())
	}
}

func TestAckSendWaitReleasesBeforeTheSlot(t *testing.T) {
	cfg := Messages
	cfg.AckOnSend, cfg.AckSendWait = true, ms(100)
	s := alignedStar3(t, cfg)
	leaf := s.g["n1"]

	leaf.Submit("2", 2, t0.Add(ms(520)))
	if d := leaf.NextDeadline(t0.Add(ms(520))); !d.Equal(t0.Add(ms(620))) {
		t.Fatalf("next deadline %v, want the send wait at +620ms", d.Sub(t0))
	}
	leaf.Tick(t0.Add(ms(619)))
	if got := leaf.Acks(); len(got) != 0 {
		t.Fatalf("released before the send wait: %v", got)
	}
	if out := leaf.Tick(t0.Add(ms(620))); len(out) != 0 {
		t.Fatalf("the send wait sent %+v; the value keeps its slot", out)
	}
	if got := leaf.Acks(); !slices.Equal(got, []Ticket{2}) || slices.Contains(leaf.Values(), "2") {
		t.Fatalf("at the send wait: released %v, visible %v", got, leaf.Values())
	}
	// A value submitted shortly before its slot is released by the slot.
	leaf.Submit("3", 3, t0.Add(ms(650)))
	out := leaf.Tick(t0.Add(ms(680)))
	if m := to(t, out, "n0"); !slices.Equal(m.Values, []Value{"2", "3"}) {
		t.Fatalf("batch %+v, want both values", m)
	}
	if got := leaf.Acks(); !slices.Equal(got, []Ticket{3}) || leaf.Held() != 0 {
		t.Fatalf("at the slot: released %v, held %d", got, leaf.Held())
	}
}

func TestAckOnSendReleasesHubTicketsAtTheFlush(t *testing.T) {
	cfg := Messages
	cfg.AckSendWait = 0
	hub := newStar3(cfg).g["n0"]
	hub.Submit("5", 1, t0.Add(ms(10)))
	hub.Tick(t0.Add(cfg.FlushInterval - time.Millisecond))
	if got := hub.Acks(); len(got) != 0 {
		t.Fatalf("released before the flush: %v", got)
	}
	if out := hub.Tick(t0.Add(cfg.FlushInterval)); len(out) != 2 {
		t.Fatalf("flush %+v, want one message per leaf", out)
	}
	if got := hub.Acks(); !slices.Equal(got, []Ticket{1}) || len(hub.Values()) != 0 {
		t.Fatalf("at the flush: released %v, visible %v (want hidden until a leaf confirms)", got, hub.Values())
	}
}
