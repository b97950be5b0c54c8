package raft

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Tests named after the rule of the Raft paper (§) or thesis they check,
// on the simulation's fake clock and network (sim_test.go).

var ms = time.Millisecond

// cluster makes n nodes on a reliable network with 1 ms latency.
func cluster(t *testing.T, n int, cfgFn func(*Config)) *sim {
	t.Helper()
	return newSim(t, 1, n, cfgFn, netConfig{minLatency: ms, maxLatency: ms})
}

// elect makes id campaign now and runs until the election is over.
func (s *sim) elect(id string) {
	s.t.Helper()
	r := s.nodes[id]
	for _, o := range s.nodes {
		o.heardLeader = time.Time{} // as if every lease had run out
	}
	r.electionDeadline = s.now
	s.handle(id, r.Tick(s.now))
	for i := 0; i < 10000 && r.Role() != Leader; i++ {
		s.run(s.now.Add(ms / 10))
	}
	if r.Role() != Leader {
		s.t.Fatalf("%s did not win: %+v", id, r.Status())
	}
}

func (s *sim) mustPropose(id, data string) uint64 {
	s.t.Helper()
	rd, err := s.nodes[id].Propose(s.now, json.RawMessage(data))
	if err != nil {
		s.t.Fatalf("propose at %s: %v", id, err)
	}
	s.handle(id, rd)
	return rd.Entries[len(rd.Entries)-1].Index
}

func (s *sim) noViolations() {
	s.t.Helper()
	if len(s.violations) > 0 {
		s.t.Fatalf("safety violations: %s", strings.Join(s.violations, "\n"))
	}
}

func TestLeaderElection_5_2(t *testing.T) {
	for _, pre := range []bool{false, true} {
		t.Run(fmt.Sprintf("prevote=%v", pre), func(t *testing.T) {
			s := cluster(t, 3, func(c *Config) { c.PreVote = pre })
			// Nobody leads until a timeout fires; then one node wins.
			s.run(s.now.Add(2 * time.Second))
			l, ok := s.leader()
			if !ok {
				t.Fatal("no single leader after 2 s")
			}
			term := s.nodes[l].Term()
			for _, id := range s.ids {
				r := s.nodes[id]
				if r.Term() != term || r.Leader() != l {
					t.Errorf("%s: term %d leader %q, want term %d leader %s", id, r.Term(), r.Leader(), term, l)
				}
			}
			// The winner appended a no-op of its term and committed it.
			if e := s.nodes[l].log[s.nodes[l].commit]; e.Term != term || e.Data != nil {
				t.Errorf("leader's last committed entry %+v, want the no-op of term %d", e, term)
			}
			s.noViolations()
		})
	}
}

func TestElectionTimeoutIsRandomised_5_2(t *testing.T) {
	cfg := DefaultConfig("a", []string{"a", "b", "c"})
	now := time.Unix(0, 0)
	r, _ := New(cfg, now)
	seen := map[time.Duration]bool{}
	for i := 0; i < 50; i++ {
		r.resetElectionTimer(now)
		d := r.electionDeadline.Sub(now)
		if d < cfg.ElectionTimeout || d >= 2*cfg.ElectionTimeout {
			t.Fatalf("election timeout %v outside [%v, %v)", d, cfg.ElectionTimeout, 2*cfg.ElectionTimeout)
		}
		seen[d] = true
	}
	if len(seen) < 40 {
		t.Errorf("only %d distinct timeouts in 50 draws", len(seen))
	}
}

func TestOneVotePerTerm_5_2(t *testing.T) {
	now := time.Unix(0, 0)
	r, _ := New(DefaultConfig("c", []string{"a", "b", "c"}), now)
	vote := func(from string) Message {
		rd := r.Step(now, Message{Kind: KindVote, From: from, Term: 1})
		if len(rd.Messages) != 1 {
			t.Fatalf("vote request from %s: %d replies", from, len(rd.Messages))
		}
		return rd.Messages[0]
	}
	if m := vote("a"); m.Reject || m.Term != 1 {
		t.Fatalf("first candidate refused: %+v", m)
	}
	if m := vote("b"); !m.Reject {
		t.Fatalf("second candidate of the same term granted: %+v", m)
	}
	if m := vote("a"); m.Reject {
		t.Fatalf("repeated request of the candidate voted for refused: %+v", m)
	}
	// The broken rule the simulation must catch grants both.
	r2, _ := New(DefaultConfig("c", []string{"a", "b", "c"}), now)
	r2.bugs.doubleVote = true
	r2.Step(now, Message{Kind: KindVote, From: "a", Term: 1})
	if rd := r2.Step(now, Message{Kind: KindVote, From: "b", Term: 1}); rd.Messages[0].Reject {
		t.Fatal("doubleVote switch has no effect")
	}
}

