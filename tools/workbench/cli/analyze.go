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
	"github.com/glomers/glomers/tools/workbench/runs"
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
	loaded, err := runs.Load(dir)
	if err != nil {
		return badArgs(stderr, "analyze: %v", err)
	}
	o, err := storedOptions(loaded)
	if err != nil {
		return badArgs(stderr, "analyze: %s: %v", dir, err)
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
	if path, err := writeLinearizability(dir, o.Workload, loaded.History, res); err != nil {
		fmt.Fprintf(stderr, "workbench: analyze: %v\n", err)
	} else if path != "" {
		fmt.Fprintf(stdout, "porcupine's view of the keys that cannot be linearized: %s\n", path)
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
	printInfo(stdout, loaded.Info)
	fmt.Fprintf(stdout, "re-checked %s (%d history entries)\n", dir, len(loaded.History))
	return announce(stdout, res, w)
}

// storedOptions recovers a run's options: test.json for the workbench's
// runs, the command line in jepsen.log for Maelstrom's (parsed by the same
// parser as `test`, so its defaults are Maelstrom's too).
func storedOptions(r *runs.Run) (*TestOptions, error) {
	switch {
	case len(r.Info.Test) > 0:
		var o TestOptions
		if err := json.Unmarshal(r.Info.Test, &o); err != nil {
			return nil, fmt.Errorf("test.json: %w", err)
		}
		return &o, nil
	case r.Info.Format == runs.Maelstrom && len(r.Info.Command) > 0:
		args := r.Info.Command
		for i, a := range args {
			if a == "test" {
				args = args[i+1:]
				break
			}
		}
		o, err := ParseTestArgs(args)
		if err != nil {
			return nil, fmt.Errorf("Maelstrom command line %q: %w", r.Info.CommandString(), err)
		}
		return o, nil
	}
	return nil, errors.New("no test.json and no command line in jepsen.log, so its workload and options are unknown")
}

// printInfo prints what a run recorded about itself, one item a line.
func printInfo(w io.Writer, info runs.Info) {
	if len(info.Command) > 0 {
		fmt.Fprintf(w, "command: %s\n", info.CommandString())
	}
	if info.BinSHA256 != "" {
		fmt.Fprintf(w, "node binary sha256: %s\n", info.BinSHA256)
	}
	if len(info.NodeEnv) > 0 {
		fmt.Fprintf(w, "node environment: %s\n", info.EnvString())
	}
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
