package main

import (
	"strconv"

	"github.com/glomers/glomers/tools/flyio"
)

// Challenge is one of Fly.io's challenges as tools/flyio's table states it
// (the one table the challenge BUILD files also read), with what the
// scoreboard adds: the command line it runs and how long that takes.
type Challenge struct{ flyio.Challenge }

// Challenges lists every challenge in the table's order: Fly.io's, then
// Maelstrom's own workloads.
var Challenges = func() []Challenge {
	var out []Challenge
	for _, c := range flyio.Challenges() {
		out = append(out, Challenge{c})
	}
	return out
}()

// TargetCheck is a Fly.io target with the value a run reached.
type TargetCheck = flyio.TargetCheck

// Binaries are the --bin keys the challenges use.
func Binaries() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range Challenges {
		if !seen[c.Binary] {
			seen[c.Binary] = true
			out = append(out, c.Binary)
		}
	}
	return out
}

// timeLimit is the run's --time-limit.
func (c Challenge) timeLimit(quick bool) int {
	if quick {
		return c.Quick
	}
	return c.TimeLimit
}

// CommandArgs is the workbench command line for this challenge.
func (c Challenge) CommandArgs(bin string, quick bool, seed string) []string {
	a := []string{"test", "-w", c.Workload, "--bin", bin}
	a = append(a, c.Args...)
	a = append(a, "--time-limit", strconv.Itoa(c.timeLimit(quick)))
	if seed != "" {
		a = append(a, "--seed", seed)
	}
	return a
}

// expectedSeconds estimates a run's wall time: the time limit, plus the
// final phase's heal, 10 s quiet and final reads, plus start-up.
func (c Challenge) expectedSeconds(quick bool) int {
	s := c.timeLimit(quick) + 1
	if c.Final {
		s += 11
	}
	return s
}
