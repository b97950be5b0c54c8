package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/glomers/glomers/tools/workbench/analysis"
	runreport "github.com/glomers/glomers/tools/workbench/report"
	"github.com/glomers/glomers/tools/workbench/runs"
	"github.com/glomers/glomers/tools/workbench/store"
)

func init() {
	Register(Command{Name: "compare", Summary: "compare two stored runs' key figures and latencies", Run: runCompare})
}

var compareFlags = []flagSpec{
	{long: "store", value: "DIR", def: "store", help: "the store that run indexes refer to"},
	{long: "svg", value: "FILE", help: "also write the two runs' latency quantiles, overlaid, as an SVG plot"},
	{long: "help", short: "h", help: "show this help"},
}

// runCompare prints two runs' key figures side by side with the
// difference, marking which run each difference favours. Runs are given
// as directories or as indexes among stored runs (-1 the latest, -2 the
// one before), workbench or Maelstrom runs alike. It exits 0 unless the
// runs cannot be read.
func runCompare(args []string, stdout, stderr io.Writer) int {
	p, err := parseFlags(compareFlags, args)
	if err != nil {
		return badArgs(stderr, "compare: %v", err)
	}
	if p.last("help") == "true" {
		fmt.Fprintln(stdout, "usage: workbench compare [--store DIR] [--svg FILE] RUN_A RUN_B")
		fmt.Fprintln(stdout, "\nRUN is a run directory or an index among stored runs (-1 the latest, -2 the one before).")
		fmt.Fprintln(stdout, "Differences are B - A; + marks where B is better, - where it is worse.")
		fmt.Fprintln(stdout, "\noptions:")
		printFlags(stdout, compareFlags)
		return ExitValid
	}
	if len(p.positional) != 2 {
		return badArgs(stderr, "compare: expected two runs (directories or indexes like -2 -1), got %d", len(p.positional))
	}
	root := StoreRoot
	if p.has("store") {
		root = p.last("store")
	}
	var loaded [2]*store.Loaded
	for i, ref := range p.positional {
		dir, err := store.Resolve(root, ref)
		if err != nil {
			return badArgs(stderr, "compare: %v", err)
		}
		if loaded[i], err = store.Load(dir); err != nil {
			return badArgs(stderr, "compare: %v", err)
		}
	}
	a, b := loaded[0], loaded[1]
	for i, r := range loaded {
		fmt.Fprintf(stdout, "%c: %s (%s)\n", 'A'+i, r.Dir, verdictOf(r.Results))
		if len(r.Info.Command) > 0 {
			fmt.Fprintf(stdout, "   %s\n", r.Info.CommandString())
		}
		if len(r.Info.NodeEnv) > 0 {
			fmt.Fprintf(stdout, "   node environment: %s\n", r.Info.EnvString())
		}
		if r.Info.BinSHA256 != "" {
			fmt.Fprintf(stdout, "   node binary sha256: %s\n", r.Info.BinSHA256)
		}
		for _, why := range r.CutShort() {
			fmt.Fprintf(stdout, "   cut short: %s\n", why)
		}
	}
	if a.Info.BinSHA256 != "" && a.Info.BinSHA256 == b.Info.BinSHA256 {
		fmt.Fprintln(stdout, "(same node binary)")
	}
	fmt.Fprintln(stdout)
	rows := runs.Compare(runs.Figures(a.Results, a.History), runs.Figures(b.Results, b.History))
	width := len("figure")
	for _, r := range rows {
		width = max(width, len(r.Name))
	}
	fmt.Fprintf(stdout, "%-*s  %10s  %10s  %s\n", width, "figure", "A", "B", "B - A")
	for _, r := range rows {
		fmt.Fprintf(stdout, "%-*s  %10s  %10s  %s\n", width, r.Name, r.AText(), r.BText(), strings.TrimSpace(r.DiffText()+" "+mark(r)))
	}
	if svg := p.last("svg"); svg != "" {
		plot := runreport.CompareSVG(a.Dir, b.Dir, runs.Latencies(a.Results, a.History), runs.Latencies(b.Results, b.History))
		if err := os.WriteFile(svg, plot, 0o644); err != nil {
			fmt.Fprintf(stderr, "workbench: compare: %v\n", err)
			return ExitCrash
		}
		fmt.Fprintf(stdout, "\nlatency quantiles overlaid in %s\n", svg)
	}
	return ExitValid
}

// verdictOf names a run's verdict, and says when only the workbench's
// strict checks failed it (Maelstrom would accept it).
func verdictOf(res map[string]any) string {
	if _, ok := res["valid?"]; !ok {
		return "no results"
	}
	return analysis.VerdictWord(res)
}

func mark(r runs.Row) string {
	switch {
	case r.Better:
		return "+"
	case r.Worse:
		return "-"
	}
	return ""
}
