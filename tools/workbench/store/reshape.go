package store

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/glomers/glomers/tools/workbench/edn"
	"github.com/glomers/glomers/tools/workbench/history"
)

// WorkbenchOnly are the results paths the workbench adds to Maelstrom's
// results map that bounds use. Maelstrom's results.edn has none of them:
// a tool judging a Maelstrom run computes them from history.edn (perf
// latencies, dissemination latencies) or, for service times, from a
// network journal, which Maelstrom keeps only as Fressian stripes.
var WorkbenchOnly = [][]string{
	{"net", "service-times"},
	{"perf", "latencies"},
	{"workload", "dissemination-latencies"},
}

// workbenchFiles are the files of a workbench run that Maelstrom's store
// does not have; Reshape removes them.
var workbenchFiles = []string{ResultsName, HistoryName, TestName, JournalName}

// Reshape rewrites a run the workbench stored in dir into the shape of
// the store Maelstrom leaves: results.edn without the WorkbenchOnly
// figures, history.edn (one op map per line), and jepsen.log starting
// with the "Command line:" Jepsen logs; the workbench's own results.json,
// history.json, test.json and net-journal.json are removed. The stand-in
// Maelstrom launcher uses it, so that the path which judges a real
// Maelstrom run is exercised where the JVM one cannot run.
func Reshape(dir string) error {
	testJSON, err := os.ReadFile(filepath.Join(dir, TestName))
	if err != nil {
		return fmt.Errorf("reshape %s: %w", dir, err)
	}
	var test struct {
		Command []string `json:"command"`
	}
	if err := json.Unmarshal(testJSON, &test); err != nil {
		return fmt.Errorf("reshape %s: test.json: %w", dir, err)
	}
	loaded, err := Load(dir)
	if err != nil {
		return fmt.Errorf("reshape %s: %w", dir, err)
	}
	if err := writeHistoryEDN(filepath.Join(dir, MaelstromHistoryName), loaded.History); err != nil {
		return fmt.Errorf("reshape %s: %w", dir, err)
	}
	if err := stripResultsEDN(filepath.Join(dir, ResultsEDNName)); err != nil {
		return fmt.Errorf("reshape %s: %w", dir, err)
	}
	if err := prependCommandLine(filepath.Join(dir, LogName), test.Command); err != nil {
		return fmt.Errorf("reshape %s: %w", dir, err)
	}
	for _, name := range workbenchFiles {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("reshape %s: %w", dir, err)
		}
	}
	return nil
}

// entrySeparators are the line breaks edn.Marshal puts between a map's
// entries; strings are escaped, so these are the only newlines.
var entrySeparators = regexp.MustCompile(`\n *`)

// writeHistoryEDN writes h as Maelstrom's history.edn: one map a line,
// :type and :f as keywords, the nemesis's :process as :nemesis.
func writeHistoryEDN(path string, h history.History) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, op := range h {
		m := map[string]any{
			"index": op.Index, "time": op.Time, "type": edn.Keyword(op.Type),
			"process": op.Process, "f": edn.Keyword(op.F), "value": op.Value,
		}
		if !op.IsClient() {
			m["process"] = edn.Keyword("nemesis")
		}
		if op.Error != nil {
			m["error"] = op.Error
		}
		if op.Final {
			m["final?"] = true
		}
		b, err := edn.Marshal(m)
		if err != nil {
			f.Close()
			return fmt.Errorf("history.edn: op %d: %w", op.Index, err)
		}
		w.WriteString(entrySeparators.ReplaceAllString(strings.TrimSuffix(string(b), "\n"), " "))
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("history.edn: %w", err)
	}
	return f.Close()
}

// stripResultsEDN removes the WorkbenchOnly paths from results.edn.
func stripResultsEDN(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	v, err := edn.Decode(b)
	if err != nil {
		return fmt.Errorf("results.edn: %w", err)
	}
	res, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("results.edn: not a map")
	}
	for _, p := range WorkbenchOnly {
		parent, ok := res[p[0]].(map[string]any)
		if ok {
			delete(parent, p[1])
		}
	}
	out, err := edn.Marshal(numericKeys(res))
	if err != nil {
		return fmt.Errorf("results.edn: %w", err)
	}
	return os.WriteFile(path, out, 0o644)
}

// numericKeys turns maps whose keys are all numbers ({0.5 190} decodes
// with key "0.5") back into number-keyed maps, so they are written as
// Maelstrom writes them and not as keywords.
func numericKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		nums := make(map[float64]any, len(x))
		for k, e := range x {
			f, err := strconv.ParseFloat(k, 64)
			if err != nil {
				nums = nil
				break
			}
			nums[f] = numericKeys(e)
		}
		if nums != nil && len(x) > 0 {
			return nums
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = numericKeys(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = numericKeys(e)
		}
		return out
	}
	return v
}

// prependCommandLine starts jepsen.log with the two lines Jepsen begins
// every test's log with, which is where a reader of Maelstrom's store finds
// the workload and options.
func prependCommandLine(path string, command []string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	head := "INFO\t[jepsen test runner] jepsen.core: Command line:\n" + strings.Join(command, " ") + "\n"
	return os.WriteFile(path, append([]byte(head), old...), 0o644)
}
