package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Event is one entry of the network journal, as the report needs it: a
// message being sent, delivered, or dropped (by a partition). The runner
// fills these from the network's journal.
type Event struct {
	Kind string // "send", "recv" or "drop"
	Time int64  // nanoseconds since the test started
	ID   int64  // the network's message id, shared by the events of one message
	Src  string
	Dest string
	Type string // the body's "type"
	Body string // the body as JSON, for the tooltip; may be empty or shortened
	// Raw is the body as the network journaled it; Type and Body are read
	// from it, only for the messages drawn, when they are empty.
	Raw []byte
}

// typeName is the body's type, read from Raw if need be.
func (e *Event) typeName() string {
	if e.Type == "" && e.Raw != nil {
		return bodyType(e.Raw)
	}
	return e.Type
}

// bodyText is the body for the tooltip, shortened.
func (e *Event) bodyText() string {
	if e.Body == "" && e.Raw != nil {
		if len(e.Raw) > maxTooltipBody {
			return string(e.Raw[:maxTooltipBody]) + "…"
		}
		return string(e.Raw)
	}
	return e.Body
}

// Event kinds.
const (
	Send = "send"
	Recv = "recv"
	Drop = "drop"
)

// maxDiagramMessages caps the Lamport diagram: past a few hundred messages
// it stops being readable and starts being slow to render. The window of
// messages drawn starts before the first error when there is one.
const maxDiagramMessages = 300

const (
	wideLane     = 96.0
	narrowLane   = 66.0
	rowHeight    = 17.0
	gutterWidth  = 86.0
	diagramTop   = 64.0
	headerRepeat = 60 // rows between repeated lane headers
)

// diagramMessage is one message of the diagram with its events.
type diagramMessage struct {
	id               int64
	src, dest, typ   string
	body             string
	send, recv, drop *Event
	sendRow, endRow  int
	// highlight marks a message the run's failure points at (highlight.go).
	highlight bool
}

// diagramRow is one row of the diagram: a message's send or its end
// (delivery or drop).
type diagramRow struct {
	t   int64
	seq int // journal order breaks ties
	m   *diagramMessage
	end bool
}

// Window chooses which messages the diagram shows: the first
// maxDiagramMessages sent at or after From (nanoseconds since the start);
// Why, if set, says why the window starts there (e.g. the first error).
type Window struct {
	From int64
	Why  string
}

// messages draws a window of the run's messages as a Lamport diagram: one
// vertical line per node, client and service, time flowing down, an arrow
// per message from where it was sent to where it was delivered. Messages
// that were never delivered end in a cross. Rows are events, not
// wall-clock time, so bursts stay readable; the gutter shows the time.
func messages(journal []Event, w Window) []byte {
	msgs, total, before := selectMessages(journal, w.From)
	return drawMessages(msgs, total, before, w)
}

// drawMessages draws the selected messages; total and before count all
// the run's sends and those before the window, for the caption.
func drawMessages(msgs []*diagramMessage, total, before int, w Window) []byte {
	rows, nRows := layoutRows(msgs)
	focusRow := -1
	for _, m := range msgs {
		if m.highlight && (focusRow < 0 || m.sendRow < focusRow) {
			focusRow = m.sendRow
		}
	}
	d := newDiagram(laneOrder(msgs), nRows, focusRow)
	d.caption(captionFor(len(msgs), total, before, w))
	if len(msgs) == 0 {
		fmt.Fprintf(&d.b, `<text x="12" y="48" fill="#888">no messages were journaled</text>`+"\n")
	}
	d.drawLanes()
	d.drawGutter(rows)
	for _, m := range msgs {
		drawMessage(&d.b, m, d.laneX, d.rowY)
	}
	d.b.WriteString("</svg>\n")
	return []byte(d.b.String())
}

func captionFor(shown, total, before int, w Window) string {
	c := fmt.Sprintf("Messages: all %d", total)
	switch {
	case before > 0:
		c = fmt.Sprintf("Messages: %d of %d, from %s", shown, total, fmtSeconds(w.From))
	case total > shown:
		c = fmt.Sprintf("Messages: the first %d of %d", shown, total)
	}
	if w.Why != "" {
		c += " (" + w.Why + ")"
	}
	return c
}

// selectMessages gathers the first maxDiagramMessages messages sent at or
// after from, and every event that belongs to them; total counts all
// sends, before those sent earlier than from.
func selectMessages(journal []Event, from int64) (msgs []*diagramMessage, total, before int) {
	sel := newSelector(from)
	for i := range journal {
		sel.add(&journal[i])
	}
	return sel.msgs, sel.total, sel.before
}

// selector picks a window's messages from events given in journal order.
type selector struct {
	from          int64
	byID          map[int64]*diagramMessage
	msgs          []*diagramMessage
	total, before int
}

