package maelstromstore

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/store"
	"github.com/glomers/glomers/tools/workbench/store/storetest"
	"github.com/glomers/glomers/tools/workbench/workload/broadcast"
)

// The workbench's broadcast checker, run on the history Maelstrom
// recorded, must reproduce Maelstrom's own verdict and stable latencies.
func TestBroadcastCheckerAgreesWithMaelstromOnItsOwnHistory(t *testing.T) {
	for _, dir := range []string{"testdata/3d-latency-eager-1", "testdata/3b-latency-eager-1"} {
		t.Run(dir, func(t *testing.T) {
			res, h := loadReference(t, dir)
			ours := map[string]any(broadcast.Check(h))
			theirs := res["workload"].(map[string]any)
			for _, k := range []string{"valid?", "attempt-count", "stable-count", "lost-count", "stale-count"} {
				if fmtNum(ours[k]) != fmtNum(theirs[k]) && !(k == "valid?" && fmt.Sprint(ours[k]) == fmt.Sprint(theirs[k])) {
					t.Errorf(":%s ours %v, Maelstrom's %v", k, ours[k], theirs[k])
				}
			}
			for _, q := range []string{"0", "0.5", "0.95", "0.99", "1"} {
				o, th := dig(ours, "stable-latencies", q), dig(theirs, "stable-latencies", q)
				if o == nil || fmtNum(o) != fmtNum(th) {
					t.Errorf("stable-latencies %s: ours %v, Maelstrom's %v", q, o, th)
				}
			}
		})
	}
}

func fmtNum(v any) string {
	if f, ok := history.Float(v); ok {
		return jsonNum(f)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func jsonNum(f float64) string { b, _ := json.Marshal(f); return string(b) }

func TestFiguresOfTheReferenceRuns(t *testing.T) {
	dir := "testdata/3d-latency-eager-1"
	res, h := loadReference(t, dir)
	f, err := FiguresOf(res, broadcast.Check(h), h)
	if err != nil {
		t.Fatal(err)
	}
	// The folder's README: 2.89 msgs/op, broadcast ok p50 55 ms, stable
	// p50 189 ms, invocation → last read missing it p50 255 ms.
	if f.Valid != "true" || f.ServersMsgsPerOp != 2.8939395 || f.StableP50 != 189 || f.DisseminationP50 != 255 {
		t.Errorf("figures %+v", f)
	}
	if p := f.OpP50["broadcast"]; p < 54 || p > 56 {
		t.Errorf("broadcast ok p50 %.1f ms, want ≈55", p)
	}
}

// loadReference reads a Maelstrom run kept in testdata (copied: under
// Bazel its files are symlinks, which the store's reader refuses).
func loadReference(t *testing.T, dir string) (map[string]any, history.History) {
	t.Helper()
	dir = storetest.Copy(t, dir)
	res, err := LoadResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	h, err := LoadHistory(dir)
	if err != nil {
		t.Fatal(err)
	}
	return res, h
}

// LoadResults is a run's results read through the store (results.json, or
// Maelstrom's results.edn), for tests on runs in regular files.
func LoadResults(dir string) (map[string]any, error) {
	l, err := store.Load(dir)
	if err != nil {
		return nil, err
	}
	return l.Results, nil
}

// LoadHistory is a run's history read through the store (history.json, or
// Maelstrom's history.edn).
func LoadHistory(dir string) (history.History, error) {
	l, err := store.Load(dir)
	if err != nil {
		return nil, err
	}
	return l.History, nil
}
