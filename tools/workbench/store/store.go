// Package store owns the run directory: its layout (store/<workload>/<start
// time>/ with results.edn, results.json, history.txt, history.json,
// net-journal.json, node-logs/, jepsen.log and test.json, plus the symlinks
// store/latest, store/current and store/<workload>/latest, as Jepsen lays
// it out), the streaming writers a run appends to as it goes, and the
// readers that load a stored run again, the workbench's own or Maelstrom's,
// for analyze, compare, serve and the report. The history and the journal
// are line-framed and append-only, so a run killed at any moment leaves
// files whose every complete line reads back; the readers say when a file
// ends in a partial line. No other package spells a run file's name.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/edn"
	"github.com/glomers/glomers/tools/workbench/history"
)

// TimeFormat is the run directory's name: ISO basic time with millis, UTC.
const TimeFormat = "20060102T150405.000Z0700"

// Run is one run's directory.
type Run struct {
	Dir string
}

// Create makes root/<workload>/<start>/ and points the latest/current
// symlinks at it.
func Create(root, workload string, start time.Time) (*Run, error) {
	name := start.UTC().Format(TimeFormat)
	if err := os.MkdirAll(filepath.Join(root, workload), 0o755); err != nil {
		return nil, fmt.Errorf("create store dir: %w", err)
	}
	// Two runs in the same millisecond (e.g. --test-count) get distinct
	// directories; Mkdir (not MkdirAll) makes the claim atomic.
	dir := filepath.Join(root, workload, name)
	for i := 1; ; i++ {
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("create store dir: %w", err)
		}
		name = fmt.Sprintf("%s-%d", start.UTC().Format(TimeFormat), i)
		dir = filepath.Join(root, workload, name)
	}
	if err := os.MkdirAll(filepath.Join(dir, NodeLogsName), 0o755); err != nil {
		return nil, fmt.Errorf("create store dir: %w", err)
	}
	rel := filepath.Join(workload, name)
	for link, target := range map[string]string{
		filepath.Join(root, "latest"):           rel,
		filepath.Join(root, "current"):          rel,
		filepath.Join(root, workload, "latest"): name,
	} {
		if err := symlink(target, link); err != nil {
			return nil, err
		}
	}
	return &Run{Dir: dir}, nil
}

// symlink atomically points link at target.
func symlink(target, link string) error {
	tmp := fmt.Sprintf("%s.tmp%d-%d", link, os.Getpid(), rand.Int64())
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("symlink %s: %w", link, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("symlink %s: %w", link, err)
	}
	return nil
}

// Path is a file inside the run directory.
func (r *Run) Path(name string) string { return filepath.Join(r.Dir, name) }

// NodeLog is the stderr log file of a node.
func (r *Run) NodeLog(node string) string {
	return filepath.Join(r.Dir, NodeLogsName, node+".log")
}

// WriteResults writes results.edn and results.json.
// ResultsJSON is res as results.json holds it: string keys, values JSON
// can carry, indented, with a final newline.
func ResultsJSON(res checker.Result) ([]byte, error) {
	j, err := json.MarshalIndent(jsonSafe(res), "", "  ")
	if err != nil {
		return nil, err
	}
	return append(j, '\n'), nil
}

func (r *Run) WriteResults(res checker.Result) error {
	e, err := edn.Marshal(map[string]any(res))
	if err != nil {
		return fmt.Errorf("%s: %w", ResultsEDNName, err)
	}
	if err := writeWhole(r.Path(ResultsEDNName), e); err != nil {
		return fmt.Errorf("%s: %w", ResultsEDNName, err)
	}
	j, err := ResultsJSON(res)
	if err != nil {
		return fmt.Errorf("%s: %w", ResultsName, err)
	}
	return writeWhole(r.Path(ResultsName), j)
}

// writeWhole writes a file that is read whole (results, test.json) so
// that it is there whole or not at all: a workbench killed mid-write
// leaves no half a file, only the temporary one beside it.
func writeWhole(path string, b []byte) error {
	tmp := fmt.Sprintf("%s.tmp%d-%d", path, os.Getpid(), rand.Int64())
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// jsonSafe converts maps with non-string keys (quantile maps) into maps
// with string keys so encoding/json accepts them; edn.Keyword stays a
// string.
func jsonSafe(v any) any {
	switch x := v.(type) {
	case checker.Result:
		return jsonSafe(map[string]any(x))
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[k] = jsonSafe(val)
		}
		return out
	case map[float64]any:
		return stringKeyed(x)
	case map[any]any:
		return stringKeyed(x)
	case map[int]any:
		return stringKeyed(x)
	case map[int64]any:
		return stringKeyed(x)
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = jsonSafe(val)
		}
		return out
	}
	return v
}

