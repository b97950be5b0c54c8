package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func challenge(t *testing.T, id string) Challenge {
	t.Helper()
	for _, c := range Challenges {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no challenge %s", id)
	return Challenge{}
}

// fakeRun writes a run directory with the given results.json and
// history.json lines.
func fakeRun(t *testing.T, resultsJSON string, history ...string) string {
	t.Helper()
	dir := t.TempDir()
	if resultsJSON != "" {
		if err := os.WriteFile(filepath.Join(dir, "results.json"), []byte(resultsJSON), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "history.json"), []byte(strings.Join(history, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// broadcastResults is a results.json as the store writes it for a
// broadcast run (quantile keys as strings, "1" not "1.0").
func broadcastResults(valid bool, msgsPerOp, p50, max float64) string {
	return fmt.Sprintf(`{
  "valid?": %v,
  "availability": {"valid?": true, "ok-fraction": 0.998},
  "net": {"valid?": true, "all": {"msgs-per-op": 40.1}, "servers": {"msg-count": 5000, "msgs-per-op": %g}},
  "stats": {"valid?": true, "count": 2012, "ok-count": 2008},
  "perf": {"valid?": true, "latencies": {"broadcast": {"0": 0.2, "0.5": 1.5, "0.95": 9, "0.99": 12, "1": 31}, "read": {"0.5": 1}}},
  "workload": {"valid?": %v, "stable-latencies": {"0": 0, "0.5": %g, "0.95": 500, "0.99": 550, "1": %g},
    "dissemination-latencies": {"0": 0, "0.5": 233, "0.95": 301, "0.99": 320, "1": 333}}
}`, valid, msgsPerOp, valid, p50, max)
}

func TestStableLatencyRowMeetsTargets(t *testing.T) {
	var row Row
	fillRow(&row, challenge(t, "3d"), fakeRun(t, broadcastResults(true, 2.81, 140, 198)))
	if row.Status != StatusPass || row.Verdict != "valid" {
		t.Fatalf("row = %+v, want PASS/valid", row)
	}
	if *row.MsgsPerOp != 2.81 || *row.P50MS != 140 || *row.MaxMS != 198 || *row.Operations != 2012 || *row.Availability != 0.998 {
		t.Errorf("numbers = msgs %v p50 %v max %v ops %v avail %v", *row.MsgsPerOp, *row.P50MS, *row.MaxMS, *row.Operations, *row.Availability)
	}
	if len(row.Targets) != 3 || !row.Targets[0].Met || !row.Targets[1].Met || !row.Targets[2].Met {
		t.Errorf("targets = %+v", row.Targets)
	}
	b := row.Broadcast
	if b == nil || *b.OKP50MS != 1.5 || *b.OKMaxMS != 31 || *b.StableP50MS != 140 || *b.StableMaxMS != 198 ||
		*b.DisseminationP50MS != 233 || *b.DisseminationMaxMS != 333 {
		t.Errorf("broadcast latencies = %+v", b)
	}
}

func TestMissedTargetIsNotAPass(t *testing.T) {
	var row Row
	// Valid, few messages, but the max stable latency is over 3d's 600 ms.
	fillRow(&row, challenge(t, "3d"), fakeRun(t, broadcastResults(true, 2.81, 380, 640)))
	if row.Status != StatusMissed {
		t.Fatalf("status = %s, want %s", row.Status, StatusMissed)
	}
	if row.Targets[2].Met || !row.Targets[1].Met {
		t.Errorf("targets = %+v, want only max missed", row.Targets)
	}
	// The same numbers meet 3e's looser latency bounds but not 30 > 20 msgs/op.
	fillRow(&row, challenge(t, "3e"), fakeRun(t, broadcastResults(true, 25, 380, 640)))
	if row.Status != StatusMissed || row.Targets[0].Met || !row.Targets[1].Met || !row.Targets[2].Met {
		t.Errorf("3e row = %s %+v", row.Status, row.Targets)
	}
}

func TestInvalidUnknownAndMissingResults(t *testing.T) {
	var row Row
	fillRow(&row, challenge(t, "3b"), fakeRun(t, `{"valid?": false, "workload": {"valid?": false, "first-error": "lost 7"}}`))
	if row.Status != StatusInvalid || len(row.FirstErrors) != 1 || row.FirstErrors[0] != "workload: lost 7" {
		t.Errorf("invalid row = %+v", row)
	}
	row = Row{}
	fillRow(&row, challenge(t, "3b"), fakeRun(t, `{"valid?": "unknown"}`))
	if row.Status != StatusUnknown || row.Verdict != "unknown" {
		t.Errorf("unknown row = %+v", row)
	}
	row = Row{}
	fillRow(&row, challenge(t, "1"), fakeRun(t, ""))
	if row.Status != StatusError || !strings.Contains(row.Reason, "results.json") {
		t.Errorf("row without results = %+v", row)
	}
}

func TestOpLatencyFromHistory(t *testing.T) {
	ms := int64(1e6)
	var lines []string
	op := func(typ string, proc int, t int64) {
		b, _ := json.Marshal(map[string]any{"type": typ, "process": proc, "f": "txn", "time": t})
		lines = append(lines, string(b))
	}
	// Latencies 10, 20, 30 ms ok; one 5 s info (not an ok op: ignored);
	// one nemesis op.
	op("invoke", 0, 0)
	op("ok", 0, 10*ms)
	op("invoke", 1, 0)
	op("ok", 1, 30*ms)
	op("invoke", 0, 100*ms)
	op("ok", 0, 120*ms)
	op("invoke", 2, 0)
	op("info", 2, 5000*ms)
	op("invoke", -1, 0)
	dir := fakeRun(t, `{"valid?": true, "availability": {"ok-fraction": 0.75}}`, lines...)
	var row Row
	fillRow(&row, challenge(t, "6c"), dir)
	if row.P50MS == nil || *row.P50MS != 20 || *row.MaxMS != 30 {
		t.Fatalf("op latency p50 %v max %v, want 20 and 30", row.P50MS, row.MaxMS)
	}
	// 6c wants total availability; 0.75 misses it even though valid? is true.
	if row.Status != StatusMissed || row.Targets[0].Text != "avail=1" {
		t.Errorf("row = %s %+v", row.Status, row.Targets)
	}
}

func TestTableAndJSON(t *testing.T) {
	var pass, missed Row
	pass = Row{ID: "3d", Name: "Efficient broadcast I"}
	fillRow(&pass, challenge(t, "3d"), fakeRun(t, broadcastResults(true, 2.81, 140, 198)))
	missed = Row{ID: "3e", Name: "Efficient broadcast II"}
	fillRow(&missed, challenge(t, "3e"), fakeRun(t, broadcastResults(true, 25, 380, 640)))
	skipped := Row{ID: "1", Name: "Echo", Status: StatusSkipped, Reason: "skipped: no --bin echo=PATH"}
	rows := []Row{missed, skipped, pass}
	sortRows(rows)
	if rows[0].ID != "1" || rows[1].ID != "3d" || rows[2].ID != "3e" {
		t.Fatalf("rows not in Fly.io order: %s %s %s", rows[0].ID, rows[1].ID, rows[2].ID)
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, rows); err != nil {
		t.Fatal(err)
	}
	table := buf.String()
	for _, want := range []string{
		"challenge", "msgs/op", "Fly.io target",
		"3d Efficient broadcast I", "2.81", "140", "198", "msgs/op<30 ✓  p50<400ms ✓  max<600ms ✓", "PASS",
		"msgs/op<20 ✗  p50<1s ✓  max<2s ✓", "MISSED",
		"1 Echo", "SKIPPED",
		"broadcast latency (ms)", "ok p50 / max", "dissemination p50 / max", "233 / 333",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if OK(rows) {
		t.Error("a board with a MISSED row is not OK")
	}
	if !OK([]Row{pass, skipped}) {
		t.Error("PASS plus SKIPPED should be OK")
	}
	if OK([]Row{skipped}) {
		t.Error("a board where nothing ran is not OK")
	}

	dir := t.TempDir()
	b := Board{Rows: rows, OK: false}
	if err := WriteJSON(filepath.Join(dir, "scoreboard.json"), b); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "scoreboard.json"))
	for _, want := range []string{`"msgs_per_op": 2.81`, `"latency_p50_ms": 140`, `"metric": "msgs-per-op"`, `"max": 30`, `"met": false`, `"status": "SKIPPED"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("scoreboard.json lacks %s", want)
		}
	}
	back, err := ReadJSON(filepath.Join(dir, "scoreboard.json"))
	if err != nil || len(back.Rows) != 3 || *back.Rows[1].MsgsPerOp != 2.81 || back.Rows[2].Targets[0].Met {
		t.Errorf("round trip: %v %+v", err, back)
	}
	if err := WriteHTML(filepath.Join(dir, "scoreboard.html"), b); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "scoreboard.html"))
	for _, want := range []string{"msgs/op&lt;20 ✗", `class="st missed"`, "2.81"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("scoreboard.html lacks %s", want)
		}
	}
}

// fakeWorkbench is a stand-in for the workbench: it records its arguments
// and environment and stores a run whose verdict depends on the workload,
// the way the real one lays out store/<workload>/<time>/ and latest.
const fakeWorkbench = `#!/bin/sh
w=""; prev=""
for a in "$@"; do
  if [ "$prev" = "-w" ]; then w="$a"; fi
  prev="$a"
done
n=$(ls store/$w 2>/dev/null | grep -c '^2' || true)
dir="store/$w/2026010$((n+1))T000000.000Z"
mkdir -p "$dir"
echo "$@ PRESET=$GOSSIP_PRESET" > "$dir/args.txt"
case "$w" in
  echo) echo '{"valid?": true, "stats": {"count": 50}, "availability": {"ok-fraction": 1}, "net": {"servers": {"msgs-per-op": 0}}}' > "$dir/results.json"; code=0;;
  broadcast) echo '{"valid?": true, "net": {"servers": {"msgs-per-op": 2.5}}, "workload": {"stable-latencies": {"0.5": 150, "1": 210}}}' > "$dir/results.json"; code=0;;
  unique-ids) echo '{"valid?": false, "workload": {"valid?": false, "first-error": "duplicate id 7"}}' > "$dir/results.json"; code=1;;
  *) echo "crashed before storing results" >&2; exit 255;;
esac
echo '<html></html>' > "$dir/index.html"
echo '<svg/>' > "$dir/latency-raw.svg"
ln -sfn "$(basename "$dir")" "store/$w/latest"
echo "console output for $w"
exit $code
`

func writeFakeWorkbench(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "workbench")
	if err := os.WriteFile(p, []byte(fakeWorkbench), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunEndToEndWithAFakeWorkbench(t *testing.T) {
	wb := writeFakeWorkbench(t)
	out := filepath.Join(t.TempDir(), "board")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{
		"--workbench", wb, "--bin", "echo=/bin/echo-node", "--bin", "broadcast=/bin/bcast", "--bin", "kafka=/bin/kafka",
		"--only", "1,3d,3e,5a,6a", "--quick", "--out", out,
	}, &stdout, &stderr)
	if code != exitFailed {
		t.Errorf("exit %d, want %d (5a crashed, 6a skipped)\nstdout:\n%s\nstderr:\n%s", code, exitFailed, stdout.String(), stderr.String())
	}
	b, err := ReadJSON(filepath.Join(out, "scoreboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Row{}
	for _, r := range b.Rows {
		got[r.ID] = r
	}
	want := map[string]string{"1": StatusPass, "3d": StatusPass, "3e": StatusPass, "5a": StatusError, "6a": StatusSkipped}
	for id, st := range want {
		if got[id].Status != st {
			t.Errorf("%s: status %s, want %s (%+v)", id, got[id].Status, st, got[id])
		}
	}
	if len(b.Rows) != len(want) {
		t.Errorf("%d rows, want %d", len(b.Rows), len(want))
	}
	if !strings.Contains(got["5a"].Reason, "crashed before storing results") || got["5a"].ExitCode != 255 {
		t.Errorf("5a reason %q exit %d", got["5a"].Reason, got["5a"].ExitCode)
	}
	// 3d and 3e ran with their presets and the quick time limit, and each
	// row points at its own run.
	for id, preset := range map[string]string{"3d": "latency", "3e": "messages"} {
		r := got[id]
		args, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(r.RunDir), "args.txt"))
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if !strings.Contains(string(args), "PRESET="+preset) || !strings.Contains(string(args), "--time-limit 10") || !strings.Contains(string(args), "--latency 100") {
			t.Errorf("%s ran with %s", id, args)
		}
		if len(r.Links) == 0 || r.Links[0].Name != "report" {
			t.Errorf("%s links = %+v", id, r.Links)
		}
		for _, l := range r.Links {
			if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(l.Href))); err != nil {
				t.Errorf("%s link %s does not resolve: %v", id, l.Href, err)
			}
		}
	}
	if got["1"].WallSeconds <= 0 || b.WallSeconds < got["1"].WallSeconds {
		t.Errorf("wall times not measured: row %v, board %v", got["1"].WallSeconds, b.WallSeconds)
	}
	if got["3d"].RunDir == got["3e"].RunDir {
		t.Error("3d and 3e point at the same run")
	}
	if _, err := os.Stat(filepath.Join(out, "scoreboard.html")); err != nil {
		t.Error(err)
	}
	if !strings.Contains(stdout.String(), "3e Efficient broadcast II") {
		t.Errorf("table missing from stdout:\n%s", stdout.String())
	}
}

func TestRunInvalidExitsNonZero(t *testing.T) {
	wb := writeFakeWorkbench(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--workbench", wb, "--bin", "unique-ids=/x", "--out", t.TempDir(), "--quick"}, &stdout, &stderr)
	if code != exitFailed || !strings.Contains(stdout.String(), "2: workload: duplicate id 7") {
		t.Errorf("exit %d\n%s", code, stdout.String())
	}
}

func TestBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--bin", "echo=/x"},
		{"--workbench", "/wb"},
		{"--workbench", "/wb", "--bin", "nosuch=/x"},
		{"--workbench", "/wb", "--bin", "echo"},
		{"--workbench", "/wb", "--bin", "echo=/x", "--only", "9z"},
		{"--workbench", "/wb", "--bin", "echo=/x", "--only", "3d"},
		{"--workbench", "/wb", "--bin", "echo=/x", "--env", "3d"},
		{"--workbench", "/wb", "--bin", "echo=/x", "--frobnicate"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != exitBadArgs {
			t.Errorf("%v: exit %d, want %d", args, code, exitBadArgs)
		}
		if !strings.Contains(stderr.String(), "scoreboard") && !strings.Contains(stderr.String(), "flag") {
			t.Errorf("%v: no error message: %q", args, stderr.String())
		}
	}
}

func TestDryRunPrintsFlyCommands(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--workbench", "/wb", "--bin", "txn=/t", "--bin", "broadcast=/b", "--dry-run", "--env", "6c=TXN_MODE=x"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"3d: GOSSIP_PRESET=latency /wb test -w broadcast --bin /b --node-count 25 --rate 100 --latency 100 --time-limit 20",
		"6c: TXN_MODE=x /wb test -w txn-rw-register --bin /t --node-count 2 --concurrency 2n --rate 1000 --consistency-models read-committed --availability total --nemesis partition --time-limit 20",
		"6b-partition: ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "echo") {
		t.Error("echo has no binary and should not be listed")
	}
}

// Maelstrom's own workloads get a section of their own, after Fly.io's,
// in the text table and on the page.
func TestSectionsBySuite(t *testing.T) {
	fly := Row{Suite: "flyio", ID: "1", Name: "Echo", Status: StatusSkipped, Reason: "skipped: no --bin echo=PATH"}
	gset := Row{Suite: "maelstrom", ID: "g-set-partition", Name: "Grow-only set, partitioned", Status: StatusSkipped, Reason: "skipped: no --bin g-set=PATH"}
	rows := []Row{gset, fly}
	sortRows(rows)
	if rows[0].ID != "1" {
		t.Fatalf("Maelstrom's row sorted before Fly.io's: %s", rows[0].ID)
	}
	secs := Sections(rows)
	if len(secs) != 2 || secs[0].Title != "Fly.io's Gossip Glomers" || secs[1].Title != "Maelstrom's own workloads" ||
		len(secs[1].Rows) != 1 || secs[1].Rows[0].ID != "g-set-partition" {
		t.Fatalf("sections %+v", secs)
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, rows); err != nil {
		t.Fatal(err)
	}
	table := buf.String()
	fi, mi := strings.Index(table, "Fly.io's Gossip Glomers"), strings.Index(table, "Maelstrom's own workloads")
	if fi < 0 || mi < fi || !strings.Contains(table[mi:], "g-set-partition Grow-only set") || strings.Contains(table[mi:], "Fly.io target") {
		t.Errorf("table:\n%s", table)
	}
	// A board of one suite has no headings.
	buf.Reset()
	if err := WriteTable(&buf, []Row{fly}); err != nil || strings.Contains(buf.String(), "Gossip Glomers") {
		t.Errorf("one-suite table: %v\n%s", err, buf.String())
	}
	path := filepath.Join(t.TempDir(), "scoreboard.html")
	if err := WriteHTML(path, Board{Rows: rows}); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(path)
	if !strings.Contains(string(page), "<h2>Maelstrom&#39;s own workloads</h2>") || !strings.Contains(string(page), "g-set-partition") {
		t.Errorf("page lacks Maelstrom's section:\n%s", page)
	}
}
