package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/history"

	"github.com/glomers/glomers/tools/workbench/store/storetest"
)

const (
	maelstromEcho      = "echo/20261202T032124.135+0000"
	maelstromBroadcast = "broadcast/20261202T032146.864+0000"
)

func TestLoadMaelstromRuns(t *testing.T) {
	echo, err := Load(maelstromRun(t, maelstromEcho))
	if err != nil {
		t.Fatal(err)
	}
	if echo.Info.Format != Maelstrom || strings.Join(echo.Info.Command, " ") != "lein run test -w echo --bin ./echo --node-count 1 --time-limit 10" {
		t.Errorf("echo info: %+v", echo.Info)
	}
	if n, _ := history.Int(echo.Results["stats"].(map[string]any)["count"]); echo.Results["valid?"] != true || n != 49 {
		t.Errorf("echo results: %v", echo.Results)
	}
	if len(echo.History) != 98 {
		t.Errorf("echo history: %d ops, want 98", len(echo.History))
	}
	first := echo.History[1]
	if first.Type != history.OK || first.F != "echo" || first.Process != 0 || first.Time != 60615673 || first.Index != 1 {
		t.Errorf("op 1: %+v", first)
	}
	if body, ok := first.Value.(map[string]any); !ok || body["echo"] != "Please echo 54" {
		t.Errorf("op 1 value: %#v", first.Value)
	}

	b, err := Load(maelstromRun(t, maelstromBroadcast))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(b.Info.Command, " "), "-w broadcast --bin ./broadcast --node-count 5") {
		t.Errorf("command from jepsen.log.gz: %q", b.Info.Command)
	}
	reads := 0
	for _, op := range b.History {
		if op.F == "read" && op.Type == history.OK {
			if _, ok := op.Value.([]any); !ok {
				t.Fatalf("read value %#v is not a list", op.Value)
			}
			reads++
		}
	}
	if reads != 111 {
		t.Errorf("%d ok reads, results.edn says 111", reads)
	}
}

// TestReadsRefuseWhatIsNotARegularFileInside stands for serve's hardening:
// a FIFO must not block, a symlink must not lead out of the root, and a
// file over the cap is refused rather than read.
func TestReadsRefuseWhatIsNotARegularFileInside(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "results.json"), 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	os.WriteFile(filepath.Join(outside, "secret.json"), []byte(`{"valid?": true}`), 0o644)
	os.Symlink(filepath.Join(outside, "secret.json"), filepath.Join(dir, "test.json"))
	os.WriteFile(filepath.Join(dir, "big"), make([]byte, 2000), 0o644)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()

	done := make(chan error, 1)
	go func() { _, err := ReadResults(root, "."); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) {
			t.Errorf("FIFO results.json: %v, want ErrNotRegular", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reading a FIFO blocked")
	}
	if _, err := ReadInfo(root, "."); err == nil {
		t.Error("a test.json symlink out of the root was followed")
	}
	if _, err := ReadFile(root, "big", 1000); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("over the cap: %v", err)
	}
	if b, err := ReadFile(root, "big", 2000); err != nil || len(b) != 2000 {
		t.Errorf("at the cap: %d bytes, %v", len(b), err)
	}
}

// maelstromRun is a run of the stored Maelstrom runs, copied (Bazel's
// runfiles are symlinks, which the store refuses).
func maelstromRun(t *testing.T, run string) string {
	return filepath.Join(storetest.Copy(t, "testdata/maelstrom-store"), run)
}
