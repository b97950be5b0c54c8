package node

import (
	"context"
	"sync"
	"time"
)

// Stepper is the wiring between a node and a protocol written as a plain
// type whose methods take events and return a Ready (what to send, and
// when to call Tick next): it owns the lock that serialises the
// protocol's steps and the one timer that calls the protocol's Tick at the
// latest step's NextTick.
//
// Step runs a step under the lock and, in the same critical section,
// resets the timer to the step's NextTick (or stops it when NextTick is
// zero). Doing both under one lock is the point: a step that finishes
// later always sets the timer later, so an earlier step's NextTick never
// overwrites a newer one. A timer rather than a loop that sleeps until
// NextTick: resetting it costs no goroutine switch, and nothing runs while
// nothing is scheduled. A tick that fires early or twice is harmless,
// because a protocol's Tick only does what is due.
//
// What a step asks for is carried out outside the lock, by the caller for
// its own steps (often after its reply, with ReplyThen) and by deliver for
// ticks, so no send ever waits on the lock or holds it.
//
// Stepper is generic over the protocol's Ready type rather than asking the
// Ready types to satisfy an interface: Go's type parameters cannot read
// struct fields, and the protocols' Ready types differ (lib/listappend's
// also carries client replies, which only the wiring can match to
// requests), so the caller says how to read NextTick and how to deliver
// a Ready, and the protocol packages keep no methods that exist only for
// the runtime.
type Stepper[R any] struct {
	tick     func(now time.Time) R
	nextTick func(R) time.Time
	deliver  func(R)

	// The clock, injectable so tests neither sleep nor race real timers.
	now       func() time.Time
	afterFunc func(time.Duration, func()) stepTimer

	mu      sync.Mutex
	timer   stepTimer // nil until a step first asks for a tick
	stopped bool      // no more ticks: the node is shutting down
}

// stepTimer is the part of *time.Timer a Stepper uses.
type stepTimer interface {
	Reset(d time.Duration) bool
	Stop() bool
}

// NewStepper makes the Stepper of a protocol served by n. tick is the
// protocol's Tick, nextTick reads a Ready's NextTick (zero: no tick is
// needed until a later step says so), and deliver carries out a tick's
// Ready (sends its messages); deliver runs outside the lock, on the
// timer's goroutine. The timer is stopped for good once n's input ends
// (steps still run while the node drains its backlog, but schedule no
// more ticks). Make it in the node's init hook, or before Run.
//
//	s.steps = node.NewStepper(n, g.Tick, func(r gossip.Ready) time.Time { return r.NextTick }, s.send)
//	…
//	s.send(s.steps.Step(func(now time.Time) gossip.Ready { return g.Receive(src, m, now) }))
func NewStepper[R any](n *Node, tick func(now time.Time) R, nextTick func(R) time.Time, deliver func(R)) *Stepper[R] {
	s := newStepper(tick, nextTick, deliver, time.Now, func(d time.Duration, f func()) stepTimer {
		return time.AfterFunc(d, f)
	})
	n.Go(func(ctx context.Context) {
		<-ctx.Done()
		s.Stop()
	})
	return s
}

func newStepper[R any](tick func(time.Time) R, nextTick func(R) time.Time, deliver func(R),
	now func() time.Time, afterFunc func(time.Duration, func()) stepTimer) *Stepper[R] {
	return &Stepper[R]{tick: tick, nextTick: nextTick, deliver: deliver, now: now, afterFunc: afterFunc}
}

// Step runs fn, one protocol step, under the lock with the current time,
// schedules the next tick at its Ready's NextTick, and returns the Ready
// for the caller to carry out once it no longer needs the lock.
func (s *Stepper[R]) Step(fn func(now time.Time) R) R {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stepLocked(fn)
}

// Locked runs fn under the lock, for what reads or changes the protocol's
// state without being a step (a read served from the state, stats).
func (s *Stepper[R]) Locked(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn()
}

// Stop stops the ticks for good: no Tick starts after Stop returns, and
// later steps still run but schedule nothing.
func (s *Stepper[R]) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	if s.timer != nil {
		s.timer.Stop()
	}
}

// stepLocked runs fn and schedules the next tick. Caller holds mu.
func (s *Stepper[R]) stepLocked(fn func(time.Time) R) R {
	now := s.now()
	r := fn(now)
	next := s.nextTick(r)
	switch {
	case s.stopped:
	case next.IsZero():
		if s.timer != nil {
			s.timer.Stop()
		}
	case s.timer == nil:
		s.timer = s.afterFunc(next.Sub(now), s.fire)
	default:
		// Since Go 1.23 Reset discards a pending expiry, so no drain.
		s.timer.Reset(next.Sub(now))
	}
	return r
}

// fire is the timer's callback: one Tick step, then its delivery outside
// the lock. Checking stopped under the same lock as the step is what makes
// Stop final even for a timer that fired while Stop ran.
func (s *Stepper[R]) fire() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	r := s.stepLocked(s.tick)
	s.mu.Unlock()
	s.deliver(r)
}
