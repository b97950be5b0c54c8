package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/store"
)

// TestLinKVFailureComesWithPorcupinesView: re-checking a lin-kv run with a
// stale read writes porcupine's visualisation, says where, and the report
// links it.
func TestLinKVFailureComesWithPorcupinesView(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	run, err := store.Create(root, "lin-kv", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ms := int64(time.Millisecond)
	h := history.History{
		{Type: history.Invoke, Process: 0, F: "write", Value: []any{0, 3}, Time: 0},
		{Type: history.OK, Process: 0, F: "write", Value: []any{0, 3}, Time: 10 * ms},
		{Type: history.Invoke, Process: 0, F: "write", Value: []any{0, 4}, Time: 20 * ms},
		{Type: history.OK, Process: 0, F: "write", Value: []any{0, 4}, Time: 30 * ms},
		{Type: history.Invoke, Process: 1, F: "read", Value: []any{0, nil}, Time: 40 * ms},
		{Type: history.OK, Process: 1, F: "read", Value: []any{0, 3}, Time: 50 * ms},
	}
	h.Reindex()
	if err := run.WriteHistory(h); err != nil {
		t.Fatal(err)
	}
	o, err := ParseTestArgs([]string{"-w", "lin-kv", "--bin", "/bin/true", "--node-count", "1", "--concurrency", "2n"})
	if err != nil {
		t.Fatal(err)
	}
	run.WriteJSON("test.json", o)
	run.WriteResults(checker.Result{"valid?": checker.Valid})

	var stdout, stderr bytes.Buffer
	if code := runAnalyze([]string{"-t", run.Dir}, &stdout, &stderr); code != ExitInvalid {
		t.Fatalf("analyze: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	out := analysisDir(t, stdout.String(), run.Dir)
	path := filepath.Join(out, "linearizability.html")
	if !strings.Contains(stdout.String(), "porcupine's view of the keys that cannot be linearized: "+path) {
		t.Errorf("analyze does not point at the view:\n%s", stdout.String())
	}
	if b, err := os.ReadFile(path); err != nil || !strings.Contains(string(b), "key 0: read") {
		t.Errorf("view: %v %.200s", err, b)
	}
	if idx, _ := os.ReadFile(filepath.Join(out, "index.html")); !strings.Contains(string(idx), `href="linearizability.html"`) {
		t.Error("index.html does not link the view")
	}
}