func TestVoteRequiresUpToDateLog_5_4_1(t *testing.T) {
	now := time.Unix(0, 0)
	r, _ := New(DefaultConfig("c", []string{"a", "b", "c"}), now)
	r.term = 3
	r.log = append(r.log, Entry{Term: 2, Index: 1}, Entry{Term: 3, Index: 2})
	for _, tc := range []struct {
		lastIdx, lastTerm uint64
		grant             bool
	}{
		{5, 2, false}, // longer but older last term
		{1, 3, false}, // same last term, shorter
		{2, 3, true},  // same
		{1, 4, true},  // newer last term
	} {
		r.vote = ""
		rd := r.Step(now, Message{Kind: KindVote, From: "a", Term: 4, Index: tc.lastIdx, LogTerm: tc.lastTerm})
		if got := !rd.Messages[0].Reject; got != tc.grant {
			t.Errorf("candidate last (%d, term %d): granted %v, want %v", tc.lastIdx, tc.lastTerm, got, tc.grant)
		}
	}
}

func TestHigherTermDeposesLeader_5_1(t *testing.T) {
	s := cluster(t, 3, nil)
	s.elect("n0")
	r := s.nodes["n0"]
	want := r.Term() + 5
	rd := r.Step(s.now, Message{Kind: KindAppendResp, From: "n1", Term: want})
	if r.Role() != Follower || r.Term() != want {
		t.Fatalf("leader after a higher term: %+v", r.Status())
	}
	if rd.SoftState == nil || rd.SoftState.Role != Follower || rd.HardState == nil || rd.HardState.Term != r.Term() {
		t.Errorf("the change of role and term is not in the Ready: %+v %+v", rd.SoftState, rd.HardState)
	}
}

func TestStaleTermIsRefused_5_1(t *testing.T) {
	s := cluster(t, 3, nil)
	s.elect("n0")
	f := s.nodes["n1"]
	before := len(f.log)
	rd := f.Step(s.now, Message{Kind: KindAppend, From: "n2", Term: f.Term() - 1, Entries: []Entry{{Term: 0, Index: uint64(before)}}})
	if len(f.log) != before {
		t.Fatal("follower appended entries from a stale leader")
	}
	if len(rd.Messages) != 1 || rd.Messages[0].Term != f.Term() || !rd.Messages[0].Reject {
		t.Fatalf("stale leader not told the term: %+v", rd.Messages)
	}
}

func TestLogReplication_5_3(t *testing.T) {
	s := cluster(t, 3, nil)
	s.elect("n0")
	idx := s.mustPropose("n0", `"x"`)
	s.run(s.now.Add(10 * ms))
	l := s.nodes["n0"]
	if l.commit < idx {
		t.Fatalf("leader commit %d, want ≥ %d", l.commit, idx)
	}
	// Followers learn the commit with the next append (the heartbeat).
	s.run(s.now.Add(DefaultConfig("", nil).HeartbeatInterval + 5*ms))
	for _, id := range s.ids {
		a := s.applied[id]
		if len(a) == 0 || string(a[len(a)-1].Data) != `"x"` {
			t.Errorf("%s applied %+v, want \"x\" last", id, a)
		}
	}
	s.noViolations()
}

func TestCommitNeedsMajority_5_3(t *testing.T) {
	s := cluster(t, 5, nil)
	s.elect("n0")
	s.partition([]string{"n0", "n1"}, []string{"n2", "n3", "n4"})
	idx := s.mustPropose("n0", `"minority"`)
	s.run(s.now.Add(100 * ms))
	if c := s.nodes["n0"].commit; c >= idx {
		t.Fatalf("committed %d with 2 of 5 holding it", c)
	}
}

