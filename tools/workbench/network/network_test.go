package network

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func recv(t *testing.T, in *Inbox, within time.Duration) (Message, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	return in.Recv(ctx)
}

func mustSend(t *testing.T, n *Network, src, dest, body string) int64 {
	t.Helper()
	id, err := n.Send(src, dest, json.RawMessage(body))
	if err != nil {
		t.Fatalf("send %s->%s: %v", src, dest, err)
	}
	return id
}

func TestLatencyAppliesBetweenServersButNotToClients(t *testing.T) {
	n := New(Config{Latency: 80 * time.Millisecond})
	n.Join("n0")
	n1 := n.Join("n1")
	c0 := n.Join("c0")

	start := time.Now()
	mustSend(t, n, "n0", "c0", `{"type":"x"}`)
	if _, err := recv(t, c0, time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 40*time.Millisecond {
		t.Errorf("server->client took %v; clients should see no latency", d)
	}

	start = time.Now()
	mustSend(t, n, "n0", "n1", `{"type":"x"}`)
	if _, err := recv(t, n1, time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 75*time.Millisecond {
		t.Errorf("server->server took %v, want ≥ 80ms latency", d)
	}
}

func TestIDsCountFromZeroAcrossSenders(t *testing.T) {
	n := New(Config{})
	n.Join("n0")
	n.Join("c0")
	for want := int64(0); want < 3; want++ {
		src, dest := "n0", "c0"
		if want%2 == 1 {
			src, dest = dest, src
		}
		if got := mustSend(t, n, src, dest, `{}`); got != want {
			t.Errorf("id = %d, want %d", got, want)
		}
	}
}

func TestUnknownEndsAreRejectedAndNotJournaled(t *testing.T) {
	n := New(Config{})
	n.Join("n0")
	if _, err := n.Send("n0", "c9", json.RawMessage(`{}`)); err == nil {
		t.Error("send to an unregistered client succeeded")
	}
	if _, err := n.Send("n7", "n0", json.RawMessage(`{}`)); err == nil {
		t.Error("send from an unregistered node succeeded")
	}
	n.Join("c1")
	n.Leave("c1")
	if _, err := n.Send("n0", "c1", json.RawMessage(`{}`)); err == nil {
		t.Error("send to a client that left succeeded")
	}
	if j := n.Journal(); len(j) != 0 {
		t.Errorf("journal has %d events for rejected sends, want 0", len(j))
	}
	// Maelstrom numbers a message before validating it, so the three
	// rejected sends used ids 0..2.
	if id := mustSend(t, n, "n0", "n0", `{}`); id != 3 {
		t.Errorf("first accepted message got id %d, want 3", id)
	}
}

func TestDeliveryIsInDeadlineOrder(t *testing.T) {
	// Uniform latency reorders messages on one link; the receiver must
	// still get them in deadline order, each no earlier than its deadline.
	n := New(Config{Latency: 30 * time.Millisecond, Dist: Uniform, Rand: rand.New(rand.NewPCG(1, 2))})
	n.Join("n0")
	in := n.Join("n1")
	for i := 0; i < 20; i++ {
		mustSend(t, n, "n0", "n1", `{}`)
	}
	var last time.Duration
	reordered := false
	prevID := int64(-1)
	for i := 0; i < 20; i++ {
		m, err := recv(t, in, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if m.ID < prevID {
			reordered = true
		}
		prevID = m.ID
		j := n.Journal()
		at := j[len(j)-1].Time
		if at < last {
			t.Fatalf("delivery times went backwards: %v then %v", last, at)
		}
		last = at
	}
	if !reordered {
		t.Error("uniform latency never reordered 20 messages; expected some reordering")
	}
}

func TestConstantLatencyKeepsSendOrder(t *testing.T) {
	n := New(Config{Latency: 5 * time.Millisecond})
	n.Join("n0")
	in := n.Join("n1")
	var ids []int64
	for i := 0; i < 50; i++ {
		ids = append(ids, mustSend(t, n, "n0", "n1", `{}`))
	}
	for _, want := range ids {
		m, err := recv(t, in, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if m.ID != want {
			t.Fatalf("got id %d, want %d (constant latency must keep send order)", m.ID, want)
		}
	}
}

func TestGrudgeDropsQueuedMessagesWhenTaken(t *testing.T) {
	n := New(Config{Latency: 50 * time.Millisecond})
	n.Join("n0")
	n.Join("n2")
	in := n.Join("n1")
	inFlight := mustSend(t, n, "n0", "n1", `{"m":"in flight"}`)
	// The partition starts while the message is still in flight.
	n.SetGrudge(map[string]map[string]bool{"n1": {"n0": true}})
	mustSend(t, n, "n0", "n1", `{"m":"during"}`)
	fromN2 := mustSend(t, n, "n2", "n1", `{"m":"other side"}`)

	m, err := recv(t, in, time.Second)
	if err != nil || m.ID != fromN2 {
		t.Fatalf("got %+v, %v; want only n2's message %d", m, err, fromN2)
	}
	if _, err := recv(t, in, 150*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got another delivery (%v); the in-flight message %d should have been dropped", err, inFlight)
	}
	// Healing does not resurrect dropped messages.
	n.SetGrudge(nil)
	if _, err := recv(t, in, 100*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a dropped message came back after heal: %v", err)
	}
	after := mustSend(t, n, "n0", "n1", `{"m":"after heal"}`)
	if m, err := recv(t, in, time.Second); err != nil || m.ID != after {
		t.Fatalf("after heal got %+v, %v", m, err)
	}

	sends, recvs := 0, 0
	for _, e := range n.Journal() {
		if e.Kind == Send {
			sends++
		} else {
			recvs++
		}
	}
	if sends != 4 || recvs != 2 {
		t.Errorf("journal has %d sends and %d receives, want 4 and 2 (drops are journaled as sent only)", sends, recvs)
	}
}

func TestPartitionAppliesToMessagesQueuedForLateReceivers(t *testing.T) {
	// A message whose deadline passed while nobody was receiving is judged
	// by the grudge in force when it is taken, as Maelstrom's recv! does.
	n := New(Config{})
	n.Join("n0")
	in := n.Join("n1")
	mustSend(t, n, "n0", "n1", `{}`)
	n.SetGrudge(map[string]map[string]bool{"n1": {"n0": true}})
	if _, err := recv(t, in, 50*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("queued message delivered despite the partition: %v", err)
	}
}

func TestLeaveUnblocksRecv(t *testing.T) {
	n := New(Config{})
	in := n.Join("c3")
	done := make(chan error)
	go func() {
		_, err := in.Recv(context.Background())
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	n.Leave("c3")
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Recv after Leave = %v, want ErrClosed", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Recv still blocked after Leave")
	}
}

func TestValidateRejectsExponentialWithoutLatency(t *testing.T) {
	if err := (Config{Dist: Exponential}).Validate(); err == nil {
		t.Error("exponential with latency 0 accepted")
	}
	if err := (Config{Dist: Exponential, Latency: time.Millisecond}).Validate(); err != nil {
		t.Error(err)
	}
	if err := (Config{Dist: "gaussian"}).Validate(); err == nil {
		t.Error("unknown distribution accepted")
	}
}

func TestExponentialLatencyHasTheRightMean(t *testing.T) {
	n := New(Config{Latency: 100 * time.Millisecond, Dist: Exponential, Rand: rand.New(rand.NewPCG(3, 4))})
	var sum time.Duration
	const k = 20000
	for i := 0; i < k; i++ {
		sum += n.latencyLocked("n0", "n1")
	}
	mean := sum / k
	if mean < 95*time.Millisecond || mean > 105*time.Millisecond {
		t.Errorf("mean exponential latency %v, want ≈100ms", mean)
	}
	u := New(Config{Latency: 100 * time.Millisecond, Dist: Uniform, Rand: rand.New(rand.NewPCG(3, 4))})
	for i := 0; i < 1000; i++ {
		if d := u.latencyLocked("n0", "n1"); d < 0 || d >= 200*time.Millisecond || d%time.Millisecond != 0 {
			t.Fatalf("uniform latency %v outside integer ms in [0, 200ms)", d)
		}
	}
}

// recvAsync starts a receiver that is already waiting, as a node's
// delivery goroutine is, and reports each message with its delivery time.
func recvAsync(t *testing.T, in *Inbox, count int) <-chan delivered {
	t.Helper()
	out := make(chan delivered, count)
	go func() {
		defer close(out)
		for i := 0; i < count; i++ {
			m, err := recv(t, in, 2*time.Second)
			if err != nil {
				return
			}
			out <- delivered{m, time.Now()}
		}
	}()
	return out
}

type delivered struct {
	msg Message
	at  time.Time
}

// Maelstrom's receiver takes the head as soon as it exists and sleeps
// until its deadline: a client request sent just after an inter-node
// message waits behind it. The ideal model delivers the request at once.
func TestClientRequestWaitsBehindTheHeadBeingSlept(t *testing.T) {
	for _, tc := range []struct {
		delivery     string
		clientFirst  bool
		minClientLag time.Duration
		maxClientLag time.Duration
	}{
		{Maelstrom, false, 80 * time.Millisecond, 200 * time.Millisecond},
		{Ideal, true, 0, 40 * time.Millisecond},
	} {
		t.Run(tc.delivery, func(t *testing.T) {
			n := New(Config{Latency: 100 * time.Millisecond, Delivery: tc.delivery})
			n.Join("n0")
			n.Join("c0")
			in := n.Join("n1")
			got := recvAsync(t, in, 2)
			time.Sleep(20 * time.Millisecond) // the receiver is waiting
			peer := mustSend(t, n, "n0", "n1", `{"type":"gossip"}`)
			time.Sleep(5 * time.Millisecond)
			sent := time.Now()
			client := mustSend(t, n, "c0", "n1", `{"type":"read"}`)
			first, second := <-got, <-got
			if first.msg.ID == 0 && second.msg.ID == 0 {
				t.Fatal("nothing delivered")
			}
			wantFirst := peer
			if tc.clientFirst {
				wantFirst = client
			}
			if first.msg.ID != wantFirst {
				t.Fatalf("first delivery was %d, want %d", first.msg.ID, wantFirst)
			}
			c := first
			if c.msg.ID != client {
				c = second
			}
			if lag := c.at.Sub(sent); lag < tc.minClientLag || lag > tc.maxClientLag {
				t.Errorf("client request delivered after %v, want within [%v, %v]", lag, tc.minClientLag, tc.maxClientLag)
			}
		})
	}
}

// The grudge is judged when a message is taken, not when it is delivered:
// a message already taken (being slept on) when a partition starts still
// arrives, while one still queued behind it is dropped.
func TestPartitionIsJudgedWhenTheMessageIsTaken(t *testing.T) {
	n := New(Config{Latency: 60 * time.Millisecond})
	n.Join("n0")
	in := n.Join("n1")
	got := recvAsync(t, in, 2)
	time.Sleep(20 * time.Millisecond)
	taken := mustSend(t, n, "n0", "n1", `{"m":"taken at once"}`)
	time.Sleep(5 * time.Millisecond)
	mustSend(t, n, "n0", "n1", `{"m":"queued behind"}`)
	n.SetGrudge(map[string]map[string]bool{"n1": {"n0": true}})
	first := <-got
	if first.msg.ID != taken {
		t.Fatalf("got %+v, want the message taken before the partition (%d)", first.msg, taken)
	}
	select {
	case d, ok := <-got:
		if ok {
			t.Fatalf("the queued message %d was delivered despite the partition", d.msg.ID)
		}
	case <-time.After(200 * time.Millisecond):
	}
}

func TestLatencyIsWholeMilliseconds(t *testing.T) {
	n := New(Config{Latency: 7 * time.Millisecond, Dist: Exponential, Rand: rand.New(rand.NewPCG(3, 4))})
	for i := 0; i < 1000; i++ {
		n.mu.Lock()
		d := n.latencyLocked("n0", "n1")
		n.mu.Unlock()
		if d%time.Millisecond != 0 || d < 0 {
			t.Fatalf("latency %v is not a whole number of milliseconds", d)
		}
	}
}

func TestValidateRejectsUnknownDelivery(t *testing.T) {
	if err := (Config{Delivery: "instant"}).Validate(); err == nil || !strings.Contains(err.Error(), "delivery") {
		t.Errorf("Validate = %v, want an error naming the delivery model", err)
	}
}
