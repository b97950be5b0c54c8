package raft

import (
	"errors"
	"testing"
	"time"
)

// ReadIndex (thesis §6.4): no log append, a majority's confirmation after
// the read began, and a new leader waits for its term's first commit.

func TestReadIndexNeedsAMajorityRound_6_4(t *testing.T) {
	s := cluster(t, 3, nil)
	s.elect("n0")
	s.run(s.now.Add(10 * ms))
	l := s.nodes["n0"]
	logLen := len(l.log)
	rd, err := l.ReadIndex(s.now, 1)
	if err != nil || len(rd.ReadStates) != 0 {
		t.Fatalf("read confirmed without a round: %v %+v", err, rd.ReadStates)
	}
	// One follower's answer makes a majority of three: the round goes to
	// one (eager) follower; heartbeats carry it to the other.
	if len(rd.Messages) != 1 {
		t.Fatalf("read round sent %d messages, want 1", len(rd.Messages))
	}
	s.handle("n0", rd)
	var got []ReadState
	s.reads[1] = 0
	for i := 0; i < 100 && s.readsServed == 0; i++ {
		s.run(s.now.Add(ms / 2))
	}
	if s.readsServed != 1 {
		t.Fatal("read never confirmed")
	}
	_ = got
	if len(l.log) != logLen {
		t.Errorf("a read appended to the log")
	}
	// Cut off, the leader confirms nothing.
	s.partition([]string{"n0"}, []string{"n1", "n2"})
	rd, _ = l.ReadIndex(s.now, 2)
	s.reads[2] = 0
	s.handle("n0", rd)
	s.run(s.now.Add(100 * ms))
	if s.readsServed != 1 {
		t.Fatal("a leader cut off from its majority confirmed a read")
	}
	// Stepping down hands the read back.
	s.run(s.now.Add(time.Second))
	if l.Role() == Leader {
		t.Fatal("still leading")
	}
}

func TestReadIndexDroppedOnStepDown(t *testing.T) {
	s := cluster(t, 3, nil)
	s.elect("n0")
	l := s.nodes["n0"]
	if _, err := l.ReadIndex(s.now, 9); err != nil {
		t.Fatal(err)
	}
	rd := l.Step(s.now, Message{Kind: KindAppendResp, From: "n1", Term: l.Term() + 1, Reject: true})
	if len(rd.DroppedReads) != 1 || rd.DroppedReads[0] != 9 {
		t.Fatalf("dropped reads %v, want [9]", rd.DroppedReads)
	}
	if _, err := l.ReadIndex(s.now, 10); !errors.As(err, new(*ErrNotLeader)) {
		t.Fatalf("read on a follower: %v, want ErrNotLeader", err)
	}
}

func TestNewLeaderReadWaitsForItsTermsFirstCommit(t *testing.T) {
	s := cluster(t, 3, nil)
	s.elect("n0")
	l := s.nodes["n0"]
	// Pretend the no-op has not committed: followers have not answered.
	l.commit = l.termStart - 1
	for _, id := range l.others {
		l.progress[id].round = 1 << 60 // every follower confirmed
	}
	rd, _ := l.ReadIndex(s.now, 5)
	if len(rd.ReadStates) != 0 {
		t.Fatalf("read confirmed before the leader committed in its term: %+v", rd.ReadStates)
	}
	l.commit = l.termStart
	l.checkReads()
	rd = l.ready(s.now)
	if len(rd.ReadStates) != 1 || rd.ReadStates[0].Index < l.termStart {
		t.Fatalf("read after the first commit: %+v, want index ≥ %d", rd.ReadStates, l.termStart)
	}
}

func TestForwardedReadCountsTheForwarder(t *testing.T) {
	s := cluster(t, 3, nil)
	s.elect("n0")
	s.run(s.now.Add(10 * ms))
	l, f := s.nodes["n0"], s.nodes["n1"]
	// Three nodes: the leader and the forwarder are a majority.
	rd, err := l.ReadIndexFor(s.now, 3, "n1", f.Term())
	if err != nil || len(rd.ReadStates) != 1 || len(rd.Messages) != 0 {
		t.Fatalf("forwarded read in a cluster of 3: %v states %+v, %d messages; want confirmed at once", err, rd.ReadStates, len(rd.Messages))
	}
	if _, err := l.ReadIndexFor(s.now, 4, "n1", f.Term()-1); !errors.Is(err, ErrStaleTerm) {
		t.Fatalf("forwarded from an earlier term: %v, want ErrStaleTerm", err)
	}
	if _, err := l.ReadIndexFor(s.now, 4, "stranger", f.Term()); err == nil {
		t.Fatal("forwarded by a non-member: accepted")
	}
	// Five nodes: leader + forwarder are not a majority; one more is needed.
	s5 := cluster(t, 5, nil)
	s5.elect("n0")
	s5.run(s5.now.Add(10 * ms))
	rd, _ = s5.nodes["n0"].ReadIndexFor(s5.now, 3, "n1", s5.nodes["n1"].Term())
	if len(rd.ReadStates) != 0 || len(rd.Messages) != 1 {
		t.Fatalf("forwarded read in a cluster of 5: states %+v, %d messages; want a round", rd.ReadStates, len(rd.Messages))
	}
}