func TestConflictingEntriesAreReplaced_5_3(t *testing.T) {
	s := cluster(t, 3, nil)
	s.elect("n0")
	// n0, cut off, takes 30 proposals that never commit.
	s.partition([]string{"n0"}, []string{"n1", "n2"})
	for i := 0; i < 30; i++ {
		s.mustPropose("n0", fmt.Sprintf(`"lost%d"`, i))
	}
	s.run(s.now.Add(800 * ms)) // n1 or n2 is elected meanwhile
	l, _ := s.leader()
	if l == "n0" {
		// CheckQuorum has not deposed it yet; the other side elects anyway.
		t.Fatalf("n0 still leads alone: %+v", s.nodes["n0"].Status())
	}
	s.mustPropose(l, `"kept"`)
	s.heal()
	rejects := s.rejects
	s.run(s.now.Add(300 * ms))
	for _, e := range s.nodes["n0"].log {
		if strings.HasPrefix(string(e.Data), `"lost`) {
			t.Fatalf("n0 still holds uncommitted entry %+v of a deposed term", e)
		}
	}
	if a := s.applied["n0"]; string(a[len(a)-1].Data) != `"kept"` {
		t.Errorf("n0 did not apply the new leader's entry: last %+v", a[len(a)-1])
	}
	// Fast back-off: the 30 conflicting entries share a term, so the
	// leader finds the match point in one rejection, not thirty.
	if got := s.rejects - rejects; got > 2 {
		t.Errorf("%d rejected appends to repair n0's log; fast back-off should need one or two", got)
	}
	s.noViolations()
}

// Figure 8: a leader must not commit an entry of an earlier term by
// counting its replicas. With the rule broken, the simulation's checker
// reports the committed entry being replaced.
func TestCommitOnlyCurrentTerm_5_4_2(t *testing.T) {
	for _, broken := range []bool{false, true} {
		t.Run(fmt.Sprintf("broken=%v", broken), func(t *testing.T) {
			s := figure8(t, broken)
			if broken {
				// S5 leads term 5 without the entry S1 committed in
				// term 4, and then replaces it.
				found := false
				for _, v := range s.violations {
					found = found || strings.Contains(v, "committed entry changed") || strings.Contains(v, "leader completeness")
				}
				if !found {
					t.Fatalf("broken rule not caught; violations: %v", s.violations)
				}
				return
			}
			s.noViolations()
			if c := s.committed; len(c) < 2 || c[1].Term != 3 {
				t.Fatalf("index 2 committed as %+v, want S5's entry of term 3", c)
			}
		})
	}
}

// figure8 plays the paper's Figure 8 with S1..S5 = n0..n4, from (b): S1
// and S2 hold index 2 of term 2, S5 holds index 2 of term 3, S3 and S4
// only index 1.
func figure8(t *testing.T, broken bool) *sim {
	s := cluster(t, 5, func(c *Config) { c.PreVote, c.MaxEntriesPerMsg = false, 1 })
	if broken {
		s.setBugs(bugs{commitOldTerm: true})
	}
	e1 := Entry{Term: 1, Index: 1, Data: json.RawMessage(`"e1"`)}
	for _, id := range s.ids {
		r := s.nodes[id]
		r.log = []Entry{{}, e1}
		r.term, r.commit = 3, 1
	}
	s.nodes["n0"].term, s.nodes["n1"].term = 2, 2
	for _, id := range []string{"n0", "n1"} {
		s.nodes[id].log = append(s.nodes[id].log, Entry{Term: 2, Index: 2, Data: json.RawMessage(`"from S1"`)})
	}
	s.nodes["n4"].log = append(s.nodes["n4"].log, Entry{Term: 3, Index: 2, Data: json.RawMessage(`"from S5"`)})
	for _, id := range s.ids {
		s.nodes[id].electionDeadline = s.now.Add(time.Hour) // only forced campaigns
	}
	// (c) S1 is elected in term 4 by S2 and S3 and sends S3 index 2.
	s.partition([]string{"n0", "n1", "n2"}, []string{"n3"}, []string{"n4"})
	s.nodes["n0"].term = 3
	s.elect("n0")
	s.nodes["n2"].electionDeadline = s.now.Add(time.Hour)
	s.nodes["n1"].electionDeadline = s.now.Add(time.Hour)
	// Deliver until S3 holds index 2 but not S1's no-op at index 3, then
	// cut S1 off: the no-op never arrives.
	for i := 0; i < 1000 && s.nodes["n0"].progress["n2"].match < 2; i++ {
		s.run(s.now.Add(ms / 10))
	}
	s.partition([]string{"n0", "n1"}, []string{"n2", "n3", "n4"})
	s.run(s.now.Add(10 * ms))
	if got := s.nodes["n0"].commit; (got >= 2) != broken {
		t.Fatalf("S1 committed through %d with the rule broken=%v", got, broken)
	}
	// (d) S5 is elected by S3 and S4 (its last term 3 beats their 2 and 1)
	// and replicates its index 2 of term 3.
	s.nodes["n4"].term = 4
	s.elect("n4")
	s.run(s.now.Add(300 * ms))
	return s
}