func newSelector(from int64) *selector {
	return &selector{from: from, byID: map[int64]*diagramMessage{}}
}

// add takes one event; it reports whether the event was kept (so a
// caller streaming events knows whether it may reuse e).
func (s *selector) add(e *Event) bool {
	if e.Kind == Send {
		s.total++
		switch {
		case e.Time < s.from:
			s.before++
		case len(s.msgs) < maxDiagramMessages:
			if _, dup := s.byID[e.ID]; !dup {
				m := &diagramMessage{id: e.ID, src: e.Src, dest: e.Dest, typ: e.typeName(), body: e.bodyText(), send: e}
				s.byID[e.ID] = m
				s.msgs = append(s.msgs, m)
				return true
			}
		}
		return false
	}
	m := s.byID[e.ID]
	if m == nil {
		return false
	}
	switch {
	case e.Kind == Recv && m.recv == nil:
		m.recv = e
	case e.Kind == Drop && m.drop == nil:
		m.drop = e
	default:
		return false
	}
	return true
}

// layoutRows orders every event of msgs by time into rows and records
// each message's send and end row; it returns the rows and the number of
// rows the diagram needs (messages still in flight at the end get a short
// arrow below their send).
func layoutRows(msgs []*diagramMessage) ([]diagramRow, int) {
	var rows []diagramRow
	seq := 0
	for _, m := range msgs {
		rows = append(rows, diagramRow{t: m.send.Time, seq: seq, m: m})
		seq++
		switch {
		case m.recv != nil:
			rows = append(rows, diagramRow{t: m.recv.Time, seq: seq, m: m, end: true})
		case m.drop != nil:
			rows = append(rows, diagramRow{t: m.drop.Time, seq: seq, m: m, end: true})
		}
		seq++
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].t != rows[j].t {
			return rows[i].t < rows[j].t
		}
		return rows[i].seq < rows[j].seq
	})
	for i, r := range rows {
		if r.end {
			r.m.endRow = i
		} else {
			r.m.sendRow = i
		}
	}
	nRows := len(rows)
	for _, m := range msgs {
		if m.recv == nil && m.drop == nil {
			m.endRow = m.sendRow + 2
			nRows = max(nRows, m.endRow+1)
		}
	}
	return rows, nRows
}

// diagram is the SVG being drawn and its geometry.
type diagram struct {
	b             strings.Builder
	lanes         []string
	laneX         map[string]float64
	width, height float64
	nRows         int
}

// newDiagram starts the SVG; focusRow, when not negative, is the row the
// viewer should open at (data-focus-y on the root element).
func newDiagram(lanes []string, nRows, focusRow int) *diagram {
	// Big clusters (25 nodes and their clients) get narrower lanes so the
	// diagram stays scrollable.
	laneWidth := wideLane
	if len(lanes) > 24 {
		laneWidth = narrowLane
	}
	d := &diagram{lanes: lanes, laneX: map[string]float64{}, nRows: nRows}
	for i, l := range lanes {
		d.laneX[l] = gutterWidth + laneWidth*(float64(i)+0.5)
	}
	d.width = gutterWidth + laneWidth*float64(max(len(lanes), 1)) + 20
	d.height = diagramTop + rowHeight*float64(nRows+1) + 30
	b := &d.b
	focus := ""
	if focusRow >= 0 {
		focus = fmt.Sprintf(` data-focus-y="%.0f"`, d.rowY(focusRow))
	}
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g"%s font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="11">`+"\n", d.width, d.height, d.width, d.height, focus)
	b.WriteString("<title>Messages</title>\n")
	b.WriteString(`<defs>`)
	// One arrowhead per colour: context-stroke is too new to rely on.
	for _, c := range messageColours {
		fmt.Fprintf(b, `<marker id="%s" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10Z" fill="%s"/></marker>`, arrowID(c), c)
	}
	b.WriteString(
		`<style>.lbl{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}.msg:hover line,.msg:hover path{stroke-width:2.6}.hl .lbl{font-weight:700}.halo{stroke:#ffd400;stroke-width:7;stroke-opacity:.55;fill:none}</style>` +
			"</defs>\n")
	fmt.Fprintf(b, `<rect width="%g" height="%g" fill="#ffffff"/>`+"\n", d.width, d.height)
	return d
}

func (d *diagram) rowY(r int) float64 { return diagramTop + rowHeight*(float64(r)+0.5) }

func (d *diagram) caption(text string) {
	fmt.Fprintf(&d.b, `<text x="12" y="22" font-size="14" font-weight="600" fill="#222">%s</text>`+"\n", esc(text))
}

