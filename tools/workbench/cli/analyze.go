package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	// Aliased: test.go has a func named report.

	"github.com/glomers/glomers/tools/workbench/analysis"
	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/edn"
	"github.com/glomers/glomers/tools/workbench/network"
	"github.com/glomers/glomers/tools/workbench/registry"
	runreport "github.com/glomers/glomers/tools/workbench/report"
	"github.com/glomers/glomers/tools/workbench/store"
)

func init() {
	Register(Command{Name: "analyze", Summary: "re-check a stored run without running any node", Run: runAnalyze})
}

var analyzeFlags = []flagSpec{
	{long: "test", short: "t", value: "INDEX|DIR", def: "-1", help: "which run: an index among stored runs by time (-1 the latest, 0 the oldest) or a run directory"},
	{long: "store", value: "DIR", def: "store", help: "the store to look in"},
	{long: "help", short: "h", help: "show this help"},
}

// runAnalyze reloads a stored run (history.json, test.json and, when
// present, net-journal.json), runs every checker again with the workbench's
// current code, rewrites results.edn/results.json and the report, and
// exits as `test` would: 0 valid, 1 invalid, 2 unknown. Like Jepsen's
// analyze, it overwrites the run's results.
func runAnalyze(args []string, stdout, stderr io.Writer) int {
	p, err := parseFlags(analyzeFlags, args)
	if err != nil {
		return badArgs(stderr, "analyze: %v", err)
	}
	if p.last("help") == "true" {
		fmt.Fprintln(stdout, "usage: workbench analyze [-t INDEX|DIR] [--store DIR]")
		printFlags(stdout, analyzeFlags)
		return ExitValid
	}
	if len(p.positional) > 0 {
		return badArgs(stderr, "analyze: unexpected argument %q", p.positional[0])
	}
	ref := "-1"
	if p.has("test") {
		ref = p.last("test")
	}
	root := StoreRoot
	if p.has("store") {
		root = p.last("store")
	}
	dir, err := store.Resolve(root, ref)
	if err != nil {
		return badArgs(stderr, "analyze: %v", err)
	}
	loaded, err := store.Load(dir)
	if err != nil {
		return badArgs(stderr, "analyze: %s: %v", dir, err)
	}
	if len(loaded.Test) == 0 {
		return badArgs(stderr, "analyze: %s has no test.json, so its workload and options are unknown", dir)
	}
	var o TestOptions
	if err := json.Unmarshal(loaded.Test, &o); err != nil {
		return badArgs(stderr, "analyze: %s: test.json: %v", dir, err)
	}
	w, ok := registry.Lookup(o.Workload)
	if !ok {
		return badArgs(stderr, "analyze: %s: workload %q is not known to this workbench", dir, o.Workload)
	}

	journal, net, err := loadNet(dir, loaded.Results)
	if err != nil {
		fmt.Fprintf(stderr, "workbench: analyze: %v\n", err)
		return ExitCrash
	}
	res := analysis.Analyze(w, o.WorkloadOptions(), loaded.History, net, journal)
	// Protocol violations were seen while running; they cannot be
	// re-derived from the history, so keep what the run recorded.
	if ne, ok := loaded.Results["node-errors"]; ok {
		res["node-errors"] = ne
	}

	run := &store.Run{Dir: dir}
	if err := run.WriteResults(res); err != nil {
		fmt.Fprintf(stderr, "workbench: analyze: %v\n", err)
		return ExitCrash
	}
	if err := runreport.Write(dir, loaded.History, runreport.FromNetwork(journal), res); err != nil {
		// The verdict stands without the pictures.
		fmt.Fprintf(stderr, "workbench: analyze: %v\n", err)
	}

	if b, err := edn.Marshal(map[string]any(res)); err == nil {
		stdout.Write(b)
	}
	fmt.Fprintln(stdout)
	for _, line := range analysis.FirstErrors(res) {
		fmt.Fprintln(stdout, line)
	}
	fmt.Fprintf(stdout, "re-checked %s (%d history entries)\n", dir, len(loaded.History))
	return announce(stdout, res.Valid())
}

// loadNet reads the run's network journal, from which the :net stats are
// recomputed. Runs stored without one fall back to the :net result they
// recorded.
func loadNet(dir string, stored map[string]any) ([]network.Event, checker.Result, error) {
	b, err := os.ReadFile(filepath.Join(dir, "net-journal.json"))
	if err == nil {
		var journal []network.Event
		if err := json.Unmarshal(b, &journal); err != nil {
			return nil, nil, fmt.Errorf("%s: net-journal.json: %w", dir, err)
		}
		return journal, nil, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	if net, ok := stored["net"].(map[string]any); ok {
		return nil, checker.Result(net), nil
	}
	return nil, nil, nil
}