func TestPreVoteKeepsRejoiningNodeFromDeposingLeader_9_6(t *testing.T) {
	for _, pre := range []bool{true, false} {
		t.Run(fmt.Sprintf("prevote=%v", pre), func(t *testing.T) {
			s := cluster(t, 3, func(c *Config) { c.PreVote = pre })
			s.elect("n0")
			term := s.nodes["n0"].Term()
			s.partition([]string{"n0", "n1"}, []string{"n2"})
			for i := 0; i < 20; i++ {
				s.mustPropose("n0", fmt.Sprintf(`%d`, i))
				s.run(s.now.Add(100 * ms))
			}
			s.heal()
			s.run(s.now.Add(time.Second))
			l, ok := s.leader()
			if pre {
				if !ok || l != "n0" || s.nodes["n0"].Term() != term {
					t.Fatalf("with PreVote: leader %q term %d, want n0 still leading term %d", l, s.nodes["n0"].Term(), term)
				}
				if s.nodes["n2"].Term() != term {
					t.Errorf("n2 raised its term to %d while cut off", s.nodes["n2"].Term())
				}
			} else if s.nodes["n2"].Term() == term {
				t.Errorf("without PreVote n2 should have raised its term while cut off")
			}
			s.noViolations()
		})
	}
}

func TestCheckQuorumStepsDownLeaderCutOff(t *testing.T) {
	s := cluster(t, 3, nil)
	s.elect("n0")
	s.partition([]string{"n0"}, []string{"n1", "n2"})
	s.run(s.now.Add(3 * DefaultConfig("", nil).ElectionTimeout))
	if r := s.nodes["n0"]; r.Role() == Leader {
		t.Fatalf("n0 still leads after %v without a majority", 3*DefaultConfig("", nil).ElectionTimeout)
	}
	if _, err := s.nodes["n0"].Propose(s.now, nil); !errors.As(err, new(*ErrNotLeader)) {
		t.Errorf("Propose on the deposed leader: %v, want ErrNotLeader", err)
	}
}

func TestProgressKeptAcrossTerms(t *testing.T) {
	s := cluster(t, 3, nil)
	s.elect("n0")
	for i := 0; i < 5; i++ {
		s.mustPropose("n0", `1`)
	}
	s.run(s.now.Add(100 * ms))
	commit := s.nodes["n0"].commit
	// n0 steps down (a higher term seen) and is elected again.
	s.nodes["n0"].Step(s.now, Message{Kind: KindAppendResp, From: "n1", Term: s.nodes["n0"].Term() + 1, Reject: true})
	if p := s.nodes["n0"].progress["n1"]; p.match != commit {
		t.Fatalf("after stepping down, n1's match %d, want the commit index %d kept", p.match, commit)
	}
	s.run(s.now.Add(20 * ms))
	s.nodes["n1"].electionDeadline = s.now.Add(time.Hour)
	s.nodes["n2"].electionDeadline = s.now.Add(time.Hour)
	s.elect("n0")
	if p := s.nodes["n0"].progress["n1"]; p.match < commit {
		t.Errorf("re-elected leader's match for n1 %d, want ≥ %d", p.match, commit)
	}
	s.noViolations()
}

