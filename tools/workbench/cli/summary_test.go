package cli

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/glomers/glomers/tools/flyio"
	"github.com/glomers/glomers/tools/workbench/history"
)

func mustParse(t *testing.T, args ...string) *TestOptions {
	t.Helper()
	o, err := ParseTestArgs(append([]string{"--bin", "/node"}, args...))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func matchedIDs(cs []flyio.Challenge) string {
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return strings.Join(ids, ",")
}

// Challenges are matched by the command line alone: the node settings
// that tell 3d from 3e or 5b from 5c belong to this repository's nodes.
func TestMatchChallenges(t *testing.T) {
	fly3d := []string{"-w", "broadcast", "--node-count", "25", "--time-limit", "20", "--rate", "100", "--latency", "100"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"3d and 3e share a command line", fly3d, "3d,3e"},
		{"flag order, time limit, seed and --maelstrom-verdicts do not matter", []string{"-w", "broadcast", "--latency", "100", "--rate", "100", "--node-count", "25", "--time-limit", "5", "--seed", "3", "--maelstrom-verdicts"}, "3d,3e"},
		{"a different rate is not 3d", append(fly3d, "--rate", "50"), ""},
		{"a nemesis is not 3d", append(fly3d, "--nemesis", "partition"), ""},
		{"2n equals 4 on two nodes", []string{"-w", "kafka", "--node-count", "2", "--concurrency", "4", "--rate", "1000"}, "5b,5c"},
		{"echo", []string{"-w", "echo", "--node-count", "1", "--time-limit", "10"}, "1"},
		{"6c", []string{"-w", "txn-rw-register", "--node-count", "2", "--concurrency", "2n", "--time-limit", "20", "--rate", "1000", "--consistency-models", "read-committed", "--availability", "total", "--nemesis", "partition"}, "6c"},
		{"lin-kv is no challenge", []string{"-w", "lin-kv", "--node-count", "2", "--concurrency", "2n"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := matchedIDs(matchChallenges(mustParse(t, tc.args...)))
			if got != tc.want {
				t.Errorf("matched %q, want %q", got, tc.want)
			}
		})
	}
}

