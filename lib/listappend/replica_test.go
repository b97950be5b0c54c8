package listappend

import (
	"encoding/json"
	"fmt"
	mrand "math/rand"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"
)

// cluster is a deterministic simulation: Replicas on a fake clock, a
// network with random latency that drops messages between the two sides
// of a partition, and a record of every client request and reply.
// reporter is what the checks report to: a *testing.T, or a fakeT when a
// broken replica is expected to fail them.
type reporter interface {
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
}

// fakeT records failures; Fatalf stops the check (recovered by the caller).
type fakeT struct {
	failed bool
	first  string
}

type stopCheck struct{}

func (f *fakeT) Errorf(format string, args ...any) {
	if !f.failed {
		f.first = fmt.Sprintf(format, args...)
	}
	f.failed = true
}

func (f *fakeT) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	panic(stopCheck{})
}

func (f *fakeT) Logf(string, ...any) {}

type cluster struct {
	t       reporter
	nodes   []string
	reps    map[string]*Replica
	now     time.Time
	rng     *rand.Rand
	queue   []msg
	due     map[string]time.Time
	side    map[string]int // partition sides; nil: none
	nextReq Request
	reqs    map[Request]*call
	sent    int
}

type msg struct {
	at       time.Time
	seq      int
	from, to string
	body     json.RawMessage
}

// call is one client request: what was asked, when, and how it ended.
type call struct {
	node     string
	txn      Txn
	at       time.Time
	done     bool
	reply    Reply
	repliedT time.Time
}

func newCluster(t reporter, seed uint64, n int, tweak func(*Config)) *cluster {
	c := &cluster{t: t, reps: map[string]*Replica{}, now: time.Unix(1e6, 0), rng: rand.New(rand.NewPCG(seed, 99)),
		due: map[string]time.Time{}, reqs: map[Request]*call{}}
	for i := range n {
		c.nodes = append(c.nodes, fmt.Sprintf("n%d", i))
	}
	for _, id := range c.nodes {
		cfg := DefaultConfig(id, c.nodes)
		cfg.Raft.Rand = mrand.New(mrand.NewSource(int64(seed)*31 + int64(len(c.reps))))
		if tweak != nil {
			tweak(&cfg)
		}
		r, err := NewReplica(cfg, c.now)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		c.reps[id] = r
		c.act(id, r.Tick(c.now))
	}
	return c
}

func (c *cluster) act(id string, rd Ready) {
	c.due[id] = rd.NextTick
	for _, o := range rd.Messages {
		b, err := json.Marshal(o.Body)
		if err != nil {
			c.t.Fatalf("%s: marshal %T: %v", id, o.Body, err)
		}
		c.sent++
		lat := time.Duration(1+c.rng.IntN(10)) * time.Millisecond
		c.queue = append(c.queue, msg{at: c.now.Add(lat), seq: c.sent, from: id, to: o.To, body: b})
	}
	for _, r := range rd.Replies {
		k := c.reqs[r.Request]
		if k == nil || k.done {
			c.t.Fatalf("%s: reply to unknown or answered request %d", id, r.Request)
		}
		k.done, k.reply, k.repliedT = true, r, c.now
	}
}

func (c *cluster) submit(id string, txn Txn) {
	c.nextReq++
	c.reqs[c.nextReq] = &call{node: id, txn: txn, at: c.now}
	c.act(id, c.reps[id].Submit(c.now, c.nextReq, txn))
}

// run advances the clock by d in 1 ms steps.
func (c *cluster) run(d time.Duration) {
	end := c.now.Add(d)
	for c.now.Before(end) {
		c.now = c.now.Add(time.Millisecond)
		sort.SliceStable(c.queue, func(i, j int) bool { return c.queue[i].at.Before(c.queue[j].at) })
		for len(c.queue) > 0 && !c.queue[0].at.After(c.now) {
			m := c.queue[0]
			c.queue = c.queue[1:]
			if c.side != nil && c.side[m.from] != c.side[m.to] {
				continue
			}
			c.act(m.to, c.reps[m.to].Receive(c.now, m.from, m.body))
		}
		for _, id := range c.nodes {
			if t := c.due[id]; !t.IsZero() && !t.After(c.now) {
				c.act(id, c.reps[id].Tick(c.now))
			}
		}
	}
}

// randomTxn makes a transaction like Maelstrom's: 1-4 micro-ops on keys
// 0-4, appends of values unique per key.
func (c *cluster) randomTxn(next map[int]int) Txn {
	var txn Txn
	for range 1 + c.rng.IntN(4) {
		k := c.rng.IntN(5)
		key, _ := json.Marshal(k)
		if c.rng.IntN(2) == 0 {
			txn = append(txn, Mop{F: FRead, Key: key})
		} else {
			next[k]++
			v, _ := json.Marshal(next[k])
			txn = append(txn, Mop{F: FAppend, Key: key, Value: v})
		}
	}
	return txn
}

func jsonText(t reporter, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(b)
}

// TestStrictSerializableUnderPartitions drives clusters of 2 and 3 under
// random partitions and checks what a client could see against the one
// log: every replica ends with the same state; every ok transaction that
// appends returned what applying the log in order gives it, and was
// applied once; every ok read-only transaction returned the state after
// some prefix of the log that holds every transaction acknowledged before
// it was submitted (real-time order); every error 11 left no trace.
func TestStrictSerializableUnderPartitions(t *testing.T) {
	for _, n := range []int{2, 3} {
		for seed := range uint64(3) {
			t.Run(fmt.Sprintf("n%d-seed%d", n, seed), func(t *testing.T) {
				checkRun(t, newCluster(t, seed, n, nil))
			})
		}
	}
}

