package main

import (
	"slices"
	"sort"
)

// scheduler decides which challenges run side by side. Most of a run is
// waiting (the time limit, the final phase's 10 s quiet period), so runs
// can overlap; what they must not overlap on is CPU, which would distort
// latency figures and starve the nodes. Each challenge states the cores it
// keeps busy (Challenge.CPU, measured), and runs start while their sum
// stays within the budget. A challenge whose figures are latency-sensitive
// (Quiet: 3d, 3e) never shares the machine with one that is not: quiet runs
// go first, together, and the rest wait for them.
type scheduler struct {
	budget  float64 // cores; at most this much CPU runs at once
	serial  bool    // one run at a time, whatever the budget
	pending []Challenge
	running []Challenge
	used    float64
}

// newScheduler orders the challenges: serially in Fly.io's order (as the
// scoreboard always ran); otherwise quiet ones first, then the longest
// first, so that short runs fill the gaps at the end.
func newScheduler(todo []Challenge, budget float64, serial bool, quick bool) *scheduler {
	pending := slices.Clone(todo)
	if !serial {
		sort.SliceStable(pending, func(i, j int) bool {
			a, b := pending[i], pending[j]
			if a.Quiet != b.Quiet {
				return a.Quiet
			}
			return a.expectedSeconds(quick) > b.expectedSeconds(quick)
		})
	}
	return &scheduler{budget: budget, serial: serial, pending: pending}
}

// next returns the challenges to start now (and counts them as running).
func (s *scheduler) next() []Challenge {
	var start []Challenge
	for i := 0; i < len(s.pending); {
		c := s.pending[i]
		if !s.fits(c) {
			if c.Quiet {
				// Hold the rest back rather than let busy runs
				// overtake a quiet one and delay it indefinitely.
				break
			}
			i++
			continue
		}
		start = append(start, c)
		s.running = append(s.running, c)
		s.used += c.CPU
		s.pending = slices.Delete(s.pending, i, i+1)
	}
	return start
}

// fits says whether c may start beside what is running.
func (s *scheduler) fits(c Challenge) bool {
	if len(s.running) == 0 {
		return true // a run bigger than the budget still runs, alone
	}
	if s.serial {
		return false
	}
	for _, r := range s.running {
		if r.Quiet != c.Quiet {
			return false
		}
	}
	return s.used+c.CPU <= s.budget+1e-9
}

// done records that c finished.
func (s *scheduler) done(c Challenge) {
	for i, r := range s.running {
		if r.ID == c.ID {
			s.running = slices.Delete(s.running, i, i+1)
			s.used -= c.CPU
			break
		}
	}
	if len(s.running) == 0 {
		s.used = 0 // no float drift across many runs
	}
}

// finished says whether nothing is left to run or running.
func (s *scheduler) finished() bool { return len(s.pending) == 0 && len(s.running) == 0 }

// estimate plays the schedule with each run's expected duration and
// returns the expected wall time in seconds.
func estimate(todo []Challenge, budget float64, serial, quick bool) int {
	s := newScheduler(todo, budget, serial, quick)
	type run struct {
		c   Challenge
		end int
	}
	var running []run
	now := 0
	for !s.finished() {
		for _, c := range s.next() {
			running = append(running, run{c, now + c.expectedSeconds(quick)})
		}
		if len(running) == 0 {
			break
		}
		// Advance to the first end.
		first := 0
		for i, r := range running {
			if r.end < running[first].end {
				first = i
			}
		}
		now = running[first].end
		s.done(running[first].c)
		running = slices.Delete(running, first, first+1)
	}
	return now
}
