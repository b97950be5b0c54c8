package main

// Judging a run stored by the real Maelstrom (results.edn, history.edn,
// jepsen.log; no results.json). Its results.edn lacks figures the bound
// table uses (dissemination latencies, per-f latency quantiles): they are
// computed from history.edn by the workbench's own checkers
// (analysis.Analyze with the workload and options of the command line in
// jepsen.log), so one bound table holds under both harnesses. Maelstrom's
// own figures are never replaced.

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/glomers/glomers/tools/resultcheck/bound"
	"github.com/glomers/glomers/tools/workbench/analysis"
	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/cli"
	"github.com/glomers/glomers/tools/workbench/registry"
	"github.com/glomers/glomers/tools/workbench/store"
)

// unmeasurable are results paths that a Maelstrom store cannot give, with
// why. A check on one is reported as not checked instead of failing.
var unmeasurable = map[string]string{
	"net.service-times": "needs the network journal, which Maelstrom keeps only as Fressian (net-journal/*.fressian) that this does not read",
}

// maelstromRun is a Maelstrom store's results, completed.
type maelstromRun struct {
	results map[string]any
	added   []string // paths computed here, e.g. workload.dissemination-latencies
	notes   []string // what could not be computed, and why
}

// maelstromDir says whether path names a Maelstrom store: its results.edn,
// or a run directory with results.edn and no results.json.
func maelstromDir(path string) (string, bool) {
	if filepath.Base(path) == store.ResultsEDNName {
		return filepath.Dir(path), true
	}
	st, err := os.Stat(path)
	if err != nil || !st.IsDir() {
		return "", false
	}
	if _, err := os.Stat(filepath.Join(path, store.ResultsName)); err == nil {
		return "", false
	}
	_, err = os.Stat(filepath.Join(path, store.ResultsEDNName))
	return path, err == nil
}

// readMaelstrom loads the run in dir and adds, under keys Maelstrom's
// results lack, what the workbench's checkers compute from its history.
func readMaelstrom(dir string) (*maelstromRun, error) {
	run, err := store.Load(dir)
	if err != nil {
		return nil, err
	}
	if run.Results == nil {
		return nil, fmt.Errorf("%s: no results.edn", dir)
	}
	m := &maelstromRun{results: run.Results}
	derived, err := derive(run)
	if err != nil {
		m.notes = append(m.notes, fmt.Sprintf("only Maelstrom's own figures: %v", err))
	} else {
		m.added = mergeMissing(run.Results, derived)
	}
	for _, p := range slices.Sorted(maps.Keys(unmeasurable)) {
		if _, ok := bound.Lookup(run.Results, strings.Split(p, ".")); !ok {
			m.notes = append(m.notes, fmt.Sprintf("%s not measurable: %s", p, unmeasurable[p]))
		}
	}
	// Through the workbench's own results.json encoding, so the map has the
	// shape (string keys, JSON numbers) a results.json read back has.
	j, err := store.ResultsJSON(checker.Result(run.Results))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if m.results, err = bound.DecodeResults(j); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return m, nil
}

// derive runs the workbench's checkers on the stored history, with the
// workload and options of the command line Jepsen logged.
func derive(run *store.Loaded) (checker.Result, error) {
	if run.History == nil {
		return nil, fmt.Errorf("no history: %v", run.HistoryErr)
	}
	args := run.Info.Command
	i := slices.Index(args, "test")
	if i < 0 {
		return nil, errors.New("no test command line in jepsen.log, so the workload is unknown")
	}
	o, err := cli.ParseTestArgs(args[i+1:])
	if err != nil {
		return nil, fmt.Errorf("command line %q: %w", strings.Join(args, " "), err)
	}
	w, ok := registry.Lookup(o.Workload)
	if !ok {
		return nil, fmt.Errorf("workload %q is not known to the workbench", o.Workload)
	}
	// Maelstrom's :net stands; without a journal it could not be
	// recomputed anyway.
	net, _ := run.Results["net"].(map[string]any)
	return analysis.Analyze(w, o.WorkloadOptions(), run.History, checker.Result(net)), nil
}

// mergeMissing adds to dst the top-level results and the entries of
// top-level results that derived has and dst lacks, and lists them.
func mergeMissing(dst map[string]any, derived checker.Result) []string {
	var added []string
	for k, v := range derived {
		have, ok := dst[k]
		if !ok {
			dst[k] = v
			added = append(added, k)
			continue
		}
		hm, ok1 := have.(map[string]any)
		dm, ok2 := asResultMap(v)
		if !ok1 || !ok2 {
			continue
		}
		for sk, sv := range dm {
			if _, ok := hm[sk]; !ok {
				hm[sk] = sv
				added = append(added, k+"."+sk)
			}
		}
	}
	slices.Sort(added)
	return added
}

func asResultMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case checker.Result:
		return m, true
	case map[string]any:
		return m, true
	}
	return nil, false
}

// unmeasurableWhy is why path cannot be had from a Maelstrom store, or "".
func unmeasurableWhy(path []string) string {
	p := strings.Join(path, ".")
	for prefix, why := range unmeasurable {
		if p == prefix || strings.HasPrefix(p, prefix+".") {
			return why
		}
	}
	return ""
}
