package report

import (
	"fmt"
	"html"
	"sort"
	"strings"

	"github.com/glomers/glomers/tools/workbench/edn"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/store"
)

// TimelineFile is Jepsen's timeline of a run: one column per process, each
// operation a box from its invocation to its completion, coloured by how it
// completed; hovering over a box shows the operation.
const TimelineFile = store.TimelineName

const (
	// maxTimelineOps caps the boxes (as Jepsen's timeline does): past
	// that the page gets too big to load.
	maxTimelineOps = 10000
	timelineRow    = 16 // px per history entry
	timelineCol    = 110
	timelineTop    = 30
)

// timelineBox is one operation of the timeline.
type timelineBox struct {
	col        int
	start, end int // history positions of invocation and completion
	typ        string
	title      string
	label      string
}

// timeline renders timeline.html. Rows are history positions, not wall
// time, as in Jepsen's: a box spans the entries between its invocation and
// its completion, so concurrency shows as overlap between columns.
func timeline(h history.History) []byte {
	boxes, procs, truncated := timelineBoxes(h)
	order := timelineColumns(procs)
	colOf := map[int]int{}
	for i, p := range order {
		colOf[p] = i
	}

	var b strings.Builder
	b.WriteString(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Timeline</title>
<style>
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; font-size: 12px; margin: 12px; color: #222; }
.ops { position: relative; }
.head { position: sticky; top: 0; z-index: 2; background: #fff; height: 22px; }
.head div { position: absolute; width: 104px; text-align: center; font-weight: 600; }
.op { position: absolute; width: 100px; box-sizing: border-box; border: 1px solid rgba(0,0,0,.25); border-radius: 2px; overflow: hidden; white-space: nowrap; padding: 0 3px; line-height: 14px; }
.op:hover { outline: 2px solid #222; z-index: 1; }
.ok { background: #6DB6FE; }
.info { background: #FFAA26; }
.fail { background: #FEB5DA; }
.open { background: #ddd; }
.legend span { display: inline-block; padding: 0 6px; margin-right: 6px; border-radius: 2px; }
</style></head><body>
<p class="legend">One column per process, time flowing down (one row per history entry); each box runs from an operation's invocation to its completion. Hover for the operation.
<span class="ok">ok</span><span class="info">info (indeterminate)</span><span class="fail">fail</span><span class="open">never completed</span></p>
`)
	if truncated {
		fmt.Fprintf(&b, "<p>Only the first %d operations are shown.</p>\n", maxTimelineOps)
	}
	height := timelineTop
	if len(boxes) > 0 {
		last := 0
		for _, x := range boxes {
			last = max(last, x.end)
		}
		height += (last + 2) * timelineRow
	}
	fmt.Fprintf(&b, `<div class="ops" style="height:%dpx;width:%dpx">`+"\n", height, len(order)*timelineCol+10)
	b.WriteString(`<div class="head">`)
	for i, p := range order {
		name := fmt.Sprint(p)
		if p == history.NemesisProcess {
			name = "nemesis"
		}
		fmt.Fprintf(&b, `<div style="left:%dpx">%s</div>`, i*timelineCol, html.EscapeString(name))
	}
	b.WriteString("</div>\n")
	for _, x := range boxes {
		top := timelineTop + x.start*timelineRow
		h := max(timelineRow-2, (x.end-x.start)*timelineRow-2)
		fmt.Fprintf(&b, `<div class="op %s" style="left:%dpx;top:%dpx;height:%dpx" title="%s">%s</div>`+"\n",
			x.typ, colOf[x.col]*timelineCol, top, h, html.EscapeString(x.title), html.EscapeString(x.label))
	}
	b.WriteString("</div>\n</body></html>\n")
	return []byte(b.String())
}

// timelineBoxes pairs each completion with its process's open invocation,
// up to maxTimelineOps boxes (truncated says whether some were left out);
// invocations never completed become open boxes to the end of the history.
// procs is every process that appears.
func timelineBoxes(h history.History) (boxes []timelineBox, procs map[int]bool, truncated bool) {
	procs = map[int]bool{}
	open := map[int]int{} // process → position of its open invocation
	for i, op := range h {
		if len(boxes) >= maxTimelineOps {
			truncated = true
			break
		}
		procs[op.Process] = true
		if op.Type == history.Invoke {
			open[op.Process] = i
			continue
		}
		start, ok := open[op.Process]
		if !ok {
			start = i // a completion without its invocation (nemesis :info)
		}
		delete(open, op.Process)
		inv := h[start]
		boxes = append(boxes, timelineBox{start: start, end: i, typ: string(op.Type), title: opTitle(inv, op), label: boxLabel(inv, op), col: op.Process})
	}
	for p, start := range open {
		if len(boxes) < maxTimelineOps {
			boxes = append(boxes, timelineBox{start: start, end: len(h), typ: "open", title: opTitle(h[start], history.Op{}), label: boxLabel(h[start], h[start]), col: p})
		}
	}
	return boxes, procs, truncated
}

// timelineColumns orders the processes into columns.
func timelineColumns(procs map[int]bool) []int {
	var order []int
	for p := range procs {
		order = append(order, p)
	}
	// Clients in order, the nemesis last.
	sort.Slice(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if (a == history.NemesisProcess) != (b == history.NemesisProcess) {
			return b == history.NemesisProcess
		}
		return a < b
	})
	return order
}

// opTitle is the hover text: the invocation and the completion as
// Jepsen prints ops.
func opTitle(inv, done history.Op) string {
	t := renderOp(inv)
	if done.Type != "" {
		t += "\n" + renderOp(done)
	}
	return t
}

func renderOp(op history.Op) string {
	b, err := edn.Marshal(op.Render())
	if err != nil {
		return fmt.Sprintf("%d %s %s", op.Process, op.Type, op.F)
	}
	return strings.Join(strings.Fields(string(b)), " ")
}

// boxLabel is the text inside a box: the op's f and its value (the
// completion's when it has one), cut short.
func boxLabel(inv, done history.Op) string {
	v := done.Value
	if v == nil {
		v = inv.Value
	}
	text := inv.F
	if v != nil {
		if b, err := edn.Marshal(v); err == nil {
			text += " " + strings.Join(strings.Fields(string(b)), " ")
		}
	}
	if r := []rune(text); len(r) > 40 {
		text = string(r[:39]) + "…"
	}
	return text
}