func TestBoundsFlag(t *testing.T) {
	if o := mustParse(t, "-w", "kafka", "--bounds", "5c"); o.Bounds != "5c" {
		t.Errorf("--bounds 5c: %q", o.Bounds)
	}
	for _, args := range [][]string{{"-w", "kafka", "--bounds", "9z"}, {"-w", "echo", "--bounds", "5c"}} {
		if _, err := ParseTestArgs(append([]string{"--bin", "/node"}, args...)); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}

func decodeResults(t *testing.T, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// op is a client operation pair: invoke at t0 ms, ok at t1 ms.
func okPair(process int, f string, t0, t1 int64) []history.Op {
	return []history.Op{
		{Process: process, Type: history.Invoke, F: f, Time: t0 * 1e6},
		{Process: process, Type: history.OK, F: f, Time: t1 * 1e6},
	}
}

func TestSummaryLineBroadcastAgainstFlyTargets(t *testing.T) {
	o := mustParse(t, "-w", "broadcast", "--node-count", "25", "--time-limit", "20", "--rate", "100", "--latency", "100", "--bounds", "3d")
	o.Env = map[string]string{"GOSSIP_PRESET": "latency"}
	res := decodeResults(t, `{"valid?": true, "stats": {"count": 2000},
		"availability": {"ok-fraction": 1},
		"net": {"servers": {"msgs-per-op": 2.86}},
		"workload": {"lost-count": 0, "stable-latencies": {"0": 0, "0.5": 233, "1": 640},
		             "dissemination-latencies": {"0.5": 240, "1": 310}}}`)
	var h history.History
	h = append(h, okPair(0, "broadcast", 0, 2)...)
	h = append(h, okPair(1, "broadcast", 10, 14)...)
	h = append(h, okPair(2, "read", 20, 320)...) // reads are not the broadcast figure
	got := summaryLine(o, res, h, "store/broadcast/x/index.html")
	for _, want := range []string{
		"summary: valid · 2000 ops · availability 1.000 · servers 2.86 msgs/op",
		"broadcast ok p50/p99/max 4.00/4.00/4.00 ms",
		"stable p50/max 233/640 ms",
		"dissemination p50/max 240/310 ms",
		"lost 0",
		"Fly.io 3d (GOSSIP_PRESET=latency): verdict ✓ msgs/op<30 ✓ p50<400ms ✓ max<600ms ✗ · bounds 3d: net.servers.msgs-per-op <= 2.9 margin 5% ✓",
		"· report store/broadcast/x/index.html",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "\n") != 0 {
		t.Errorf("summary is not one line:\n%s", got)
	}
}

func TestSummaryLineOtherWorkloads(t *testing.T) {
	for _, tc := range []struct {
		name, results string
		args          []string
		want          []string
	}{
		{"unique-ids duplicates", `{"valid?": false, "workload": {"duplicated-count": 7}}`,
			[]string{"-w", "unique-ids", "--node-count", "3"}, []string{"summary: invalid", "duplicated 7", "ok latency p50/p99/max 1.00/1.00/1.00 ms"}},
		{"kafka lost writes", `{"valid?": false, "workload": {"lost-write": {"count": 220}, "poll-skip": {"count": 0}}}`,
			[]string{"-w", "kafka", "--node-count", "1"}, []string{"lost-write 220"}},
		{"txn anomalies", `{"valid?": false, "workload": {"anomaly-types": ["G0", "G1a"]}}`,
			[]string{"-w", "txn-rw-register", "--node-count", "1"}, []string{"anomalies [G0,G1a]"}},
		{"strict txn anomalies are marked", `{"valid?": false, "maelstrom-valid?": true, "workload": {"valid?": false, "maelstrom-valid?": true, "anomaly-types": ["garbage-read"], "strict": ["garbage-read"]}}`,
			[]string{"-w", "txn-rw-register", "--node-count", "1"}, []string{"summary: invalid (strict checks only: Maelstrom would accept)", "anomalies [garbage-read(strict)]"}},
		{"2 holds its ok-fraction bound", `{"valid?": true, "availability": {"ok-fraction": 1}}`,
			[]string{"-w", "unique-ids", "--time-limit", "30", "--rate", "1000", "--node-count", "3", "--availability", "total", "--nemesis", "partition", "--bounds", "2"},
			[]string{"Fly.io 2: verdict ✓ avail=1 ✓ · bounds 2: availability.ok-fraction >= 1.0 ✓"}},
		{"a shorter run says so", `{"valid?": true}`,
			[]string{"-w", "echo", "--node-count", "1", "--time-limit", "3"}, []string{"Fly.io 1 at --time-limit 3, not 10: verdict ✓"}},
		{"an invalid run never reads valid", `{"valid?": false}`,
			[]string{"-w", "echo", "--node-count", "1", "--time-limit", "3"}, []string{"summary: invalid", "Fly.io 1 at --time-limit 3, not 10: verdict ✗ ·"}},
		{"a strict-only failure says Maelstrom would accept", `{"valid?": false, "maelstrom-valid?": true}`,
			[]string{"-w", "echo", "--node-count", "1", "--time-limit", "10"}, []string{"Fly.io 1: verdict ✗ (strict only; Maelstrom ✓)"}},
		{"a crashed run has no results", ``,
			[]string{"-w", "echo", "--node-count", "1"}, []string{"summary: ok latency", "report /r"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var res map[string]any
			if tc.results != "" {
				res = decodeResults(t, tc.results)
			}
			o := mustParse(t, tc.args...)
			got := summaryLine(o, res, history.History(okPair(0, "x", 0, 1)), "/r")
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("summary lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

// The summary closes the output of `workbench test` (from its "summary: "
// line on, wrapped between figures) and names the run's report.
func TestSummaryClosesTestOutput(t *testing.T) {
	needNode(t)
	t.Parallel()
	var out, errb bytes.Buffer
	code := Main([]string{"test", "-w", "echo", "--bin", testNode, "--node-count", "1", "--time-limit", "2"}, &out, &errb)
	if code != ExitValid {
		t.Fatalf("exit %d:\n%s%s", code, out.String(), errb.String())
	}
	text := strings.TrimSpace(out.String())
	i := strings.LastIndex(text, "summary: ")
	if i < 0 {
		t.Fatalf("no summary in:\n%s", text)
	}
	var joined []string
	for _, line := range strings.Split(text[i:], "\n") {
		if len(line) > maxConsoleLine {
			t.Errorf("summary line over %d characters: %q", maxConsoleLine, line)
		}
		joined = append(joined, strings.TrimSuffix(strings.TrimPrefix(line, summaryIndent), " ·"))
	}
	last := strings.Join(joined, " · ")
	l := latestRun(t, out.String())
	for _, want := range []string{"summary: valid · ", " ops · availability 1.000 · ", "ok latency p50/p99/max ",
		"Fly.io 1 at --time-limit 2, not 10: verdict ✓", "report " + filepath.Join(l.Dir, "index.html")} {
		if !strings.Contains(last, want) {
			t.Errorf("last line lacks %q:\n%s", want, last)
		}
	}
}

// An outside node's kafka run (Fly.io's 5b/5c command line, no --bounds)
// is judged against Fly.io's targets only: no KAFKA_MODE, no project
// bound, even with KAFKA_MODE in the environment.
func TestSummaryOutsideNodeHasNoProjectBounds(t *testing.T) {
	o := mustParse(t, "-w", "kafka", "--node-count", "2", "--concurrency", "2n", "--rate", "1000", "--time-limit", "20")
	o.Env = map[string]string{"KAFKA_MODE": "owner"}
	res := decodeResults(t, `{"valid?": true, "net": {"servers": {"msgs-per-op": 4.2}}}`)
	got := summaryLine(o, res, nil, "/r")
	if !strings.Contains(got, "Fly.io 5b: verdict ✓ · Fly.io 5c: verdict ✓") {
		t.Errorf("summary lacks Fly.io's verdicts:\n%s", got)
	}
	for _, bad := range []string{"KAFKA_MODE", "bounds", "msgs-per-op <="} {
		if strings.Contains(got, bad) {
			t.Errorf("summary of an outside node has %q:\n%s", bad, got)
		}
	}
	// The same run of this repository's node, named by --bounds.
	o.Bounds = "5c"
	got = summaryLine(o, res, nil, "/r")
	for _, want := range []string{"Fly.io 5c (KAFKA_MODE=owner): verdict ✓", "bounds 5c: net.servers.msgs-per-op <= 1.3 margin 15% ✗"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Fly.io 5b") {
		t.Errorf("--bounds 5c still judges 5b:\n%s", got)
	}
}

// A broken node's run (the test node's zero-read mode: reads of unwritten
// keys return 0) is invalid only by the strict garbage-read check: exit 1
// with the verdict saying Maelstrom would accept it, and a summary whose
// Fly.io line does not read valid; exit 0 with --maelstrom-verdicts.
func TestStrictOnlyRunSaysMaelstromWouldAccept(t *testing.T) {
	needNode(t)
	t.Parallel()
	fly6a := []string{"-w", "txn-rw-register", "--bin", testNode, "--node-count", "1", "--concurrency", "2n", "--rate", "1000", "--time-limit", "2",
		"--consistency-models", "read-uncommitted", "--availability", "total"}
	code, out := runCLI(t, append(fly6a, "zero-read")...)
	if code != ExitInvalid {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	strictRun := latestRun(t, out).Dir
	for _, want := range []string{
		"garbage-read [strict]",
		"Analysis invalid!",
		"Maelstrom would accept this run; what is still wrong, by the workbench's strict checks:",
		"  workload garbage-read [strict]: a read returns a value no transaction wrote",
		"--maelstrom-verdicts judges as Maelstrom does",
		"summary: invalid (strict checks only: Maelstrom would accept)",
		"anomalies [garbage-read(strict)]",
		"Fly.io 6a at --time-limit 2, not 20: verdict ✗ (strict only; Maelstrom ✓)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out = runCLI(t, append(append(fly6a, "--maelstrom-verdicts"), "zero-read")...)
	if code != ExitValid {
		t.Fatalf("--maelstrom-verdicts: exit %d, want 0:\n%s", code, out)
	}
	for _, want := range []string{"Everything looks good!", ":strict-not-judged [\"garbage-read\"]", "Fly.io 6a at --time-limit 2, not 20: verdict ✓",
		"(--maelstrom-verdicts: the workbench's strict checks also found workload garbage-read, left out of the verdict as Maelstrom does)"} {
		if !strings.Contains(out, want) {
			t.Errorf("--maelstrom-verdicts: output lacks %q:\n%s", want, out)
		}
	}
	// compare names both verdicts.
	var cmp, errb bytes.Buffer
	if code := Main([]string{"compare", strictRun, latestRun(t, out).Dir}, &cmp, &errb); code != ExitValid {
		t.Fatalf("compare: exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"A: " + strictRun + " (invalid (strict checks only; Maelstrom would accept))", "(valid)"} {
		if !strings.Contains(cmp.String(), want) {
			t.Errorf("compare lacks %q:\n%s", want, cmp.String())
		}
	}
}

// The summary goes out in lines of at most 200 characters, broken between
// figures, the first keeping its "summary: " prefix.
func TestSummaryWrapsBetweenFigures(t *testing.T) {
	figures := []string{"valid", "1974 ops", "availability 1.000", "servers 0.90 msgs/op",
		"broadcast ok p50/p99/max 0.52/101/107 ms", "at the node p50/p99 0.40/5.45 ms",
		"stable p50/max 335/831 ms", "dissemination p50/max 351/873 ms", "lost 0",
		"Fly.io 3e (GOSSIP_PRESET=messages): verdict ✓ msgs/op<20 ✓ p50<1s ✓ max<2s ✓",
		"report store/broadcast/20261208T005047.266Z/index.html"}
	line := "summary: " + strings.Join(figures, " · ")
	lines := wrapSummary(line, 100)
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "summary: valid · 1974 ops") {
		t.Fatalf("wrapped into %q", lines)
	}
	var rejoined []string
	for i, l := range lines {
		if n := utf8.RuneCountInString(l); n > 100 {
			t.Errorf("line %d has %d characters: %q", i, n, l)
		}
		if i > 0 && !strings.HasPrefix(l, summaryIndent) {
			t.Errorf("line %d not indented: %q", i, l)
		}
		rejoined = append(rejoined, strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(l, "summary: "), summaryIndent), " ·"))
	}
	if got := "summary: " + strings.Join(rejoined, " · "); got != line {
		t.Errorf("wrapping lost or changed figures:\n%s\nwant\n%s", got, line)
	}
	if got := wrapSummary("summary: valid · 3 ops", 200); len(got) != 1 || got[0] != "summary: valid · 3 ops" {
		t.Errorf("a short summary is one line, got %q", got)
	}
}
