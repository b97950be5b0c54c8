package store

import (
	"fmt"

	"github.com/glomers/glomers/tools/workbench/edn"
	"github.com/glomers/glomers/tools/workbench/history"
)

// Maelstrom's own stores (store/<workload>/<time>/ with results.edn,
// history.edn and jepsen.log) are read as the workbench's runs are, so its
// checkers, reports and comparisons apply to them; they are never written.

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
