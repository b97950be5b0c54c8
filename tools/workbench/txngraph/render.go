package txngraph

import (
	"fmt"
	"strings"

	"github.com/glomers/glomers/tools/workbench/edn"
)

// Rendering turns txns and cycles into the JSON/EDN-friendly maps results
// carry, shaped like Elle's op maps and cycle explanations.

func renderMop(m Mop) []any {
	var v any = m.Value
	switch {
	case m.Raw != nil:
		v = m.Raw
	case m.List != nil:
		v = m.List
	case m.Nil:
		v = nil
	}
	return []any{edn.Keyword(m.F), m.Key, v}
}

func renderVersion(v version) any {
	if v.initial {
		return nil
	}
	return v.value
}

func (a *analysis) renderTxn(i int) map[string]any {
	t := a.txns[i]
	mops := make([]any, len(t.Mops))
	for j, m := range t.Mops {
		mops[j] = renderMop(m)
	}
	// The completion, with the txn's own verdict (an unfinished txn's
	// completion is its invocation) and its parsed micro-ops.
	m := t.Complete.Render()
	m["process"] = t.Process
	m["type"] = edn.Keyword(string(t.Type))
	m["f"] = edn.Keyword("txn")
	m["value"] = mops
	return m
}

func mopsString(t Txn) string {
	parts := make([]string, len(t.Mops))
	for i, m := range t.Mops {
		parts[i] = m.String()
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func versionString(v version) string {
	if v.initial {
		return "nil"
	}
	return fmt.Sprint(v.value)
}

// renderCycle explains a cycle the way Elle does: name each txn, then give
// the reason for every edge, ending in a contradiction.
func (a *analysis) renderCycle(typ string, steps []step) map[string]any {
	var cycle, stepMaps []any
	var b strings.Builder
	names := map[int32]string{}
	b.WriteString("Let:")
	for _, st := range steps {
		if _, ok := names[st.from]; !ok {
			names[st.from] = fmt.Sprintf("T%d", len(names)+1)
			t := a.txns[a.vtx[st.from]]
			fmt.Fprintf(&b, "\n  %s = {index %d, process %d, %s}", names[st.from], t.Complete.Index, t.Process, mopsString(t))
		}
		cycle = append(cycle, a.renderTxn(a.vtx[st.from]))
	}
	cycle = append(cycle, a.renderTxn(a.vtx[steps[0].from]))
	b.WriteString("\nThen:")
	for i, st := range steps {
		w := a.g.whys[edgeKey{st.from, st.to, st.rel}]
		m := map[string]any{"type": edn.Keyword(relName(st.rel))}
		x, y := names[st.from], names[st.to]
		var reason string
		switch st.rel {
		case relWW:
			m["key"], m["value"], m["value'"] = w.key, renderVersion(w.from), renderVersion(w.to)
			if a.lists {
				reason = fmt.Sprintf("%s appended %s to key %d, and %s appended %s right after it", x, versionString(w.from), w.key, y, versionString(w.to))
			} else {
				reason = fmt.Sprintf("%s set key %d to %s, and %s set it to %s, which came later in the version order", x, w.key, versionString(w.from), y, versionString(w.to))
			}
		case relWR:
			m["key"], m["value"] = w.key, renderVersion(w.from)
			if a.lists {
				reason = fmt.Sprintf("%s appended %s to key %d, and %s read a list ending in it", x, versionString(w.from), w.key, y)
			} else {
				reason = fmt.Sprintf("%s wrote %d = %s, which was read by %s", x, w.key, versionString(w.from), y)
			}
		case relRW:
			m["key"], m["value"], m["value'"] = w.key, renderVersion(w.from), renderVersion(w.to)
			if a.lists {
				reason = fmt.Sprintf("%s read key %d ending in %s, and %s appended %s, the next element", x, w.key, versionString(w.from), y, versionString(w.to))
			} else {
				reason = fmt.Sprintf("%s read key %d = %s, and %s set it to %s, which came later in the version order", x, w.key, versionString(w.from), y, versionString(w.to))
			}
		case relProcess:
			reason = fmt.Sprintf("process %d executed %s before %s", a.txns[a.vtx[st.from]].Process, x, y)
		case relRealtime:
			reason = fmt.Sprintf("%s completed before %s began", x, y)
		}
		stepMaps = append(stepMaps, m)
		lead := "  - "
		if i == len(steps)-1 {
			lead = "  - However, "
		}
		fmt.Fprintf(&b, "\n%s%s < %s, because %s", lead, x, y, reason)
		if i == len(steps)-1 {
			b.WriteString(": a contradiction!")
		} else {
			b.WriteString(".")
		}
	}
	return map[string]any{"type": edn.Keyword(typ), "cycle": cycle, "steps": stepMaps, "explanation": b.String()}
}
