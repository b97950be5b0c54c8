package cli

import (
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/glomers/glomers/tools/flyio"
	"github.com/glomers/glomers/tools/resultcheck/bound"
	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/registry"
	runreport "github.com/glomers/glomers/tools/workbench/report"
	"github.com/glomers/glomers/tools/workbench/runner"
	"github.com/glomers/glomers/tools/workbench/store"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// printSummary closes `test`'s output with one line of the figures that
// matter: those every workload shares (verdict, operations, availability,
// servers msgs-per-op, operation latency), the workload's own (its
// Summary), Fly.io's targets judged ✓/✗ when the command line is one of
// Fly.io's challenges (tools/flyio), this project's bounds when --bounds
// names the challenge, and the path of the run's report. It reads the
// run's stored results.json, so it shows what `analyze` and the tests see.
func printSummary(w io.Writer, o *TestOptions, out *runner.Outcome, run *store.Run) {
	res, err := bound.ReadResults(run.Path(store.ResultsName))
	if err != nil {
		res = nil // a crashed run: figures from the history alone
	}
	var h history.History
	if out != nil {
		h = out.History
	}
	for _, line := range wrapSummary(summaryLine(o, res, h, reportPath(run)), maxConsoleLine) {
		fmt.Fprintln(w, line)
	}
}

// summaryIndent starts a continuation line of the summary under its first
// figure.
const summaryIndent = "         " // len("summary: ")

// wrapSummary breaks the summary between its " · "-separated figures so
// that no line is longer than width (a figure longer than that keeps a
// line of its own); the first line keeps the "summary: " prefix that
// scripts look for, the others are indented under it.
func wrapSummary(line string, width int) []string {
	parts := strings.Split(strings.TrimPrefix(line, "summary: "), " · ")
	var lines []string
	cur := "summary: " + parts[0]
	for _, p := range parts[1:] {
		if utf8.RuneCountInString(cur)+len(" · ")+utf8.RuneCountInString(p) > width {
			lines = append(lines, cur+" ·")
			cur = summaryIndent + p
			continue
		}
		cur += " · " + p
	}
	return append(lines, cur)
}

func reportPath(run *store.Run) string {
	p := run.Path(runreport.IndexFile)
	if _, err := os.Stat(p); err != nil {
		return run.Dir
	}
	return p
}

// summaryLine builds the line; figures that the run did not produce are
// left out.
func summaryLine(o *TestOptions, stored map[string]any, h history.History, report string) string {
	var parts []string
	add := func(format string, args ...any) { parts = append(parts, fmt.Sprintf(format, args...)) }
	res := workload.Results(stored)
	var sum workload.Summary
	if wl, ok := registry.Lookup(o.Workload); ok {
		sum = wl.Summary
	}
	num := func(path ...string) *float64 {
		if f, ok := res.Num(path...); ok {
			return &f
		}
		return nil
	}

	if _, ok := res.Get("valid?"); ok {
		add("%s", verdictWord(stored))
	}
	if n := num("stats", "count"); n != nil {
		add("%d ops", int64(*n))
	}
	avail := num("availability", "ok-fraction")
	if avail != nil {
		add("availability %.3f", *avail)
	}
	msgs := num("net", "servers", "msgs-per-op")
	if msgs != nil && (*msgs > 0 || len(o.Nodes) > 1) {
		add("servers %s msgs/op", workload.FmtFig(*msgs))
	}
	opLat := okLatencies(h, sum.LatencyF)
	if len(opLat) > 0 {
		label := "ok latency"
		if sum.LatencyF != "" {
			label = sum.LatencyF + " ok"
		}
		add("%s p50/p99/max %s/%s/%s ms", label, workload.FmtFig(checker.Quantile(opLat, 0.5)),
			workload.FmtFig(checker.Quantile(opLat, 0.99)), workload.FmtFig(checker.Quantile(opLat, 1)))
	}
	if sum.Figures != nil && stored != nil {
		parts = append(parts, sum.Figures(res)...)
	}

	parts = append(parts, flyParts(o, res, sum, flyio.Figures{MsgsPerOp: msgs, Availability: avail}, opLat)...)
	add("report %s", report)
	return "summary: " + strings.Join(parts, " · ")
}

// flyParts judges the run against each Fly.io challenge its command line
// (or --bounds) names: Fly.io's targets ✓/✗ from the shared figures plus
// the latency the challenge speaks of, and, for this repository's node
// (--bounds), the project's bounds and the node settings.
func flyParts(o *TestOptions, res workload.Results, sum workload.Summary, shared flyio.Figures, opLat []float64) []string {
	var parts []string
	add := func(format string, args ...any) { parts = append(parts, fmt.Sprintf(format, args...)) }
	stored := map[string]any(res)
	challenges, explicit := flyChallenges(o)
	for _, c := range challenges {
		figs := shared
		if c.Latency == "stable" && sum.StableLatency != "" {
			if p50, ok := res.Quantile(sum.StableLatency, 0.5); ok {
				figs.P50MS = &p50
			}
			if mx, ok := res.Quantile(sum.StableLatency, 1); ok {
				figs.MaxMS = &mx
			}
		} else if len(opLat) > 0 {
			p50, mx := checker.Quantile(opLat, 0.5), checker.Quantile(opLat, 1)
			figs.P50MS, figs.MaxMS = &p50, &mx
		}
		checks := []string{flyVerdict(stored)}
		for _, t := range flyio.Check(c.Targets, figs) {
			checks = append(checks, t.Text+" "+tick(t.Met))
		}
		label := "Fly.io " + c.ID
		if c.Suite == flyio.SuiteMaelstrom {
			label = "Maelstrom " + c.ID
		}
		if explicit {
			// This repository's node: name the settings it runs the
			// challenge with.
			if env := settingsLabel(c, o.Env); env != "" {
				label += " (" + env + ")"
			}
		}
		if int64(c.TimeLimit) != o.TimeLimit {
			label += fmt.Sprintf(" at --time-limit %d, not %d", o.TimeLimit, c.TimeLimit)
		}
		add("%s: %s", label, strings.Join(checks, " "))
		if !explicit {
			continue
		}
		// The project's own bounds (what bazel test holds), apart from
		// Fly.io's targets.
		var bounds []string
		for _, b := range c.ParsedBounds() {
			bounds = append(bounds, b.String()+" "+tick(b.Check(stored).Held))
		}
		if len(bounds) > 0 {
			add("bounds %s: %s", c.ID, strings.Join(bounds, " "))
		}
	}
	return parts
}

// flyVerdict judges Fly.io's first target, that Maelstrom's checker
// accepts the run: "verdict ✓", "verdict ✗", and for a run that only the
// workbench's strict checks fail, "verdict ✗ (strict only; Maelstrom ✓)".
func flyVerdict(res map[string]any) string {
	v, ok := checker.ParseValidity(res["valid?"])
	switch {
	case !ok:
		return "verdict ✗ (no results)"
	case v == checker.Valid:
		return "verdict ✓"
	case checker.StrictOnly(res):
		return "verdict ✗ (strict only; Maelstrom ✓)"
	case v == checker.Unknown:
		return "verdict ✗ (unknown)"
	}
	return "verdict ✗"
}

// settingsLabel names a challenge's node settings (GOSSIP_PRESET,
// KAFKA_MODE), and says so when the run's environment had another value.
func settingsLabel(c flyio.Challenge, env map[string]string) string {
	var out []string
	for _, kv := range c.EnvList() {
		k, v, _ := strings.Cut(kv, "=")
		if got, ok := env[k]; ok && got != v {
			kv += fmt.Sprintf(", but the run had %s=%s", k, got)
		}
		out = append(out, kv)
	}
	return strings.Join(out, " ")
}

func tick(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

func verdictWord(res map[string]any) string {
	v, ok := checker.ParseValidity(res["valid?"])
	switch {
	case !ok:
		return "unknown"
	case v == checker.Valid:
		return "valid"
	case checker.StrictOnly(res):
		return "invalid (strict checks only: Maelstrom would accept)"
	case v == checker.Invalid:
		return "invalid"
	}
	return "unknown"
}

// okLatencies are the latencies (ms) of the ok client operations, sorted;
// only those of f when f is set.
func okLatencies(h history.History, f string) []float64 {
	var ls []float64
	for fn, xs := range h.OKLatencies() {
		if f == "" || fn == f {
			ls = append(ls, xs...)
		}
	}
	sort.Float64s(ls)
	return ls
}

// flyChallenges are the Fly.io challenges the summary judges: the one
// --bounds names (explicit: the binary is this repository's, so its
// bounds and node settings apply), else those whose command line this run
// used, by the command line alone.
func flyChallenges(o *TestOptions) (cs []flyio.Challenge, explicit bool) {
	if o.Bounds != "" {
		if c, ok := flyio.ByID(o.Bounds); ok {
			return []flyio.Challenge{c}, true
		}
	}
	return matchChallenges(o), false
}

// matchChallenges finds the challenges whose command line this run used:
// the same workload and the same options (parsed, so "--concurrency 2n"
// equals "--concurrency 4" on two nodes, and flag order does not matter)
// except --time-limit, --seed, logging and the workbench's own options.
// Challenges that differ only in this repository's node settings (3d and
// 3e, 5b and 5c) all match: the command line cannot tell them apart.
func matchChallenges(o *TestOptions) []flyio.Challenge {
	var out []flyio.Challenge
	for _, c := range flyio.Challenges() {
		if c.Workload != o.Workload {
			continue
		}
		args := append([]string{"--bin", o.Bin, "-w", c.Workload}, c.Args...)
		co, err := ParseTestArgs(args)
		if err != nil || !sameCommand(o, co) {
			continue
		}
		out = append(out, c)
	}
	return out
}

func sameCommand(a, b *TestOptions) bool {
	wa, wb := a.WorkloadOptions(), b.WorkloadOptions()
	wa.TimeLimit, wb.TimeLimit = 0, 0
	wa.MaelstromVerdicts, wb.MaelstromVerdicts = false, false
	return reflect.DeepEqual(wa, wb) && a.LatencyDist == b.LatencyDist && a.NemesisInterval == b.NemesisInterval
}
