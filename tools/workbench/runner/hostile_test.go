package runner

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/network"
	"github.com/glomers/glomers/tools/workbench/store"
	"github.com/glomers/glomers/tools/workbench/workload"
	"github.com/glomers/glomers/tools/workbench/workload/echo"

	"github.com/glomers/glomers/tools/workbench/process/hostiletest"
)

// hostileNode is ../process/testdata/hostile, built once by TestMain (""
// when there is no Go toolchain and no prebuilt binary).
var hostileNode string

func TestMain(m *testing.M) {
	os.Exit(hostiletest.Main(m, "../process/testdata/hostile", &hostileNode))
}

func hostileConfig(t *testing.T, limit time.Duration, args ...string) Config {
	t.Helper()
	if hostileNode == "" {
		t.Skip("no go toolchain to build the hostile node")
	}
	return Config{
		Workload: echo.Workload, Bin: hostileNode, Args: args, Seed: 1,
		Opts:        workload.Options{Nodes: []string{"n0", "n1"}, Concurrency: 2, Rate: 50, TimeLimit: limit},
		InitTimeout: 5 * time.Second,
	}
}

func TestANodeThatDiesEndsTheRunAtOnce(t *testing.T) {
	t.Parallel()
	cfg := hostileConfig(t, 20*time.Second, "die", "1")
	start := time.Now()
	out, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The nodes die at 1 s; Maelstrom would notice at teardown, 20 s in.
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("run took %v; the nodes died at 1 s", d.Round(time.Millisecond))
	}
	if len(out.Crashes) == 0 || !strings.Contains(out.Crashes[0].Error(), "dying on purpose") {
		t.Errorf("crashes %v, want the nodes' crash reports with their last stderr", out.Crashes)
	}
	if out.Interrupted {
		t.Error("a crash is reported as an interrupt")
	}
}

func TestANodeThatDiesBeforeInitFailsSetupAtOnce(t *testing.T) {
	t.Parallel()
	cfg := hostileConfig(t, 20*time.Second, "die", "0")
	cfg.InitTimeout = 10 * time.Second
	start := time.Now()
	_, err := Run(context.Background(), cfg)
	if _, ok := err.(*SetupError); !ok || !strings.Contains(err.Error(), "exited") {
		t.Fatalf("err = %v, want a setup error saying the node exited", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("setup failed after %v, not as soon as the nodes exited", d.Round(time.Millisecond))
	}
}

func lines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); n++ {
	}
	return n
}

func TestHistoryAndJournalStreamToDisk(t *testing.T) {
	t.Parallel()
	cfg := hostileConfig(t, 3*time.Second, "ok")
	cfg.Dir = t.TempDir()
	// Both files must be growing on disk while the run is still going.
	grew := make(chan bool, 1)
	go func() {
		time.Sleep(2 * time.Second)
		h, errH := os.Stat(filepath.Join(cfg.Dir, "history.json"))
		j, errJ := os.Stat(filepath.Join(cfg.Dir, "net-journal.json"))
		grew <- errH == nil && errJ == nil && h.Size() > 1000 && j.Size() > 1000
	}()
	out, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !<-grew {
		t.Error("history.json and net-journal.json were not written during the run")
	}
	if out.Valid != checker.Valid {
		t.Errorf("verdict %v, want valid", out.Valid)
	}
	if n := lines(t, filepath.Join(cfg.Dir, "history.json")); n != len(out.History) || n < 100 {
		t.Errorf("history.json has %d ops, the outcome %d; want the same, at least 100", n, len(out.History))
	}
	if n := lines(t, filepath.Join(cfg.Dir, "history.txt")); n != len(out.History) {
		t.Errorf("history.txt has %d lines for %d ops", n, len(out.History))
	}
	f, err := os.Open(filepath.Join(cfg.Dir, "net-journal.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	events := 0
	if _, err := store.ReadJournal(f, func(network.Event) error { events++; return nil }); err != nil {
		t.Fatal(err)
	}
	all := out.Results["net"].(checker.Result)["all"].(map[string]any)
	if want := all["send-count"].(int) + all["recv-count"].(int); events != want || events < 200 {
		t.Errorf("journal file has %d events, :net counts %d", events, want)
	}
	// Only the first messages stay in memory, for the report.
	if len(out.Journal) > 2*journalSample {
		t.Errorf("outcome keeps %d journal events, want at most %d", len(out.Journal), 2*journalSample)
	}
}
