package history

import "github.com/glomers/glomers/tools/workbench/edn"

// Render returns the op as Jepsen quotes an op inside a checker's result (an
// :errors entry, a lost element, a cycle's transactions): :type and :f as
// keywords, :final? and :error only when the op has them. Every checker quotes
// ops through it so that results read alike whichever workload wrote them; a
// checker that knows better (a dense index, keyword micro-op names) overwrites
// the entry in the map it gets.
func (o Op) Render() map[string]any {
	m := map[string]any{
		"index":   o.Index,
		"type":    edn.Keyword(o.Type),
		"process": o.Process,
		"f":       edn.Keyword(o.F),
		"value":   o.Value,
		"time":    o.Time,
	}
	if o.Final {
		m["final?"] = true
	}
	if o.Error != nil {
		m["error"] = o.Error
	}
	return m
}
