package cli

import (
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/glomers/glomers/tools/flyio"
	"github.com/glomers/glomers/tools/resultcheck/bound"
	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	runreport "github.com/glomers/glomers/tools/workbench/report"
	"github.com/glomers/glomers/tools/workbench/runner"
	"github.com/glomers/glomers/tools/workbench/store"
)

// printSummary closes `test`'s output with one line of the figures that
// matter for the workload (operations, availability, servers msgs-per-op,
// latency quantiles, lost or duplicated values, anomalies), judged against
// Fly.io's targets and this project's bounds when the command line is one
// of Fly.io's challenges (tools/flyio), and the path of the run's report.
// It reads the run's stored results.json, so it shows what `analyze` and
// the tests see.
func printSummary(w io.Writer, o *TestOptions, out *runner.Outcome, run *store.Run) {
	res, err := bound.ReadResults(run.Path("results.json"))
	if err != nil {
		res = nil // a crashed run: figures from the history alone
	}
	var h history.History
	if out != nil {
		h = out.History
	}
	fmt.Fprintln(w, summaryLine(o, res, h, matchChallenges(o, os.Getenv), reportPath(run)))
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
func summaryLine(o *TestOptions, res map[string]any, h history.History, matched []flyio.Challenge, report string) string {
	var parts []string
	add := func(format string, args ...any) { parts = append(parts, fmt.Sprintf(format, args...)) }
	num := func(path ...string) *float64 {
		v, ok := bound.Lookup(res, path)
		if !ok {
			return nil
		}
		f, ok := history.Float(v)
		if !ok || math.IsNaN(f) {
			return nil
		}
		return &f
	}

	if v, ok := bound.Lookup(res, []string{"valid?"}); ok {
		add("%s", verdictWord(v))
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
		add("servers %s msgs/op", fmtFig(*msgs))
	}
	opLat := okLatencies(h, o.Workload)
	if len(opLat) > 0 {
		label := "ok latency"
		if o.Workload == "broadcast" {
			label = "broadcast ok"
		}
		add("%s p50/p99/max %s/%s/%s ms", label, fmtFig(checker.Quantile(opLat, 0.5)), fmtFig(checker.Quantile(opLat, 0.99)), fmtFig(checker.Quantile(opLat, 1)))
	}
	if o.Workload == "broadcast" {
		// The node's share of that: delivery to reply (net.service-times).
		if p50, p99 := num("net", "service-times", "broadcast", "0.5"), num("net", "service-times", "broadcast", "0.99"); p50 != nil && p99 != nil {
			add("at the node p50/p99 %s/%s ms", fmtFig(*p50), fmtFig(*p99))
		}
	}
	quant := func(key string, q float64) *float64 { return num("workload", key, strconv.FormatFloat(q, 'f', -1, 64)) }
	switch o.Workload {
	case "broadcast":
		for _, k := range []struct{ key, label string }{{"stable-latencies", "stable"}, {"dissemination-latencies", "dissemination"}} {
			if p50, mx := quant(k.key, 0.5), quant(k.key, 1); p50 != nil && mx != nil {
				add("%s p50/max %s/%s ms", k.label, fmtFig(*p50), fmtFig(*mx))
			}
		}
		for _, k := range []struct{ key, label string }{{"lost-count", "lost"}, {"unexpected-count", "unexpected"}, {"duplicated-count", "duplicated"}} {
			if n := num("workload", k.key); n != nil && (*n > 0 || k.key == "lost-count") {
				add("%s %d", k.label, int64(*n))
			}
		}
	case "unique-ids":
		if n := num("workload", "duplicated-count"); n != nil {
			add("duplicated %d", int64(*n))
		}
	case "kafka":
		for _, k := range []string{"lost-write", "inconsistent-offsets", "poll-skip", "nonmonotonic-poll"} {
			if n := num("workload", k, "count"); n != nil && *n > 0 {
				add("%s %d", k, int64(*n))
			}
		}
	case "g-counter", "pn-counter":
		if v, ok := bound.Lookup(res, []string{"workload", "final-reads"}); ok {
			add("final reads %s", compactJSON(v))
		}
	case "txn-rw-register", "txn-list-append":
		if v, ok := bound.Lookup(res, []string{"workload", "anomaly-types"}); ok {
			if l, ok := v.([]any); ok && len(l) > 0 {
				add("anomalies %s", compactJSON(v))
			}
		}
	}

	for _, c := range matched {
		figs := flyio.Figures{MsgsPerOp: msgs, Availability: avail}
		if c.Latency == "stable" {
			figs.P50MS, figs.MaxMS = quant("stable-latencies", 0.5), quant("stable-latencies", 1)
		} else if len(opLat) > 0 {
			p50, mx := checker.Quantile(opLat, 0.5), checker.Quantile(opLat, 1)
			figs.P50MS, figs.MaxMS = &p50, &mx
		}
		var checks, bounds []string
		for _, t := range flyio.Check(c.Targets, figs) {
			checks = append(checks, t.Text+" "+tick(t.Met))
		}
		if len(checks) == 0 {
			checks = append(checks, "valid")
		}
		// The project's own bounds (what bazel test holds), apart from
		// Fly.io's targets.
		for _, b := range c.ParsedBounds() {
			bounds = append(bounds, b.String()+" "+tick(b.Check(res).Held))
		}
		label := "Fly.io " + c.ID
		if c.Suite == flyio.SuiteMaelstrom {
			label = "Maelstrom " + c.ID
		}
		if len(matched) > 1 {
			label += " (" + strings.Join(c.EnvList(), " ") + ")"
		}
		if int64(c.TimeLimit) != o.TimeLimit {
			label += fmt.Sprintf(" at --time-limit %d, not %d", o.TimeLimit, c.TimeLimit)
		}
		add("%s: %s", label, strings.Join(checks, " "))
		if len(bounds) > 0 {
			add("bounds %s: %s", c.ID, strings.Join(bounds, " "))
		}
	}
	add("report %s", report)
	return "summary: " + strings.Join(parts, " · ")
}

func tick(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

func verdictWord(v any) string {
	switch v {
	case true:
		return "valid"
	case false:
		return "invalid"
	}
	return "unknown"
}

// fmtFig prints a figure with two significant decimals below 10 and none
// from 100 on: 0.93, 2.86, 12.3, 254.
func fmtFig(f float64) string {
	switch {
	case math.Abs(f) >= 100:
		return strconv.FormatFloat(f, 'f', 0, 64)
	case math.Abs(f) >= 10:
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'f', 2, 64)
}

func compactJSON(v any) string {
	s := strings.ReplaceAll(fmt.Sprint(v), " ", ",")
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}

// okLatencies are the latencies (ms) of the ok client operations, sorted;
// for broadcast only the broadcasts (reads are answered locally and would
// hide the figure that matters).
func okLatencies(h history.History, workload string) []float64 {
	var ls []float64
	for _, p := range h.Pairs() {
		if p.Completion == nil || p.Completion.Type != history.OK || !p.Invoke.IsClient() {
			continue
		}
		if workload == "broadcast" && p.Invoke.F != "broadcast" {
			continue
		}
		ls = append(ls, float64(p.Completion.Time-p.Invoke.Time)/1e6)
	}
	sort.Float64s(ls)
	return ls
}

// matchChallenges finds the challenges whose command line this run used:
// the same workload and the same options (parsed, so "--concurrency 2n"
// equals "--concurrency 4" on two nodes, and flag order does not matter)
// except --time-limit, --seed and logging, and an environment that agrees
// with the challenge's (GOSSIP_PRESET, KAFKA_MODE). A challenge whose
// variable is unset still matches, since the node then runs its default;
// if the environment picks one exactly, only that one matches.
func matchChallenges(o *TestOptions, getenv func(string) string) []flyio.Challenge {
	var exact, unset []flyio.Challenge
	for _, c := range flyio.Challenges() {
		if c.Workload != o.Workload {
			continue
		}
		args := append([]string{"--bin", o.Bin, "-w", c.Workload}, c.Args...)
		co, err := ParseTestArgs(args)
		if err != nil || !sameCommand(o, co) {
			continue
		}
		agrees, all := true, true
		for k, v := range c.Env {
			switch getenv(k) {
			case v:
			case "":
				all = false
			default:
				agrees = false
			}
		}
		switch {
		case agrees && all:
			exact = append(exact, c)
		case agrees:
			unset = append(unset, c)
		}
	}
	if len(exact) > 0 {
		return exact
	}
	return unset
}

func sameCommand(a, b *TestOptions) bool {
	wa, wb := a.WorkloadOptions(), b.WorkloadOptions()
	wa.TimeLimit, wb.TimeLimit = 0, 0
	return reflect.DeepEqual(wa, wb) && a.LatencyDist == b.LatencyDist && a.NemesisInterval == b.NemesisInterval
}