// drawLanes draws the lanes and their headers, repeated down long
// diagrams.
func (d *diagram) drawLanes() {
	b := &d.b
	b.WriteString(`<g class="lanes">` + "\n")
	for _, l := range d.lanes {
		x := d.laneX[l]
		fmt.Fprintf(b, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.2"/>`+"\n",
			x, diagramTop-8, x, d.height-20, laneColour(l))
	}
	for r := 0; r <= d.nRows; r += headerRepeat {
		y := diagramTop - 14 + rowHeight*float64(r)
		for _, l := range d.lanes {
			fmt.Fprintf(b, `<text class="lbl" x="%.1f" y="%.1f" text-anchor="middle" font-weight="600" fill="%s">%s</text>`, d.laneX[l], y, laneColour(l), esc(l))
		}
		b.WriteByte('\n')
	}
	b.WriteString("</g>\n")
}

// drawGutter labels the time whenever enough rows have passed.
func (d *diagram) drawGutter(rows []diagramRow) {
	b := &d.b
	b.WriteString(`<g class="time" fill="#777" font-size="10">` + "\n")
	last := -100
	for i, r := range rows {
		if i-last >= 6 {
			fmt.Fprintf(b, `<text x="%g" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`, gutterWidth-10, d.rowY(i), fmtSeconds(r.t))
			fmt.Fprintf(b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#bbb"/>`, gutterWidth-6, d.rowY(i), gutterWidth-1, d.rowY(i))
			last = i
		}
	}
	b.WriteString("</g>\n")
}

func drawMessage(b *strings.Builder, m *diagramMessage, laneX map[string]float64, rowY func(int) float64) {
	x1, y1 := laneX[m.src], rowY(m.sendRow)
	x2, y2 := laneX[m.dest], rowY(m.endRow)
	delivered := m.recv != nil
	colour := messageColour(m)

	var tip strings.Builder
	fmt.Fprintf(&tip, "%s → %s  %s  (message %d)\nsent %s", m.src, m.dest, m.typ, m.id, fmtSeconds(m.send.Time))
	switch {
	case m.recv != nil:
		fmt.Fprintf(&tip, ", delivered %s (%.1f ms)", fmtSeconds(m.recv.Time), float64(m.recv.Time-m.send.Time)/1e6)
	case m.drop != nil:
		fmt.Fprintf(&tip, ", dropped %s (partition)", fmtSeconds(m.drop.Time))
	default:
		tip.WriteString(", never delivered")
	}
	if m.body != "" {
		tip.WriteString("\n" + m.body)
	}

	class := "msg"
	if !delivered {
		class = "msg dropped"
	}
	if m.highlight {
		class += " hl"
	}
	fmt.Fprintf(b, `<g class="%s" data-id="%d"><title>%s</title>`, class, m.id, esc(tip.String()))
	dash := ""
	if !delivered {
		dash = ` stroke-dasharray="4 3"`
	}
	if m.highlight {
		if m.src == m.dest {
			fmt.Fprintf(b, `<path class="halo" d="M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f"/>`, x1, y1, x1+40, y1, x2+40, y2, x2, y2)
		} else {
			fmt.Fprintf(b, `<line class="halo" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, x1, y1, x2, y2)
		}
	}
	if m.src == m.dest {
		// A message to oneself: a loop out to the right of the lane.
		fmt.Fprintf(b, `<path d="M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f" fill="none" stroke="%s" stroke-width="1.3"%s`,
			x1, y1, x1+40, y1, x2+40, y2, x2, y2, colour, dash)
	} else {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.3"%s`, x1, y1, x2, y2, colour, dash)
	}
	if delivered {
		fmt.Fprintf(b, ` marker-end="url(#%s)"/>`, arrowID(colour))
	} else {
		b.WriteString(`/>`)
		fmt.Fprintf(b, `<path class="cross" d="M%.1f,%.1fl9,9m0,-9l-9,9" stroke="#e0245e" stroke-width="2"/>`, x2-4.5, y2-4.5)
	}
	// The label sits on the arrow, a third of the way along, so that
	// labels of a request and its reply rarely collide.
	lx, ly := x1+(x2-x1)*0.4, y1+(y2-y1)*0.4-3
	if m.src == m.dest {
		lx, ly = x1+34, (y1+y2)/2
	}
	fmt.Fprintf(b, `<text class="lbl" x="%.1f" y="%.1f" text-anchor="middle" fill="%s">%s</text></g>`+"\n", lx, ly, colour, esc(labelText(m)))
}

func fmtSeconds(ns int64) string {
	s := float64(ns) / 1e9
	if math.Abs(s) < 10 {
		return strconv.FormatFloat(s, 'f', 4, 64) + " s"
	}
	return strconv.FormatFloat(s, 'f', 3, 64) + " s"
}
