package cli

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

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

func env(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

func matchedIDs(cs []flyio.Challenge) string {
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return strings.Join(ids, ",")
}

func TestMatchChallenges(t *testing.T) {
	fly3d := []string{"-w", "broadcast", "--node-count", "25", "--time-limit", "20", "--rate", "100", "--latency", "100"}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"3d by its preset", fly3d, map[string]string{"GOSSIP_PRESET": "latency"}, "3d"},
		{"3e by its preset", fly3d, map[string]string{"GOSSIP_PRESET": "messages"}, "3e"},
		{"no preset: both", fly3d, nil, "3d,3e"},
		{"another preset: neither", fly3d, map[string]string{"GOSSIP_PRESET": "latency-eager"}, ""},
		{"flag order and time limit do not matter", []string{"-w", "broadcast", "--latency", "100", "--rate", "100", "--node-count", "25", "--time-limit", "5", "--seed", "3"},
			map[string]string{"GOSSIP_PRESET": "messages"}, "3e"},
		{"a different rate is not 3d", append(fly3d, "--rate", "50"), map[string]string{"GOSSIP_PRESET": "latency"}, ""},
		{"a nemesis is not 3d", append(fly3d, "--nemesis", "partition"), map[string]string{"GOSSIP_PRESET": "latency"}, ""},
		{"2n equals 4 on two nodes", []string{"-w", "kafka", "--node-count", "2", "--concurrency", "4", "--rate", "1000"}, map[string]string{"KAFKA_MODE": "kv"}, "5b"},
		{"echo", []string{"-w", "echo", "--node-count", "1", "--time-limit", "10"}, nil, "1"},
		{"6c", []string{"-w", "txn-rw-register", "--node-count", "2", "--concurrency", "2n", "--time-limit", "20", "--rate", "1000", "--consistency-models", "read-committed", "--availability", "total", "--nemesis", "partition"}, nil, "6c"},
		{"lin-kv is no challenge", []string{"-w", "lin-kv", "--node-count", "2", "--concurrency", "2n"}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := matchedIDs(matchChallenges(mustParse(t, tc.args...), env(tc.env)))
			if got != tc.want {
				t.Errorf("matched %q, want %q", got, tc.want)
			}
		})
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
	o := mustParse(t, "-w", "broadcast", "--node-count", "25", "--time-limit", "20", "--rate", "100", "--latency", "100")
	res := decodeResults(t, `{"valid?": true, "stats": {"count": 2000},
		"availability": {"ok-fraction": 1},
		"net": {"servers": {"msgs-per-op": 2.86}},
		"workload": {"lost-count": 0, "stable-latencies": {"0": 0, "0.5": 233, "1": 640},
		             "dissemination-latencies": {"0.5": 240, "1": 310}}}`)
	var h history.History
	h = append(h, okPair(0, "broadcast", 0, 2)...)
	h = append(h, okPair(1, "broadcast", 10, 14)...)
	h = append(h, okPair(2, "read", 20, 320)...) // reads are not the broadcast figure
	matched := matchChallenges(o, env(map[string]string{"GOSSIP_PRESET": "latency"}))
	got := summaryLine(o, res, h, matched, "store/broadcast/x/index.html")
	for _, want := range []string{
		"summary: valid · 2000 ops · availability 1.000 · servers 2.86 msgs/op",
		"broadcast ok p50/p99/max 4.00/4.00/4.00 ms",
		"stable p50/max 233/640 ms",
		"dissemination p50/max 240/310 ms",
		"lost 0",
		"Fly.io 3d: msgs/op<30 ✓ p50<400ms ✓ max<600ms ✗ · bounds 3d: net.servers.msgs-per-op <= 2.9 margin 5% ✓",
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
		{"2 holds its ok-fraction bound", `{"valid?": true, "availability": {"ok-fraction": 1}}`,
			[]string{"-w", "unique-ids", "--time-limit", "30", "--rate", "1000", "--node-count", "3", "--availability", "total", "--nemesis", "partition"},
			[]string{"Fly.io 2: avail=1 ✓ · bounds 2: availability.ok-fraction >= 1.0 ✓"}},
		{"a shorter run says so", `{"valid?": true}`,
			[]string{"-w", "echo", "--node-count", "1", "--time-limit", "3"}, []string{"Fly.io 1 at --time-limit 3, not 10: valid"}},
		{"a crashed run has no results", ``,
			[]string{"-w", "echo", "--node-count", "1"}, []string{"summary: ok latency", "report /r"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var res map[string]any
			if tc.results != "" {
				res = decodeResults(t, tc.results)
			}
			o := mustParse(t, tc.args...)
			got := summaryLine(o, res, history.History(okPair(0, "x", 0, 1)), matchChallenges(o, env(nil)), "/r")
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("summary lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

// The summary is the last line of `workbench test` and names the run's
// report.
func TestSummaryClosesTestOutput(t *testing.T) {
	needNode(t)
	t.Parallel()
	var out, errb bytes.Buffer
	code := Main([]string{"test", "-w", "echo", "--bin", testNode, "--node-count", "1", "--time-limit", "2"}, &out, &errb)
	if code != ExitValid {
		t.Fatalf("exit %d:\n%s%s", code, out.String(), errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	l := latestRun(t, out.String())
	for _, want := range []string{"summary: valid · ", " ops · availability 1.000 · ", "ok latency p50/p99/max ",
		"Fly.io 1 at --time-limit 2, not 10: valid", "report " + filepath.Join(l.Dir, "index.html")} {
		if !strings.Contains(last, want) {
			t.Errorf("last line lacks %q:\n%s", want, last)
		}
	}
}