func checkRun(t reporter, c *cluster) {
	c.run(2 * time.Second) // elect
	next := map[int]int{}
	for i := range 400 {
		if i%100 == 50 {
			c.side = map[string]int{}
			for _, id := range c.nodes {
				c.side[id] = c.rng.IntN(2)
			}
		}
		if i%100 == 80 {
			c.side = nil
		}
		c.submit(c.nodes[c.rng.IntN(len(c.nodes))], c.randomTxn(next))
		c.run(time.Duration(c.rng.IntN(15)) * time.Millisecond)
	}
	c.side = nil
	c.run(8 * time.Second)

	// One state everywhere.
	var states []string
	for _, id := range c.nodes {
		states = append(states, jsonText(t, c.reps[id].Store().lists))
	}
	for i := range states {
		if states[i] != states[0] {
			t.Fatalf("%s's state differs from %s's:\n%s\n%s", c.nodes[i], c.nodes[0], states[i], states[0])
		}
	}
	// Replay the log: results and the state after each prefix.
	leader := c.reps[c.nodes[0]]
	var replay Store
	byTxn := map[string]int{}      // txn text → log position (appending txns are unique)
	results := map[string]string{} // txn text → result
	var snapshots []string         // the state after each log position
	snapshots = append(snapshots, jsonText(t, replay.lists))
	seen := map[string]bool{}
	for _, e := range leader.Raft().Log(1) {
		if e.Index > leader.Applied() {
			break
		}
		if len(e.Data) == 0 || string(e.Data) == "null" {
			continue
		}
		var en entry
		if err := json.Unmarshal(e.Data, &en); err != nil {
			t.Fatalf("entry %d: %v", e.Index, err)
		}
		id := fmt.Sprintf("%s/%d", en.Origin, en.ID)
		if seen[id] {
			continue
		}
		seen[id] = true
		k := jsonText(t, en.Txn)
		if _, dup := byTxn[k]; dup {
			t.Fatalf("transaction %s applied twice", k)
		}
		results[k] = jsonText(t, replay.Apply(en.Txn))
		byTxn[k] = len(snapshots)
		snapshots = append(snapshots, jsonText(t, replay.lists))
	}
	var ok, failed, unknown int
	for _, k := range sortedCalls(c) {
		cl := c.reqs[k]
		key := jsonText(t, cl.txn)
		switch {
		case !cl.done:
			unknown++
		case cl.reply.Code == 11:
			failed++
			if _, in := byTxn[key]; in && !cl.txn.ReadOnly() {
				t.Errorf("request %d failed with 11 but was applied: %s", k, key)
			}
		case cl.reply.Code != 0:
			t.Errorf("request %d: error %d %s", k, cl.reply.Code, cl.reply.Text)
		case !cl.txn.ReadOnly():
			ok++
			if got, want := jsonText(t, cl.reply.Txn), results[key]; got != want {
				t.Errorf("request %d %s: replied %s, the log gives %s", k, key, got, want)
			}
		default:
			ok++
			// The earliest prefix allowed: every appending transaction
			// acknowledged before this one was submitted.
			from := 0
			for _, other := range c.reqs {
				if other.done && other.reply.Code == 0 && !other.txn.ReadOnly() && other.repliedT.Before(cl.at) {
					from = max(from, byTxn[jsonText(t, other.txn)])
				}
			}
			got := jsonText(t, cl.reply.Txn)
			found := false
			for i := from; i < len(snapshots) && !found; i++ {
				var s Store
				if err := json.Unmarshal([]byte(snapshots[i]), &s.lists); err != nil {
					t.Fatalf("snapshot %d: %v", i, err)
				}
				res, _ := s.Read(cl.txn)
				found = jsonText(t, res) == got
			}
			if !found {
				t.Errorf("read-only request %d %s returned %s: no state at or after log position %d", k, key, got, from)
			}
		}
	}
	if ok < 200 {
		t.Errorf("only %d of %d transactions succeeded (%d failed, %d unknown)", ok, len(c.reqs), failed, unknown)
	}
	t.Logf("%d ok, %d failed (11), %d unknown; %d messages; log %d", ok, failed, unknown, c.sent, len(snapshots)-1)
}

func sortedCalls(c *cluster) []Request {
	ks := make([]Request, 0, len(c.reqs))
	for k := range c.reqs {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// The same check catches the fixture's bug: applying entries before they
// commit answers transactions that a new leader then overwrites.
func TestApplyOnAppendFailsTheCheck(t *testing.T) {
	for seed := range uint64(5) {
		ft := &fakeT{}
		func() {
			defer func() {
				if r := recover(); r != nil {
					if _, ok := r.(stopCheck); !ok {
						panic(r)
					}
				}
			}()
			checkRun(ft, newCluster(ft, seed, 3, func(cfg *Config) { cfg.ApplyOnAppend = true }))
		}()
		if ft.failed {
			t.Logf("seed %d: %s", seed, ft.first)
			return
		}
	}
	t.Error("ApplyOnAppend passed the strict-serializability check on 5 seeds")
}
