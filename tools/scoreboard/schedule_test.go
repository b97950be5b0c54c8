package main

import (
	"testing"

	"github.com/glomers/glomers/tools/flyio"
)

func fake(id string, cpu float64, quiet bool, timeLimit int) Challenge {
	return Challenge{flyio.Challenge{ID: id, CPU: cpu, Quiet: quiet, TimeLimit: timeLimit, Quick: timeLimit}}
}

func ids(cs []Challenge) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func TestSchedulerKeepsQuietRunsApartAndWithinBudget(t *testing.T) {
	todo := []Challenge{
		fake("light", 0.1, false, 10),
		fake("heavy1", 0.9, false, 30),
		fake("quiet1", 0.4, true, 20),
		fake("heavy2", 0.9, false, 20),
		fake("quiet2", 0.3, true, 20),
		fake("heavy3", 0.9, false, 20),
	}
	s := newScheduler(todo, 2, false, false)
	// The quiet runs first, together, and nothing else beside them.
	if got := ids(s.next()); len(got) != 2 || got[0] != "quiet1" || got[1] != "quiet2" {
		t.Fatalf("first wave %v, want [quiet1 quiet2]", got)
	}
	if got := s.next(); len(got) != 0 {
		t.Fatalf("started %v beside the quiet runs", ids(got))
	}
	s.done(todo[2])
	if got := s.next(); len(got) != 0 {
		t.Fatalf("started %v while quiet2 still runs", ids(got))
	}
	s.done(todo[4])
	// Then the longest first, within 2 cores: two heavy runs and the light one.
	if got := ids(s.next()); len(got) != 3 || got[0] != "heavy1" || got[1] != "heavy2" || got[2] != "light" {
		t.Fatalf("second wave %v, want [heavy1 heavy2 light]", got)
	}
	if s.used > 2 {
		t.Errorf("used %.1f cores, budget 2", s.used)
	}
	s.done(todo[3])
	if got := ids(s.next()); len(got) != 1 || got[0] != "heavy3" {
		t.Fatalf("third wave %v, want [heavy3]", got)
	}
	s.done(todo[1])
	s.done(todo[0])
	s.done(todo[5])
	if !s.finished() {
		t.Error("not finished")
	}
}

func TestSchedulerRunsAnOversizedRunAlone(t *testing.T) {
	big, small := fake("big", 3, false, 10), fake("small", 0.1, false, 5)
	s := newScheduler([]Challenge{big, small}, 2, false, false)
	if got := ids(s.next()); len(got) != 1 || got[0] != "big" {
		t.Fatalf("got %v, want big alone", got)
	}
	s.done(big)
	if got := ids(s.next()); len(got) != 1 || got[0] != "small" {
		t.Fatalf("got %v", got)
	}
}

func TestSerialSchedulerKeepsFlyOrderOneAtATime(t *testing.T) {
	todo := []Challenge{fake("1", 0.1, false, 10), fake("3d", 0.4, true, 20), fake("4", 0.2, false, 20)}
	s := newScheduler(todo, 2, true, false)
	var order []string
	for !s.finished() {
		got := s.next()
		if len(got) != 1 {
			t.Fatalf("serial started %v", ids(got))
		}
		order = append(order, got[0].ID)
		s.done(got[0])
	}
	if want := []string{"1", "3d", "4"}; len(order) != 3 || order[0] != want[0] || order[1] != want[1] || order[2] != want[2] {
		t.Errorf("order %v, want %v", order, want)
	}
}

func TestEstimate(t *testing.T) {
	todo := []Challenge{fake("a", 1, false, 9), fake("b", 1, false, 9), fake("c", 1, false, 9)}
	// 10 s each (time limit + 1): two at a time, then one.
	if got := estimate(todo, 2, false, false); got != 20 {
		t.Errorf("parallel estimate %d, want 20", got)
	}
	if got := estimate(todo, 2, true, false); got != 30 {
		t.Errorf("serial estimate %d, want 30", got)
	}
	// With the real table, the default budget fits the 150 s.
	all := Challenges
	if got := estimate(all, defaultCPUs, false, false); got > 150 {
		t.Errorf("full board estimated at %d s with %.1f cores, want ≤ 150", got, defaultCPUs)
	}
}
