package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

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

// runAnalyze reloads a stored run (the workbench's own or Maelstrom's,
// finished or killed mid-run), runs every checker again with the
// workbench's current code and exits as `test` would: 0 valid, 1 invalid,
// 2 unknown. Unlike Jepsen's analyze it never overwrites what the run (or
// another tool) wrote: the results and the report go into a directory of
// their own, <run>/analysis/<time>/.
func runAnalyze(args []string, stdout, stderr io.Writer) int {
	p, err := parseFlags(analyzeFlags, args)
	if err != nil {
		return badArgs(stderr, "analyze: %v", err)
	}
	if p.last("help") == "true" {
		fmt.Fprintln(stdout, "usage: workbench analyze [-t INDEX|DIR] [--store DIR]")
		fmt.Fprintln(stdout, "Re-checks a stored run (the workbench's or Maelstrom's, finished or killed) and writes")
		fmt.Fprintln(stdout, "the results and report into <run>/analysis/<time>/; no file the run holds is changed.")
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
	net, cutShort, err := recountNet(loaded)
	if err != nil {
		fmt.Fprintf(stderr, "workbench: analyze: %v\n", err)
		return ExitCrash
	}
	res := analysis.Analyze(w, o.WorkloadOptions(), loaded.History, net)
	// Protocol violations were seen while running; they cannot be
	// re-derived from the history, so keep what the run recorded.
	if ne, ok := loaded.Results["node-errors"]; ok {
		res["node-errors"] = ne
	}
	if len(cutShort) > 0 {
		res["cut-short"] = cutShort
	}
	writeAnalysis(stdout, stderr, loaded, o.Workload, res)

	if b, err := edn.Marshal(map[string]any(res)); err == nil {
		stdout.Write(b)
	}
	fmt.Fprintln(stdout)
	for _, line := range analysis.FirstErrors(res) {
		fmt.Fprintln(stdout, line)
	}
	printInfo(stdout, loaded.Info)
	for _, why := range cutShort {
		fmt.Fprintf(stdout, "cut short: %s\n", why)
	}
	fmt.Fprintf(stdout, "re-checked %s (%d history entries)\n", dir, len(loaded.History))
	return announce(stdout, res, w)
}

// writeAnalysis stores a re-check's results and report in a new
// directory under the run's, leaving every file the run holds as it was.
// A run whose directory cannot be written to (a read-only copy of
// someone's evidence) is still re-checked: the verdict is printed, and
// only the files are missing.
func writeAnalysis(stdout, stderr io.Writer, loaded *store.Loaded, workload string, res checker.Result) {
	out, err := store.CreateAnalysis(loaded.Dir, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "workbench: analyze: results not stored: %v\n", err)
		return
	}
	if err := out.WriteResults(res); err != nil {
		fmt.Fprintf(stderr, "workbench: analyze: %v\n", err)
		return
	}
	if path, err := writeLinearizability(out.Dir, workload, loaded.History, res); err != nil {
		fmt.Fprintf(stderr, "workbench: analyze: %v\n", err)
	} else if path != "" {
		fmt.Fprintf(stdout, "porcupine's view of the keys that cannot be linearized: %s\n", path)
	}
	if err := runreport.WriteBeside(out.Dir, loaded.Dir, loaded.History, res); err != nil {
		// The verdict stands without the pictures.
		fmt.Fprintf(stderr, "workbench: analyze: %v\n", err)
	}
	fmt.Fprintf(stdout, "results and report: %s\n", out.Dir)
}

// storedOptions recovers a run's options: test.json for the workbench's
// runs, the command line in jepsen.log for Maelstrom's (parsed by the same
// parser as `test`, so its defaults are Maelstrom's too).
func storedOptions(r *store.Loaded) (*TestOptions, error) {
	switch {
	case len(r.Info.Test) > 0:
		var o TestOptions
		if err := json.Unmarshal(r.Info.Test, &o); err != nil {
			return nil, fmt.Errorf("test.json: %w", err)
		}
		return &o, nil
	case r.Info.Format == store.Maelstrom && len(r.Info.Command) > 0:
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
func printInfo(w io.Writer, info store.Info) {
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

// recountNet recomputes the :net result from the run's journal, streamed
// (its memory does not grow with the journal). Runs stored without one
// keep the :net result they recorded. cutShort says why the run looks cut
// short (killed before it finished), none for a run that ended normally.
func recountNet(loaded *store.Loaded) (net checker.Result, cutShort []string, err error) {
	cutShort = loaded.CutShort()
	var tally analysis.NetTally
	tail, found, err := store.StreamJournal(loaded.Dir, func(e network.Event) error {
		tally.Add(e)
		return nil
	})
	switch {
	case err != nil:
		return nil, nil, err
	case found:
		if tail.CutShort() {
			cutShort = append(cutShort, tail.String())
		}
		return tally.Result(analysis.InvokeCount(loaded.History)), cutShort, nil
	}
	if stored, ok := loaded.Results["net"].(map[string]any); ok {
		return checker.Result(stored), cutShort, nil
	}
	return nil, cutShort, nil
}