func TestBatchingWhileInflight(t *testing.T) {
	s := newSim(t, 1, 3, nil, netConfig{minLatency: 10 * ms, maxLatency: 10 * ms})
	s.elect("n0")
	s.run(s.now.Add(100 * ms))
	sent := s.msgsSent
	for i := 0; i < 10; i++ {
		s.mustPropose("n0", fmt.Sprint(i))
		s.run(s.now.Add(2 * ms))
	}
	s.run(s.now.Add(60 * ms))
	// 10 proposals 2 ms apart over a 20 ms round trip: with one append in
	// flight per follower they go out in about two batches, not ten.
	if got := s.msgsSent - sent; got > 12 {
		t.Errorf("%d messages for 10 proposals; batching should need ≤ 12", got)
	}
	if l := s.nodes["n0"]; l.commit != l.lastIndex() {
		t.Errorf("commit %d of %d", l.commit, l.lastIndex())
	}
}

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig("a", []string{"a", "b"})
	if err := good.Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	for name, mut := range map[string]func(*Config){
		"empty id":       func(c *Config) { c.ID = "" },
		"id not a peer":  func(c *Config) { c.ID = "z" },
		"zero timeout":   func(c *Config) { c.ElectionTimeout = 0 },
		"slow heartbeat": func(c *Config) { c.HeartbeatInterval = c.ElectionTimeout },
		"no entries":     func(c *Config) { c.MaxEntriesPerMsg = 0 },
		"no inflight":    func(c *Config) { c.MaxInflight = 0 },
		"repeated peer":  func(c *Config) { c.Peers = []string{"a", "b", "b"} },
	} {
		c := DefaultConfig("a", []string{"a", "b"})
		mut(&c)
		if _, err := New(c, time.Now()); err == nil {
			t.Errorf("%s: New accepted %+v", name, c)
		}
	}
}

func TestSingleNodeCommitsAlone(t *testing.T) {
	now := time.Unix(0, 0)
	r, _ := New(DefaultConfig("a", []string{"a"}), now)
	rd := r.Tick(now.Add(time.Second))
	if r.Role() != Leader || len(rd.Committed) != 1 {
		t.Fatalf("single node: %+v committed %v", r.Status(), rd.Committed)
	}
	rd, err := r.Propose(now, json.RawMessage(`"x"`))
	if err != nil || len(rd.Committed) != 1 || string(rd.Committed[0].Data) != `"x"` {
		t.Fatalf("single node propose: %v %+v", err, rd.Committed)
	}
	rd, err = r.ReadIndex(now, 7)
	if err != nil || len(rd.ReadStates) != 1 || rd.ReadStates[0] != (ReadState{Ctx: 7, Index: 2}) {
		t.Fatalf("single node read: %v %+v", err, rd.ReadStates)
	}
	if _, err := r.Propose(now, json.RawMessage(`{bad`)); !errors.Is(err, ErrInvalidData) {
		t.Errorf("invalid JSON: %v", err)
	}
}

// A node restored from what its Readys asked to persist rejoins with its
// term, vote and log, and re-applies what it had not applied.
func TestRestoreFromPersistedState(t *testing.T) {
	s := cluster(t, 3, nil)
	s.elect("n0")
	var hs HardState
	var log []Entry
	// Collect n1's persisted state from its Readys.
	n1 := s.nodes["n1"]
	for i := 0; i < 3; i++ {
		s.mustPropose("n0", fmt.Sprint(i))
	}
	s.run(s.now.Add(300 * ms))
	hs = n1.hardState()
	log = append(log, n1.Log(1)...)
	cfg := DefaultConfig("n1", s.ids)
	r, err := Restore(cfg, s.now, hs, log, 2)
	if err != nil {
		t.Fatal(err)
	}
	if r.Term() != n1.Term() || r.vote != n1.vote || r.lastIndex() != n1.lastIndex() {
		t.Fatalf("restored %+v, was %+v", r.Status(), n1.Status())
	}
	rd := r.Tick(s.now)
	if len(rd.Committed) != int(hs.Commit-2) || rd.Committed[0].Index != 3 {
		t.Fatalf("re-applied %+v, want entries 3..%d", rd.Committed, hs.Commit)
	}
	if _, err := Restore(cfg, s.now, HardState{Term: 1, Commit: 9}, log, 0); err == nil {
		t.Error("accepted a commit index beyond the log")
	}
	if _, err := Restore(cfg, s.now, HardState{Term: 0}, log, 0); err == nil {
		t.Error("accepted entries of a term after the hard state's")
	}
}
