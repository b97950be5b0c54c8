// Command resultcheck judges a Maelstrom run's results.json against
// bound expressions (package bound). maelstrom_test runs it after the
// workbench: a valid run must keep its bounds, and a deliberately broken
// fixture must be rejected for the stated reason, not another one.
//
//	resultcheck [--bound EXPR]... [--pending EXPR]... [--reason EXPR]... RESULTS...
//
// RESULTS is a workbench run's results.json, or a run stored by the real
// Maelstrom (its results.edn, or its directory): the figures its
// results.edn lacks are computed from its history.edn by the workbench's
// own checkers (maelstrom.go), so the same bounds hold under both
// harnesses. A bound on a figure a Maelstrom store cannot give (the
// node's service times, which need the network journal) is reported as
// not checked.
//
// Every --bound and --reason must hold in every results file. A --pending
// bound is one whose result key may not exist yet: it is judged when the
// key is there and only noted when it is not. Each check prints one line
// with the measured value. Exit status: 0 all held, 1 something missed or
// could not be judged, 254 bad arguments.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/glomers/glomers/tools/resultcheck/bound"
)

const (
	exitOK      = 0
	exitMissed  = 1
	exitBadArgs = 254
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, "; ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

type check struct {
	kind string // bound, pending or reason
	b    bound.Bound
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("resultcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var bounds, pending, reasons listFlag
	fs.Var(&bounds, "bound", "EXPR that a valid run's results must satisfy (repeatable)")
	fs.Var(&pending, "pending", "EXPR judged only when its key exists (repeatable)")
	fs.Var(&reasons, "reason", "EXPR that says why a rejected run was rejected (repeatable)")
	if err := fs.Parse(args); err != nil {
		return exitBadArgs
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "resultcheck: no results.json given")
		return exitBadArgs
	}
	var checks []check
	for _, g := range []struct {
		kind  string
		exprs []string
	}{{"bound", bounds}, {"pending", pending}, {"reason", reasons}} {
		for _, e := range g.exprs {
			b, err := bound.Parse(e)
			if err != nil {
				fmt.Fprintf(stderr, "resultcheck: %v\n", err)
				return exitBadArgs
			}
			checks = append(checks, check{g.kind, b})
		}
	}
	code := exitOK
	for _, path := range fs.Args() {
		var res map[string]any
		var err error
		dir, fromMaelstrom := maelstromDir(path)
		if fromMaelstrom {
			var m *maelstromRun
			if m, err = readMaelstrom(dir); err == nil {
				res = m.results
				fmt.Fprintf(stdout, "%s: a Maelstrom store\n", dir)
				if len(m.added) > 0 {
					fmt.Fprintf(stdout, "  computed from history.edn by the workbench's checkers: %s\n", strings.Join(m.added, ", "))
				}
				for _, n := range m.notes {
					fmt.Fprintf(stdout, "  %s\n", n)
				}
			}
		} else {
			res, err = bound.ReadResults(path)
		}
		if err != nil {
			fmt.Fprintf(stderr, "resultcheck: %v\n", err)
			code = exitMissed
			continue
		}
		if fs.NArg() > 1 && !fromMaelstrom {
			fmt.Fprintf(stdout, "%s:\n", path)
		}
		for _, c := range checks {
			o := c.b.Check(res)
			line := o.Line()
			why := ""
			if fromMaelstrom && !o.Found {
				why = unmeasurableWhy(c.b.Path)
			}
			switch {
			case c.kind == "pending" && !o.Found:
				line = fmt.Sprintf("%-6s %s: not measured yet, not checked  (pending: %s)", "-", c.b.PathString(), c.b.Rule())
			case why != "":
				line = fmt.Sprintf("%-6s %s: not measurable under Maelstrom, not checked  (%s)", "-", c.b.PathString(), c.b.Rule())
			case !o.Held:
				code = exitMissed
			}
			fmt.Fprintf(stdout, "%-7s %s\n", c.kind, line)
		}
	}
	return code
}
