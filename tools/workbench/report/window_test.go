package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/network"
)

// longJournal has n gossip messages, one per millisecond, each delivered
// half a millisecond later; message i is sent at i ms.
func longJournal(n int) []network.Event {
	var j []network.Event
	for i := 0; i < n; i++ {
		m := network.Message{ID: int64(i), Src: "n0", Dest: "n1", Body: json.RawMessage(fmt.Sprintf(`{"type":"gossip","i":%d}`, i))}
		t := time.Duration(i) * time.Millisecond
		j = append(j, network.Event{Kind: network.Send, Time: t, Msg: m}, network.Event{Kind: network.Recv, Time: t + 500*time.Microsecond, Msg: m})
	}
	return j
}

func drawnIDs(svg string) []int {
	var ids []int
	for _, m := range regexp.MustCompile(`<g class="msg[^"]*" data-id="(\d+)"`).FindAllStringSubmatch(svg, -1) {
		id, _ := strconv.Atoi(m[1])
		ids = append(ids, id)
	}
	return ids
}

func TestDiagramWindowsAroundTheFirstError(t *testing.T) {
	journal := FromNetwork(longJournal(1000))
	h := history.History{
		{Index: 0, Type: history.Invoke, Process: 0, F: "broadcast", Value: 3, Time: 10e6},
		{Index: 1, Type: history.OK, Process: 0, F: "broadcast", Value: 3, Time: 11e6},
		{Index: 7, Type: history.Invoke, Process: 1, F: "read", Time: 800e6},
	}
	invalid := checker.Result{"valid?": checker.Invalid, "net": map[string]any{"valid?": true},
		"workload": map[string]any{"valid?": false, "first-error": "op 7 (process 1): lost element 3"}}
	svg := string(messages(journal, mustFocus(t, h, journal, invalid)))
	ids := drawnIDs(svg)
	if len(ids) != maxDiagramMessages || ids[0] != 800-leadIn || !strings.Contains(svg, "op 7 at 0.8000 s") {
		t.Errorf("window: %d messages from %v; caption %q", len(ids), ids[:1], regexp.MustCompile(`Messages:[^<]*`).FindString(svg))
	}
	// A valid run starts at the beginning, as before.
	if ids := drawnIDs(string(messages(journal, mustFocus(t, h, journal, checker.Result{"valid?": checker.Valid})))); ids[0] != 0 {
		t.Errorf("valid run starts at message %d", ids[0])
	}
	// With no op named, the first error reply is the focus.
	journal[1200].Raw = json.RawMessage(`{"type":"error","code":11}`) // send of message 600
	noOp := checker.Result{"valid?": checker.Invalid, "workload": map[string]any{"valid?": false, "first-error": "key 3 cannot be linearized"}}
	if ids := drawnIDs(string(messages(journal, mustFocus(t, h, journal, noOp)))); ids[0] != 600-leadIn {
		t.Errorf("error-reply focus starts at message %d, want %d", ids[0], 600-leadIn)
	}
}

func TestMessagesFromAStoredJournal(t *testing.T) {
	// The stored formats: JSON lines, and the JSON array earlier
	// workbenches wrote.
	var array, lines bytes.Buffer
	array.WriteString("[")
	for i, e := range longJournal(1000) {
		b, _ := json.Marshal(e)
		lines.Write(append(b, '\n'))
		if i > 0 {
			array.WriteString(",")
		}
		array.Write(append([]byte("\n"), b...))
	}
	array.WriteString("\n]\n")
	for name, in := range map[string][]byte{"array": array.Bytes(), "lines": lines.Bytes()} {
		svg, err := MessagesFrom(bytes.NewReader(in), 500e6)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ids := drawnIDs(string(svg))
		if len(ids) != maxDiagramMessages || ids[0] != 500 || !strings.Contains(string(svg), "Messages: 300 of 1000, from 0.5000 s") {
			t.Errorf("%s: %d messages from %v", name, len(ids), ids[:1])
		}
		if !strings.Contains(string(svg), `{&#34;type&#34;:&#34;gossip&#34;,&#34;i&#34;:500}`) {
			t.Errorf("%s: message 500's body is not in its tooltip", name)
		}
	}
	if _, err := MessagesFrom(strings.NewReader(`[{"kind":"send","time":"soon"}]`), 0); err == nil {
		t.Error("a broken journal was accepted")
	}
}

