package rsm

import (
	"strings"
	"sync"
	"testing"
	"time"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

	"github.com/glomers/glomers/lib/node/nodetest"
)

// testCluster runs three driver nodes in-process, with a pump that carries
// their messages to each other (unless the pair is cut) and hands messages
// to clients to the test.
type testCluster struct {
	t       *testing.T
	ids     []string
	trs     map[string]*nodetest.Transcript
	servers map[string]*Server
	journal map[string]*journal

	mu  sync.Mutex
	cut map[string]bool // node → on the far side of a partition

	toClients chan nodetest.Output
	stop      chan struct{}
	wg        sync.WaitGroup
}

func newTestCluster(t *testing.T) *testCluster {
	c := &testCluster{
		t: t, ids: []string{"n0", "n1", "n2"},
		trs: map[string]*nodetest.Transcript{}, servers: map[string]*Server{}, journal: map[string]*journal{},
		cut: map[string]bool{}, toClients: make(chan nodetest.Output, 100), stop: make(chan struct{}),
	}
	for _, id := range c.ids {
		j := &journal{}
		n, srv := newTestNode(j, Options{Raft: fastRaft, LeaderWait: 300 * time.Millisecond})
		c.journal[id], c.servers[id] = j, srv
		c.trs[id] = nodetest.Start(t, n)
		c.trs[id].Init(id, c.ids...)
	}
	for _, id := range c.ids {
		c.wg.Add(1)
		go c.pump(id)
	}
	// Registered after the nodes', so it runs first: the pumps stop
	// before the nodes do.
	t.Cleanup(func() { close(c.stop); c.wg.Wait() })
	return c
}

func (c *testCluster) pump(id string) {
	defer c.wg.Done()
	for {
		select {
		case <-c.stop:
			return
		default:
		}
		o, ok := c.trs[id].NextWithin(5 * time.Millisecond)
		if !ok {
			continue
		}
		to, isNode := c.trs[o.Dest]
		if !isNode {
			c.toClients <- o
			continue
		}
		c.mu.Lock()
		dropped := c.cut[id] != c.cut[o.Dest]
		c.mu.Unlock()
		if !dropped {
			to.Send(o.Line)
		}
	}
}

func (c *testCluster) partition(side ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cut = map[string]bool{}
	for _, id := range side {
		c.cut[id] = true
	}
}

// call sends a client request and waits for its answer (or d).
func (c *testCluster) call(nodeID string, msgID int, body map[string]any, d time.Duration) (nodetest.Output, bool) {
	body["msg_id"] = msgID
	c.trs[nodeID].SendMsg("c1", nodeID, body)
	deadline := time.After(d)
	for {
		select {
		case o := <-c.toClients:
			if o.Int("in_reply_to") == msgID {
				return o, true
			}
		case <-deadline:
			return nodetest.Output{}, false
		}
	}
}

func (c *testCluster) leader() string {
	for _, id := range c.ids {
		if st := c.servers[id].Status(); st.Role.String() == "leader" {
			return id
		}
	}
	return ""
}

func TestClusterOfThree(t *testing.T) {
	c := newTestCluster(t)
	msg := 10
	next := func() int { msg++; return msg }
	// Updates at every node, each forwarded to the leader if need be.
	for i, id := range c.ids {
		out, ok := c.call(id, next(), map[string]any{"type": "apply", "cmd": id}, 3*time.Second)
		if !ok || out.Type() != "apply_ok" || out.Int("n") != i+1 {
			t.Fatalf("apply at %s: %v %s", id, ok, out.Line)
		}
	}
	// Reads at every node see all three, in log order.
	for _, id := range c.ids {
		out, ok := c.call(id, next(), map[string]any{"type": "query"}, 3*time.Second)
		if !ok || !strings.Contains(out.Line, `"cmds":["\"n0\"","\"n1\"","\"n2\""]`) {
			t.Fatalf("query at %s: %v %s", id, ok, out.Line)
		}
	}
	// Cut the leader off and give it an update: it cannot commit, and its
	// fate is unknown, so no answer yet.
	old := c.leader()
	if old == "" {
		t.Fatal("no leader")
	}
	c.partition(old)
	lostID := next()
	if out, ok := c.call(old, lostID, map[string]any{"type": "apply", "cmd": "lost"}, 100*time.Millisecond); ok {
		t.Fatalf("cut-off leader answered %s", out.Line)
	}
	// The majority elects a leader and goes on.
	var other string
	for _, id := range c.ids {
		if id != old {
			other = id
		}
	}
	out, ok := c.call(other, next(), map[string]any{"type": "apply", "cmd": "kept"}, 3*time.Second)
	if !ok || out.Type() != "apply_ok" {
		t.Fatalf("apply on the majority side: %v %s", ok, out.Line)
	}
	// After the heal the old leader learns that its index holds another
	// term's entry: now, and only now, its request certainly failed: 11.
	c.partition()
	select {
	case o := <-c.toClients:
		if o.Int("in_reply_to") != lostID {
			t.Fatalf("unexpected %s", o.Line)
		}
		if o.Type() != "error" || o.Int("code") != maelstrom.TemporarilyUnavailable {
			t.Fatalf("lost update answered %s, want error 11", o.Line)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("lost update never answered after the heal")
	}
	for _, id := range c.ids {
		out, ok := c.call(id, next(), map[string]any{"type": "query"}, 3*time.Second)
		if !ok || strings.Contains(out.Line, "lost") || !strings.Contains(out.Line, "kept") {
			t.Fatalf("query at %s after the heal: %v %s", id, ok, out.Line)
		}
	}
}
