package store

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
)

func TestReshapeLeavesMaelstromsStore(t *testing.T) {
	run, err := Create(t.TempDir(), "broadcast", time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	h := history.History{
		{Index: 0, Type: history.Invoke, Process: 0, F: "broadcast", Value: int64(1), Time: 5},
		{Index: 1, Type: history.OK, Process: 0, F: "broadcast", Value: int64(1), Time: 7},
		{Index: 2, Type: history.Info, Process: history.NemesisProcess, F: "start-partition", Value: "majority", Time: 8},
		{Index: 3, Type: history.Invoke, Process: 1, F: "read", Time: 9, Final: true},
		{Index: 4, Type: history.Fail, Process: 1, F: "read", Time: 11, Error: []any{"net-timeout", "no reply"}, Final: true},
	}
	res := checker.Result{
		"valid?": checker.Valid,
		"net":    checker.Result{"servers": checker.Result{"msgs-per-op": 2.5}, "service-times": checker.Result{"broadcast": map[float64]any{0.5: 1.0}}},
		"perf":   checker.Result{"valid?": checker.Valid, "latencies": checker.Result{"read": map[float64]any{0.5: 2.0}}},
		"workload": checker.Result{
			"valid?":                  checker.Valid,
			"stable-latencies":        map[float64]any{0: 1, 0.5: 4, 1: 9},
			"dissemination-latencies": map[float64]any{0.5: 6},
		},
	}
	if err := run.WriteResults(res); err != nil {
		t.Fatal(err)
	}
	if err := run.WriteHistory(h); err != nil {
		t.Fatal(err)
	}
	if err := run.WriteJSON("test.json", map[string]any{"command": []string{"workbench", "test", "-w", "broadcast", "--rate", "10"}}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(run.Path("jepsen.log"), []byte("the workbench's log\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	if err := Reshape(run.Dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"results.json", "history.json", "test.json", "net-journal.json"} {
		if _, err := os.Stat(run.Path(name)); !os.IsNotExist(err) {
			t.Errorf("%s still there (%v)", name, err)
		}
	}
	loaded, err := Load(run.Dir)
	if err != nil {
		t.Fatal(err)
	}
	got := loaded.History
	if len(got) != len(h) {
		t.Fatalf("history.edn has %d ops, want %d", len(got), len(h))
	}
	for i := range h {
		g, w := got[i], h[i]
		if g.Index != w.Index || g.Type != w.Type || g.Process != w.Process || g.F != w.F || g.Time != w.Time || g.Final != w.Final ||
			!reflect.DeepEqual(g.Value, w.Value) || !reflect.DeepEqual(g.Error, w.Error) {
			t.Errorf("op %d read back as %+v, want %+v", i, g, w)
		}
	}
	results := loaded.Results
	dig := func(v any, keys ...string) any { got, _ := checker.Lookup(v, keys...); return got }
	for _, p := range WorkbenchOnly {
		if dig(results, p...) != nil {
			t.Errorf("results.edn still has %v", p)
		}
	}
	if v := dig(results, "workload", "stable-latencies", "0.5"); v != int64(4) {
		t.Errorf("stable-latencies 0.5 = %v (%T), want 4", v, v)
	}
	raw, _ := os.ReadFile(run.Path("results.edn"))
	if !strings.Contains(string(raw), ":stable-latencies {0 1, 0.5 4, 1 9}") {
		t.Errorf("quantile map not written with number keys as Maelstrom does:\n%s", raw)
	}
	// Jepsen's first lines, where runs.ReadInfo finds the command.
	log, _ := os.ReadFile(filepath.Join(run.Dir, "jepsen.log"))
	if want := "jepsen.core: Command line:\nworkbench test -w broadcast --rate 10\nthe workbench's log\n"; !strings.HasSuffix(string(log), want) {
		t.Errorf("jepsen.log is\n%s\nwant it to end with\n%s", log, want)
	}
}