// TestPlotPointsStayInsideTheAxes: the first op (at 0), the final reads
// (at the very end), zero rates and sub-microsecond latencies are all
// drawn strictly inside the frame, not on it.
func TestPlotPointsStayInsideTheAxes(t *testing.T) {
	dir := t.TempDir()
	var h history.History
	for i := 0; i < 40; i++ {
		at := int64(i) * 250e6
		lat := int64(1e6)
		if i == 0 {
			lat = 1 // 1 ns: clamped to the axis minimum before
		}
		h = append(h, history.Op{Type: history.Invoke, Process: 0, F: "read", Time: at},
			history.Op{Type: history.OK, Process: 0, F: "read", Time: at + lat, Final: i == 39})
	}
	if err := Write(dir, h, nil, checker.Result{"valid?": checker.Valid}); err != nil {
		t.Fatal(err)
	}
	frame := regexp.MustCompile(`<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="none"`)
	point := regexp.MustCompile(`<use (?:class="point" )?href="#m\d" x="([-\d.]+)" y="([-\d.]+)"`)
	for _, name := range []string{LatencyRawFile, LatencyQuantilesFile, RateFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		f := frame.FindStringSubmatch(string(b))
		if f == nil {
			t.Fatalf("%s: no frame", name)
		}
		x0, _ := strconv.ParseFloat(f[1], 64)
		y0, _ := strconv.ParseFloat(f[2], 64)
		w, _ := strconv.ParseFloat(f[3], 64)
		hh, _ := strconv.ParseFloat(f[4], 64)
		pts := point.FindAllStringSubmatch(string(b), -1)
		if len(pts) == 0 {
			t.Fatalf("%s: no points", name)
		}
		for _, p := range pts {
			x, _ := strconv.ParseFloat(p[1], 64)
			y, _ := strconv.ParseFloat(p[2], 64)
			if x <= x0+1 || x >= x0+w-1 || y <= y0+1 || y >= y0+hh-1 {
				t.Errorf("%s: point (%g, %g) is not inside the frame [%g, %g]×[%g, %g]", name, x, y, x0, x0+w, y0, y0+hh)
				break
			}
		}
	}
}

// TestQuantileLinesDoNotHideEachOther: q1 is drawn first and widest, each
// lower quantile narrower on top, in its own colour.
func TestQuantileLinesDoNotHideEachOther(t *testing.T) {
	r := newSyntheticRun(t, true)
	svg := string(latencyQuantiles(gatherPerf(r.h)))
	re := regexp.MustCompile(`data-quantile="([\d.]+)"><path fill="none" stroke="(#[0-9a-f]+)" stroke-width="([\d.]+)"`)
	var qs []string
	widths := map[string]float64{}
	colours := map[string]bool{}
	for _, m := range re.FindAllStringSubmatch(svg, -1) {
		if _, seen := widths[m[1]]; !seen {
			qs = append(qs, m[1])
		}
		widths[m[1]], _ = strconv.ParseFloat(m[3], 64)
		colours[m[2]] = true
	}
	if strings.Join(qs, " ") != "1 0.99 0.95 0.5" || len(colours) != 4 {
		t.Fatalf("quantile order %v, %d colours", qs, len(colours))
	}
	if !(widths["1"] > widths["0.99"] && widths["0.99"] > widths["0.95"] && widths["0.95"] > widths["0.5"]) {
		t.Errorf("widths %v: higher quantiles must be wider", widths)
	}
}

func mustFocus(t *testing.T, h history.History, journal []Event, results checker.Result) Window {
	t.Helper()
	w, err := focus(h, sliceSource(journal), results)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// A run keeps only the journal's first messages in memory and streams the
// rest to disk; the diagram of a failed run still shows the window around
// its first error, read from the stored journal.
func TestWriteDrawsTheErrorWindowFromTheStoredJournal(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "net-journal.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range longJournal(1000) {
		b, _ := json.Marshal(e)
		f.Write(append(b, '\n'))
	}
	f.Close()
	sample := FromNetwork(longJournal(1000))[:2*maxDiagramMessages] // what memory holds
	h := history.History{{Index: 7, Type: history.Invoke, Process: 1, F: "read", Time: 800e6}}
	invalid := checker.Result{"valid?": checker.Invalid, "net": map[string]any{"all": map[string]any{"msg-count": 1000}},
		"workload": map[string]any{"valid?": false, "first-error": "op 7 (process 1): lost element 3"}}
	ids := drawnIDs(string(messagesFor(dir, h, sample, invalid)))
	if len(ids) == 0 || ids[0] != 800-leadIn {
		t.Fatalf("diagram starts at %v, want message %d (read from disk)", ids[:min(1, len(ids))], 800-leadIn)
	}
	// Without a stored journal it draws what memory holds, captioned with
	// the run's true message count.
	svg := string(messagesFor(t.TempDir(), h, sample, invalid))
	if ids := drawnIDs(svg); len(ids) == 0 || !strings.Contains(svg, "of 1000") {
		t.Errorf("fallback drew %d messages, caption %q", len(ids), regexp.MustCompile(`Messages:[^<]*`).FindString(svg))
	}
}
