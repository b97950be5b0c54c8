package store

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
)

func TestHistoryLineIsJepsenStyle(t *testing.T) {
	for _, tc := range []struct {
		op   history.Op
		want string
	}{
		{history.Op{Process: 0, Type: history.Invoke, F: "echo", Value: "Please echo 35"}, "0\t:invoke\t:echo\t\"Please echo 35\""},
		{history.Op{Process: 3, Type: history.Info, F: "generate", Error: "net-timeout"}, "3\t:info\t:generate\tnil\t\"net-timeout\""},
		{history.Op{Process: 4, Type: history.OK, F: "read", Value: []any{7}, Node: "n3"}, "4\t:ok\t:read\t[7]\t; n3"},
		{history.Op{Process: history.NemesisProcess, Type: history.Info, F: "start-partition",
			Value: map[string]any{"n0": []string{"n1"}, "n1": []string{"n0"}}},
			":nemesis\t:info\t:start-partition\t{:n0 [\"n1\"], :n1 [\"n0\"]}"},
		{history.Op{Process: 1, Type: history.Fail, F: "cas", Value: []any{1, 2}, Error: []any{"precondition-failed", "a\nb"}},
			"1\t:fail\t:cas\t[1 2]\t[\"precondition-failed\" \"a\\nb\"]"},
	} {
		if got := HistoryLine(tc.op); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}

func TestCreateWriteLoad(t *testing.T) {
	root := t.TempDir()
	start := time.Date(2026, 3, 5, 11, 26, 42, 178e6, time.UTC)
	run, err := Create(root, "echo", start)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(run.Dir) != "20260305T112642.178Z" {
		t.Errorf("run dir %s", run.Dir)
	}
	for _, link := range []string{"latest", "current", "echo/latest"} {
		target, err := filepath.EvalSymlinks(filepath.Join(root, link))
		if err != nil {
			t.Fatalf("%s: %v", link, err)
		}
		want, _ := filepath.EvalSymlinks(run.Dir)
		if target != want {
			t.Errorf("%s -> %s, want %s", link, target, want)
		}
	}
	h := history.History{
		{Type: history.Invoke, Process: 0, F: "generate", Time: 5},
		{Type: history.OK, Process: 0, F: "generate", Value: 12, Time: 9, Node: "n0"},
	}
	h.Reindex()
	if err := run.WriteHistory(h); err != nil {
		t.Fatal(err)
	}
	res := checker.Result{"valid?": checker.Unknown, "workload": checker.Result{"valid?": checker.Valid},
		"latencies": map[float64]any{0.5: 3, 1: 4}}
	if err := run.WriteResults(res); err != nil {
		t.Fatal(err)
	}
	if err := run.WriteJSON("test.json", map[string]any{"workload": "echo"}); err != nil {
		t.Fatal(err)
	}
	e, _ := os.ReadFile(run.Path("results.edn"))
	if !strings.Contains(string(e), ":valid? :unknown") || !strings.Contains(string(e), "{0.5 3,") || !strings.Contains(string(e), "1 4}") {
		t.Errorf("results.edn:\n%s", e)
	}

	// A second run in the same millisecond gets its own directory.
	run2, err := Create(root, "echo", start)
	if err != nil || run2.Dir == run.Dir {
		t.Fatalf("second run dir %v %v", run2, err)
	}

	dir, err := Resolve(root, "0")
	if err != nil || dir != run.Dir {
		t.Fatalf("Resolve 0 = %s %v, want %s", dir, err, run.Dir)
	}
	l, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.History) != 2 || l.History[1].Node != "n0" || l.History[1].Value != json.Number("12") || l.History[1].Time != 9 {
		t.Errorf("loaded history %+v", l.History)
	}
	var test map[string]any
	if err := json.Unmarshal(l.Info.Test, &test); err != nil || test["workload"] != "echo" {
		t.Errorf("test.json %s %v", l.Info.Test, err)
	}
	if l.Results["valid?"] != "unknown" {
		t.Errorf("results valid? = %v", l.Results["valid?"])
	}
	if _, err := Resolve(root, "7"); err == nil {
		t.Error("Resolve of a missing index succeeded")
	}
}
