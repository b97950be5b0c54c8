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
}

// Event kinds.
const (
	Send = "send"
	Recv = "recv"
	Drop = "drop"
)

// maxDiagramMessages caps the Lamport diagram: past a few hundred messages
// it stops being readable and starts being slow to render.
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
}

// messages draws the first messages of the run as a Lamport diagram: one
// vertical line per node, client and service, time flowing down, an arrow
// per message from where it was sent to where it was delivered. Messages
// that were never delivered end in a cross. Rows are events, not
// wall-clock time, so bursts stay readable; the gutter shows the time.
// sent is the number of messages of the whole run, when journal holds
// only the first ones (0: count them in journal).
func messages(journal []Event, sent int) []byte {
	msgs, total := selectMessages(journal)
	total = max(total, sent)

	// Rows: every event of the selected messages, in time order.
	type row struct {
		t   int64
		seq int // journal order breaks ties
		m   *diagramMessage
		end bool
	}
	var rows []row
	seq := 0
	for _, m := range msgs {
		rows = append(rows, row{t: m.send.Time, seq: seq, m: m})
		seq++
		switch {
		case m.recv != nil:
			rows = append(rows, row{t: m.recv.Time, seq: seq, m: m, end: true})
		case m.drop != nil:
			rows = append(rows, row{t: m.drop.Time, seq: seq, m: m, end: true})
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
			// Never delivered and no drop recorded (in flight at the end):
			// a short arrow that stops in a cross.
			m.endRow = m.sendRow + 2
			nRows = max(nRows, m.endRow+1)
		}
	}

	lanes := laneOrder(msgs)
	// Big clusters (25 nodes and their clients) get narrower lanes so the
	// diagram stays scrollable.
	laneWidth := wideLane
	if len(lanes) > 24 {
		laneWidth = narrowLane
	}
	laneX := map[string]float64{}
	for i, l := range lanes {
		laneX[l] = gutterWidth + laneWidth*(float64(i)+0.5)
	}
	width := gutterWidth + laneWidth*float64(max(len(lanes), 1)) + 20
	height := diagramTop + rowHeight*float64(nRows+1) + 30
	rowY := func(r int) float64 { return diagramTop + rowHeight*(float64(r)+0.5) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="11">`+"\n", width, height, width, height)
	b.WriteString("<title>Messages</title>\n")
	b.WriteString(`<defs>`)
	// One arrowhead per colour: context-stroke is too new to rely on.
	for _, c := range messageColours {
		fmt.Fprintf(&b, `<marker id="%s" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10Z" fill="%s"/></marker>`, arrowID(c), c)
	}
	b.WriteString(
		`<style>.lbl{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}.msg:hover line,.msg:hover path{stroke-width:2.6}</style>` +
			"</defs>\n")
	fmt.Fprintf(&b, `<rect width="%g" height="%g" fill="#ffffff"/>`+"\n", width, height)
	caption := fmt.Sprintf("Messages: all %d", total)
	if total > len(msgs) {
		caption = fmt.Sprintf("Messages: the first %d of %d", len(msgs), total)
	}
	fmt.Fprintf(&b, `<text x="12" y="22" font-size="14" font-weight="600" fill="#222">%s</text>`+"\n", esc(caption))
	if len(msgs) == 0 {
		fmt.Fprintf(&b, `<text x="12" y="48" fill="#888">no messages were journaled</text>`+"\n")
	}

	// Lanes and their headers (repeated down long diagrams).
	b.WriteString(`<g class="lanes">` + "\n")
	for _, l := range lanes {
		x := laneX[l]
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.2"/>`+"\n",
			x, diagramTop-8, x, height-20, laneColour(l))
	}
	for r := 0; r <= nRows; r += headerRepeat {
		y := diagramTop - 14 + rowHeight*float64(r)
		for _, l := range lanes {
			fmt.Fprintf(&b, `<text class="lbl" x="%.1f" y="%.1f" text-anchor="middle" font-weight="600" fill="%s">%s</text>`, laneX[l], y, laneColour(l), esc(l))
		}
		b.WriteByte('\n')
	}
	b.WriteString("</g>\n")

	// Time gutter: a label whenever enough rows have passed.
	b.WriteString(`<g class="time" fill="#777" font-size="10">` + "\n")
	last := -100
	for i, r := range rows {
		if i-last >= 6 {
			fmt.Fprintf(&b, `<text x="%g" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`, gutterWidth-10, rowY(i), fmtSeconds(r.t))
			fmt.Fprintf(&b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#bbb"/>`, gutterWidth-6, rowY(i), gutterWidth-1, rowY(i))
			last = i
		}
	}
	b.WriteString("</g>\n")

	for _, m := range msgs {
		drawMessage(&b, m, laneX, rowY)
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// selectMessages gathers the first maxDiagramMessages messages (by send)
// and every event that belongs to them; total counts all sends.
func selectMessages(journal []Event) ([]*diagramMessage, int) {
	byID := map[int64]*diagramMessage{}
	var msgs []*diagramMessage
	total := 0
	for i := range journal {
		e := &journal[i]
		if e.Kind == Send {
			total++
			if len(msgs) < maxDiagramMessages {
				if _, dup := byID[e.ID]; !dup {
					m := &diagramMessage{id: e.ID, src: e.Src, dest: e.Dest, typ: e.Type, body: e.Body, send: e}
					byID[e.ID] = m
					msgs = append(msgs, m)
				}
			}
			continue
		}
		m := byID[e.ID]
		if m == nil {
			continue
		}
		switch e.Kind {
		case Recv:
			if m.recv == nil {
				m.recv = e
			}
		case Drop:
			if m.drop == nil {
				m.drop = e
			}
		}
	}
	return msgs, total
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
	fmt.Fprintf(b, `<g class="%s" data-id="%d"><title>%s</title>`, class, m.id, esc(tip.String()))
	dash := ""
	if !delivered {
		dash = ` stroke-dasharray="4 3"`
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
	fmt.Fprintf(b, `<text class="lbl" x="%.1f" y="%.1f" text-anchor="middle" fill="%s">%s</text></g>`+"\n", lx, ly, colour, esc(m.typ))
}

// laneOrder puts each client just left of the node it talks to (so a
// client's requests are short arrows, even among 25 nodes and 75
// clients), server nodes in natural order (n2 before n10), and services on
// the right.
func laneOrder(msgs []*diagramMessage) []string {
	home := map[string]string{} // client -> the first node it talked to
	seen := map[string]bool{}
	var clients, nodes, others []string
	for _, m := range msgs {
		for _, id := range []string{m.src, m.dest} {
			if seen[id] {
				continue
			}
			seen[id] = true
			switch laneGroup(id) {
			case 0:
				clients = append(clients, id)
			case 1:
				nodes = append(nodes, id)
			default:
				others = append(others, id)
			}
		}
		switch {
		case laneGroup(m.src) == 0 && laneGroup(m.dest) == 1 && home[m.src] == "":
			home[m.src] = m.dest
		case laneGroup(m.dest) == 0 && laneGroup(m.src) == 1 && home[m.dest] == "":
			home[m.dest] = m.src
		}
	}
	for _, g := range [][]string{clients, nodes, others} {
		sort.Slice(g, func(i, j int) bool { return naturalLess(g[i], g[j]) })
	}
	byNode := map[string][]string{}
	var lanes []string
	for _, c := range clients {
		if h := home[c]; h != "" {
			byNode[h] = append(byNode[h], c)
		} else {
			lanes = append(lanes, c) // never spoke to a node: far left
		}
	}
	for _, n := range nodes {
		lanes = append(lanes, byNode[n]...)
		lanes = append(lanes, n)
	}
	return append(lanes, others...)
}

// laneGroup: 0 clients, 1 server nodes, 2 services and anything else.
// Maelstrom decides "is a client" by the leading c alone.
func laneGroup(id string) int {
	switch {
	case isNumbered(id, 'c'):
		return 0
	case isNumbered(id, 'n'):
		return 1
	}
	return 2
}

func isNumbered(id string, prefix byte) bool {
	if len(id) < 2 || id[0] != prefix {
		return false
	}
	_, err := strconv.Atoi(id[1:])
	return err == nil
}

// naturalLess orders ids by their prefix, then by their number.
func naturalLess(a, b string) bool {
	pa, na := splitNumber(a)
	pb, nb := splitNumber(b)
	if pa != pb || na < 0 || nb < 0 {
		if pa == pb {
			return a < b
		}
		return pa < pb
	}
	return na < nb
}

func splitNumber(s string) (string, int) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	n, err := strconv.Atoi(s[i:])
	if err != nil {
		return s, -1
	}
	return s[:i], n
}

func laneColour(id string) string {
	switch laneGroup(id) {
	case 0:
		return "#7a869a"
	case 1:
		return "#2b3a55"
	}
	return "#7b4fb0"
}

// Message colours: errors, client RPCs, service calls, node-to-node.
const (
	errorColour   = "#e0245e"
	clientColour  = "#2f7ed8"
	serviceColour = "#7b4fb0"
	peerColour    = "#1b8a5a"
)

var messageColours = []string{errorColour, clientColour, serviceColour, peerColour}

func arrowID(colour string) string { return "arrow-" + strings.TrimPrefix(colour, "#") }

// messageColour tells traffic apart: client RPCs, node-to-node traffic,
// service calls, and errors.
func messageColour(m *diagramMessage) string {
	switch {
	case m.typ == "error":
		return errorColour
	case laneGroup(m.src) == 0 || laneGroup(m.dest) == 0:
		return clientColour
	case laneGroup(m.src) == 2 || laneGroup(m.dest) == 2:
		return serviceColour
	}
	return peerColour
}

func fmtSeconds(ns int64) string {
	s := float64(ns) / 1e9
	if math.Abs(s) < 10 {
		return strconv.FormatFloat(s, 'f', 4, 64) + " s"
	}
	return strconv.FormatFloat(s, 'f', 3, 64) + " s"
}
