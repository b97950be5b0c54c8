// Package maelstromstore reads runs stored by Maelstrom itself
// (store/<workload>/<time>/ with results.edn and history.edn), turning
// them into the workbench's own types, so that its checkers, reports and
// comparisons apply to them as to its own runs.
package maelstromstore

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/glomers/glomers/tools/workbench/edn"
	"github.com/glomers/glomers/tools/workbench/history"
)

// LoadResults reads dir/results.edn as a JSON-shaped map (see edn.DecodeAll).
func LoadResults(dir string) (map[string]any, error) {
	b, err := readMaybeGzipped(filepath.Join(dir, "results.edn"))
	if err != nil {
		return nil, err
	}
	v, err := edn.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s/results.edn: %w", dir, err)
	}
	m, ok := Plain(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s/results.edn: not a map", dir)
	}
	return m, nil
}

// LoadHistory reads dir/history.edn (or history.edn.gz): one op map per
// line, :time in nanoseconds since the test started.
func LoadHistory(dir string) (history.History, error) {
	b, err := readMaybeGzipped(filepath.Join(dir, "history.edn"))
	if err != nil {
		return nil, err
	}
	vs, err := edn.DecodeAll(b)
	if err != nil {
		return nil, fmt.Errorf("%s/history.edn: %w", dir, err)
	}
	h := make(history.History, 0, len(vs))
	for i, v := range vs {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s/history.edn: entry %d is not a map", dir, i)
		}
		op, err := Op(m)
		if err != nil {
			return nil, fmt.Errorf("%s/history.edn: entry %d: %w", dir, i, err)
		}
		h = append(h, op)
	}
	return h, nil
}

// Op converts one decoded history.edn entry. Keywords become strings
// (:broadcast → "broadcast"); the nemesis process becomes
// history.NemesisProcess.
func Op(m map[string]any) (history.Op, error) {
	var op history.Op
	if i, ok := m["index"].(int64); ok {
		op.Index = int(i)
	}
	t, ok := m["time"].(int64)
	if !ok {
		return op, fmt.Errorf("no integer :time in %v", m)
	}
	op.Time = t
	typ, _ := m["type"].(edn.Keyword)
	switch history.Type(typ) {
	case history.Invoke, history.OK, history.Fail, history.Info:
		op.Type = history.Type(typ)
	default:
		return op, fmt.Errorf("unknown :type %v", m["type"])
	}
	switch p := m["process"].(type) {
	case int64:
		op.Process = int(p)
	case edn.Keyword:
		if p != "nemesis" {
			return op, fmt.Errorf("unknown :process %v", p)
		}
		op.Process = history.NemesisProcess
	default:
		return op, fmt.Errorf("no :process in %v", m)
	}
	f, _ := m["f"].(edn.Keyword)
	op.F = string(f)
	op.Value = Plain(m["value"])
	if e, ok := m["error"]; ok {
		op.Error = Plain(e)
	}
	if fin, ok := m["final?"].(bool); ok {
		op.Final = fin
	}
	return op, nil
}

// Plain turns keywords into strings, recursively, so values read from EDN
// look as they do in history.json and results.json.
func Plain(v any) any {
	switch x := v.(type) {
	case edn.Keyword:
		return string(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Plain(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Plain(e)
		}
		return out
	}
	return v
}

// readMaybeGzipped reads path, or path.gz when only that exists.
func readMaybeGzipped(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return b, err
	}
	gz, gzErr := os.ReadFile(path + ".gz")
	if gzErr != nil {
		return nil, err // report the plain name
	}
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("%s.gz: %w", path, err)
	}
	b, err = io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s.gz: %w", path, err)
	}
	return b, nil
}
