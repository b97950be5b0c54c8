package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/network"
	"github.com/glomers/glomers/tools/workbench/store"
)

// storeEchoRun writes a stored echo run whose second reply is altered when
// broken is set. Its stored results claim the opposite verdict, so a test
// can tell that analyze re-checked rather than read them back.
func storeEchoRun(t *testing.T, root string, start time.Time, broken bool) string {
	t.Helper()
	run, err := store.Create(root, "echo", start)
	if err != nil {
		t.Fatal(err)
	}
	second := "Please echo 2"
	if broken {
		second = "Please echo 2 (altered)"
	}
	ms := int64(time.Millisecond)
	h := history.History{
		{Type: history.Invoke, Process: 0, F: "echo", Value: "Please echo 1", Time: 1 * ms},
		{Type: history.OK, Process: 0, F: "echo", Value: map[string]any{"type": "echo_ok", "echo": "Please echo 1", "in_reply_to": 1}, Time: 2 * ms},
		{Type: history.Invoke, Process: 0, F: "echo", Value: "Please echo 2", Time: 3 * ms},
		{Type: history.OK, Process: 0, F: "echo", Value: map[string]any{"type": "echo_ok", "echo": second, "in_reply_to": 2}, Time: 4 * ms},
	}
	h.Reindex()
	if err := run.WriteHistory(h); err != nil {
		t.Fatal(err)
	}
	o, err := ParseTestArgs([]string{"-w", "echo", "--bin", "/bin/true", "--node-count", "1", "--time-limit", "1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.WriteJSON("test.json", o); err != nil {
		t.Fatal(err)
	}
	body := json.RawMessage(`{"type":"echo","echo":"Please echo 1","msg_id":1}`)
	journal := []network.Event{
		{Kind: network.Send, Time: time.Millisecond, Msg: network.Message{ID: 0, Src: "c1", Dest: "n0", Body: body}},
		{Kind: network.Recv, Time: time.Millisecond, Msg: network.Message{ID: 0, Src: "c1", Dest: "n0", Body: body}},
	}
	if err := run.WriteJSON("net-journal.json", journal); err != nil {
		t.Fatal(err)
	}
	if err := run.WriteResults(checker.Result{"valid?": checker.Of(broken)}); err != nil {
		t.Fatal(err)
	}
	return run.Dir
}

func TestAnalyzeRechecksAStoredRun(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	t0 := time.Date(2026, 3, 5, 11, 26, 42, 0, time.UTC)
	good := storeEchoRun(t, root, t0, false)
	bad := storeEchoRun(t, root, t0.Add(time.Minute), true)

	cases := []struct {
		args []string
		dir  string
		code int
		want string
	}{
		{[]string{"--store", root}, bad, ExitInvalid, "Analysis invalid"},      // -1 is the latest
		{[]string{"--store", root, "-t", "-1"}, bad, ExitInvalid, "(altered)"}, // names the bad op
		{[]string{"--store", root, "-t", "0"}, good, ExitValid, "Everything looks good"},
		{[]string{"--test", good}, good, ExitValid, "Everything looks good"},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		if code := runAnalyze(c.args, &stdout, &stderr); code != c.code {
			t.Errorf("analyze %v = %d, want %d\n%s%s", c.args, code, c.code, stdout.String(), stderr.String())
		}
		if !strings.Contains(stdout.String(), c.want) {
			t.Errorf("analyze %v printed no %q:\n%s", c.args, c.want, stdout.String())
		}
		// The re-check's results and report are in a directory of their
		// own; the run's stored results (the opposite verdict) stay.
		out := analysisDir(t, stdout.String(), c.dir)
		res, err := os.ReadFile(filepath.Join(out, "results.json"))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(res, &m); err != nil {
			t.Fatal(err)
		}
		if want := c.code == ExitValid; m["valid?"] != want {
			t.Errorf("results.json valid? = %v after analyze %v", m["valid?"], c.args)
		}
		if n, _ := history.Float(m["net"].(map[string]any)["all"].(map[string]any)["msg-count"]); n != 1 {
			t.Errorf("net stats not recomputed from the journal: %v", m["net"])
		}
		for _, f := range []string{"index.html", "latency-raw.svg", "messages.svg"} {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Errorf("analyze did not write %s: %v", f, err)
			}
			if _, err := os.Stat(filepath.Join(c.dir, f)); err == nil {
				t.Errorf("analyze wrote %s into the run's own directory", f)
			}
		}
		stored, err := store.Load(c.dir)
		if err != nil {
			t.Fatal(err)
		}
		if want := c.code != ExitValid; stored.Results["valid?"] != want {
			t.Errorf("the run's own results.json was changed: valid? = %v", stored.Results["valid?"])
		}
	}
}

// analysisDir is the directory analyze said it wrote, which must be a new
// one under the run's analysis/.
func analysisDir(t *testing.T, stdout, run string) string {
	t.Helper()
	_, after, ok := strings.Cut(stdout, "results and report: ")
	if !ok {
		t.Fatalf("analyze did not say where it wrote:\n%s", stdout)
	}
	dir, _, _ := strings.Cut(after, "\n")
	if filepath.Dir(dir) != filepath.Join(run, store.AnalysisName) {
		t.Fatalf("analyze wrote into %s, want a directory under %s", dir, filepath.Join(run, store.AnalysisName))
	}
	return dir
}

func TestAnalyzeMisuse(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	storeEchoRun(t, root, time.Now(), false)
	noTest := t.TempDir()
	os.WriteFile(filepath.Join(noTest, "history.json"), nil, 0o644)
	for _, args := range [][]string{
		{"--store", root, "-t", "7"},
		{"--store", root, "-t", "nonsense"},
		{"--store", filepath.Join(t.TempDir(), "empty"), "-t", "-1"},
		{"-t", noTest},
		{"--bogus"},
		{"--store", root, "extra"},
	} {
		var stdout, stderr bytes.Buffer
		if code := runAnalyze(args, &stdout, &stderr); code != ExitBadArgs {
			t.Errorf("analyze %v = %d, want %d", args, code, ExitBadArgs)
		}
		if lines := strings.Count(strings.TrimSpace(stderr.String()), "\n"); lines != 0 || !strings.HasPrefix(stderr.String(), "workbench: analyze: ") {
			t.Errorf("analyze %v: want a one-line error, got %q", args, stderr.String())
		}
	}
}

func TestServeMisuse(t *testing.T) {
	for _, args := range [][]string{
		{"--port", "http"},
		{"--port", "70000"},
		{"--store", filepath.Join(t.TempDir(), "nope")},
		{"--frobnicate"},
		{"extra"},
	} {
		var stdout, stderr bytes.Buffer
		if code := runServe(args, &stdout, &stderr); code != ExitBadArgs {
			t.Errorf("serve %v = %d, want %d", args, code, ExitBadArgs)
		}
		if !strings.HasPrefix(stderr.String(), "workbench: serve: ") {
			t.Errorf("serve %v: stderr %q", args, stderr.String())
		}
	}
}