// stringKeyed is jsonSafe for a map whose keys are not strings: each key
// becomes its fmt.Sprint form.
func stringKeyed[K comparable](m map[K]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, val := range m {
		out[fmt.Sprint(k)] = jsonSafe(val)
	}
	return out
}

// WriteHistory writes history.txt (Jepsen's tab-separated lines) and
// history.json (one history.Op per line, for re-checking).
func (r *Run) WriteHistory(h history.History) error {
	w, err := CreateHistory(r.Dir)
	if err != nil {
		return err
	}
	for _, op := range h {
		w.Add(op)
	}
	return w.Close()
}

var ednNewlines = regexp.MustCompile(`\n *`)

// ednLine writes v as single-line EDN.
func ednLine(v any) string {
	b, err := edn.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%q", fmt.Sprint(v))
	}
	// Strings are escaped, so raw newlines only separate map entries.
	return ednNewlines.ReplaceAllString(strings.TrimSuffix(string(b), "\n"), " ")
}

// HistoryLine is one history.txt line, e.g.
// "0\t:invoke\t:echo\t\"Please echo 35\"\t; n0" (nemesis ops use
// :nemesis). Jepsen's columns come first, unchanged; the node the process
// talks to closes the line as a comment, so that a failure naming a node
// can be followed in the history.
func HistoryLine(op history.Op) string {
	proc := fmt.Sprint(op.Process)
	if !op.IsClient() {
		proc = ":nemesis"
	}
	s := proc + "\t:" + string(op.Type) + "\t:" + op.F + "\t" + ednLine(op.Value)
	if op.Error != nil {
		s += "\t" + ednLine(op.Error)
	}
	if op.Node != "" {
		s += "\t; " + op.Node
	}
	return s
}

// WriteJSON writes any value as an indented JSON file in the run dir.
func (r *Run) WriteJSON(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return writeWhole(r.Path(name), append(b, '\n'))
}

// Resolve finds a run directory: a path to one, or an index among all runs
// under root sorted by time (-1 is the latest, 0 the oldest).
func Resolve(root, ref string) (string, error) {
	if st, err := os.Stat(ref); err == nil && st.IsDir() {
		return ref, nil
	}
	var idx int
	if _, err := fmt.Sscanf(ref, "%d", &idx); err != nil {
		return "", fmt.Errorf("no stored run %q (give a run directory or an index like -1)", ref)
	}
	runs, err := filepath.Glob(filepath.Join(root, "*", "2*"))
	if err != nil {
		return "", err
	}
	var dirs []string
	for _, d := range runs {
		if st, err := os.Lstat(d); err == nil && st.IsDir() {
			dirs = append(dirs, d)
		}
	}
	// Names are times, so sorting by base name sorts by start time.
	sortByBase(dirs)
	if idx < 0 {
		idx += len(dirs)
	}
	if idx < 0 || idx >= len(dirs) {
		return "", fmt.Errorf("no stored run at index %s (%d runs in %s)", ref, len(dirs), root)
	}
	return dirs[idx], nil
}

func sortByBase(dirs []string) {
	for i := 1; i < len(dirs); i++ {
		for j := i; j > 0 && filepath.Base(dirs[j]) < filepath.Base(dirs[j-1]); j-- {
			dirs[j], dirs[j-1] = dirs[j-1], dirs[j]
		}
	}
}

// readHistory decodes history.json: one op per line. One decoder streams
// the whole file (a decoder per line allocates ten times the history in
// garbage), and the strings every op repeats (type, f, node) are shared,
// which halves the memory a long history holds while it is checked.
func readHistory(r io.Reader, sizeHint int) (history.History, Tail, error) {
	h := make(history.History, 0, sizeHint)
	strs := map[string]string{}
	intern := func(s string) string {
		if v, ok := strs[s]; ok {
			return v
		}
		if len(strs) < 1<<12 {
			strs[s] = s
		}
		return s
	}
	tail, err := readRecords(r, HistoryName, func(op *history.Op) error {
		op.Type = history.Type(intern(string(op.Type)))
		op.F = intern(op.F)
		op.Node = intern(op.Node)
		h = append(h, *op)
		return nil
	})
	if err != nil {
		return nil, tail, err
	}
	return h, tail, nil
}

// CreateAnalysis makes a new directory for one re-check of the run in
// dir, dir/analysis/<now>/, never one that exists: analyze writes only
// there, so re-checking leaves every file the run or another tool wrote
// as it was.
func CreateAnalysis(dir string, now time.Time) (*Run, error) {
	parent := filepath.Join(dir, AnalysisName)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("create analysis dir: %w", err)
	}
	name := now.UTC().Format(TimeFormat)
	for i := 1; ; i++ {
		out := filepath.Join(parent, name)
		err := os.Mkdir(out, 0o755)
		if err == nil {
			return &Run{Dir: out}, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("create analysis dir: %w", err)
		}
		name = fmt.Sprintf("%s-%d", now.UTC().Format(TimeFormat), i)
	}
}
