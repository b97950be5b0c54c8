package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/network"
	"github.com/glomers/glomers/tools/workbench/store"
)

// syntheticRun builds a store directory the way a broadcast run leaves it,
// with a history of broadcasts and reads, a partition, and a journal in
// which some messages are dropped.
type syntheticRun struct {
	dir         string
	h           history.History
	journal     []Event
	results     checker.Result
	completions int
	drops       int
	messages    int
}

func newSyntheticRun(t *testing.T, valid bool) syntheticRun {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "store", "broadcast", "20260305T112642.178Z")
	for _, sub := range []string{"node-logs", "elle"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"results.edn":          "{:valid? true}\n",
		"results.json":         `{"valid?": true}`,
		"history.txt":          "0\t:invoke\t:broadcast\t0\n",
		"history.json":         "{}\n",
		"node-logs/n0.log":     "started\n",
		"node-logs/n1.log":     "started\n",
		"elle/odd name #1.txt": "a file whose name needs escaping\n",
		"elle/100% sure?.txt":  "another\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	r := syntheticRun{dir: dir}
	ms := int64(time.Millisecond)
	at := func(i int) int64 { return int64(i) * 50 * ms }
	var h history.History
	// 3 processes, 60 ops each, 50 ms apart; latencies from 1 to ~300 ms.
	for i := 0; i < 180; i++ {
		proc := i % 3
		f := "broadcast"
		if i%2 == 1 {
			f = "read"
		}
		inv := history.Op{Type: history.Invoke, Process: proc, F: f, Value: i, Time: at(i)}
		typ := history.OK
		switch {
		case i%17 == 0:
			typ = history.Info
		case i%23 == 0:
			typ = history.Fail
		}
		lat := int64(1+(i*37)%300) * ms
		h = append(h, inv, history.Op{Type: typ, Process: proc, F: f, Value: i, Time: at(i) + lat})
		r.completions++
	}
	// One invocation that never completed.
	h = append(h, history.Op{Type: history.Invoke, Process: 4, F: "read", Time: at(180)})
	// A partition from 2 s to 5 s.
	h = append(h,
		history.Op{Type: history.Invoke, Process: history.NemesisProcess, F: "start-partition", Time: 2 * int64(time.Second)},
		history.Op{Type: history.Info, Process: history.NemesisProcess, F: "start-partition", Value: "majority", Time: 2*int64(time.Second) + ms},
		history.Op{Type: history.Invoke, Process: history.NemesisProcess, F: "stop-partition", Time: 5 * int64(time.Second)},
		history.Op{Type: history.Info, Process: history.NemesisProcess, F: "stop-partition", Time: 5*int64(time.Second) + ms},
	)
	history.History.Reindex(h)
	r.h = h

	// Journal: init traffic, then gossip among 3 nodes with some drops.
	var j []Event
	id := int64(0)
	msg := func(t0 int64, src, dest, typ string, fate string) {
		j = append(j, Event{Kind: Send, Time: t0, ID: id, Src: src, Dest: dest, Type: typ, Body: fmt.Sprintf(`{"type":%q}`, typ)})
		switch fate {
		case Recv:
			j = append(j, Event{Kind: Recv, Time: t0 + 100*ms, ID: id, Src: src, Dest: dest, Type: typ})
		case Drop:
			j = append(j, Event{Kind: Drop, Time: t0 + 100*ms, ID: id, Src: src, Dest: dest, Type: typ})
			r.drops++
		case "":
			r.drops++ // in flight at the end
		}
		r.messages++
		id++
	}
	for i, n := range []string{"n0", "n1", "n2"} {
		c := fmt.Sprintf("c%d", i)
		msg(int64(i)*ms, c, n, "init", Recv)
		msg(int64(i)*ms+ms, n, c, "init_ok", Recv)
	}
	for i := 0; i < 40; i++ {
		fate := Recv
		if i%7 == 3 {
			fate = Drop
		}
		msg(at(i)+10*ms, fmt.Sprintf("n%d", i%3), fmt.Sprintf("n%d", (i+1)%3), "gossip", fate)
	}
	msg(at(41), "n1", "lin-kv", "read", Recv)
	msg(at(42), "n2", "n2", "tick", Recv)
	msg(at(43), "n0", "n1", "gossip", "")
	r.journal = j

	r.results = checker.Result{
		"valid?": checker.Of(valid),
		"workload": map[string]any{
			"valid?":           checker.Of(valid),
			"stable-count":     120,
			"lost-count":       0,
			"stable-latencies": map[float64]any{0: 0, 0.5: 120, 0.95: 250, 0.99: 290, 1: 300},
		},
		"stats": map[string]any{"valid?": checker.Valid, "count": 180, "ok-count": 160},
		"net": map[string]any{
			"valid?":  checker.Valid,
			"servers": map[string]any{"msg-count": 40, "msgs-per-op": 0.2222222},
		},
	}
	if !valid {
		r.results["workload"].(map[string]any)["first-error"] = "op 42 (process 0): lost element 7"
	}
	return r
}

var linkPattern = regexp.MustCompile(`(?:href|src)="([^"]*)"`)

// links returns every href and src of an HTML page.
func links(page string) []string {
	var out []string
	for _, m := range linkPattern.FindAllStringSubmatch(page, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// checkLinks asserts every link of index.html names an existing file
// inside dir.
func checkLinks(t *testing.T, dir string) []string {
	t.Helper()
	page, err := os.ReadFile(filepath.Join(dir, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	ls := links(string(page))
	if len(ls) == 0 {
		t.Fatal("index.html has no links")
	}
	for _, l := range ls {
		u, err := url.Parse(l)
		if err != nil {
			t.Errorf("link %q: %v", l, err)
			continue
		}
		if u.Scheme != "" || u.Host != "" || strings.HasPrefix(u.Path, "/") {
			t.Errorf("link %q is not relative to the run directory", l)
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(u.Path))
		if rel, err := filepath.Rel(dir, p); err != nil || strings.HasPrefix(rel, "..") {
			t.Errorf("link %q leaves the run directory", l)
			continue
		}
		if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
			t.Errorf("link %q does not resolve to a file: %v", l, err)
		}
	}
	return ls
}

// wellFormed asserts an SVG parses as XML.
func wellFormed(t *testing.T, name string, data []byte) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(string(data)))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v", name, err)
		}
	}
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	wellFormed(t, name, b)
	return string(b)
}

func TestWriteLinksResolveAndPlotsHaveData(t *testing.T) {
	r := newSyntheticRun(t, true)
	if err := Write(r.dir, r.h, r.journal, r.results); err != nil {
		t.Fatal(err)
	}
	ls := checkLinks(t, r.dir)
	for _, want := range []string{"results.edn", "results.json", "history.txt", "node-logs/n0.log", "node-logs/n1.log",
		LatencyRawFile, LatencyQuantilesFile, RateFile, MessagesFile, "elle/odd%20name%20%231.txt"} {
		found := false
		for _, l := range ls {
			found = found || l == want
		}
		if !found {
			t.Errorf("index.html does not link %s; links: %v", want, ls)
		}
	}

	raw := readFile(t, r.dir, LatencyRawFile)
	if got := countPoints(raw); got != r.completions {
		t.Errorf("latency-raw.svg draws %d points, want one per completed op (%d)", got, r.completions)
	}
	for _, typ := range []string{"ok", "info", "fail"} {
		if !strings.Contains(raw, `data-type="`+typ+`"`) {
			t.Errorf("latency-raw.svg has no %s points", typ)
		}
	}
	if !strings.Contains(raw, `class="shade"`) {
		t.Error("latency-raw.svg does not shade the partition")
	}

	q := readFile(t, r.dir, LatencyQuantilesFile)
	for _, want := range []string{`data-quantile="0.5"`, `data-quantile="0.95"`, `data-quantile="0.99"`, `data-quantile="1"`} {
		if strings.Count(q, want) != 2 { // one line per f (broadcast, read)
			t.Errorf("latency-quantiles.svg has %d series with %s, want 2", strings.Count(q, want), want)
		}
	}
	if got := strings.Count(q, `<g class="series"`); got != 8 {
		t.Errorf("latency-quantiles.svg has %d lines, want 8", got)
	}

	rt := readFile(t, r.dir, RateFile)
	if !strings.Contains(rt, `data-f="broadcast" data-type="ok"`) || !strings.Contains(rt, `data-f="read" data-type="ok"`) {
		t.Error("rate.svg lacks an ok series per f")
	}

	m := readFile(t, r.dir, MessagesFile)
	if got := strings.Count(m, `<g class="msg`); got != r.messages {
		t.Errorf("messages.svg draws %d messages, want %d", got, r.messages)
	}
	if got := strings.Count(m, `class="cross"`); got != r.drops {
		t.Errorf("messages.svg draws %d crosses, want one per undelivered message (%d)", got, r.drops)
	}
	for _, lane := range []string{">c0<", ">n0<", ">n2<", ">lin-kv<"} {
		if !strings.Contains(m, lane) {
			t.Errorf("messages.svg has no lane %s", lane)
		}
	}
	// Each client just left of its node, services on the right.
	order := []string{">c0<", ">n0<", ">c1<", ">n1<", ">c2<", ">n2<", ">lin-kv<"}
	for i := 1; i < len(order); i++ {
		if strings.Index(m, order[i-1]) > strings.Index(m, order[i]) {
			t.Errorf("messages.svg lane %s comes after %s", order[i-1], order[i])
		}
	}
}

var pointGroup = regexp.MustCompile(`<g class="points"[^>]*>(.*?)</g>`)

// countPoints counts the markers inside the data-point groups of a plot.
func countPoints(svg string) int {
	n := 0
	for _, m := range pointGroup.FindAllStringSubmatch(svg, -1) {
		n += strings.Count(m[1], "<use ")
	}
	return n
}

func TestIndexShowsVerdictAndFirstError(t *testing.T) {
	r := newSyntheticRun(t, false)
	if err := Write(r.dir, r.h, r.journal, r.results); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(r.dir, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{
		`<header class="invalid">`,
		"broadcast · 20260305T112642.178Z",
		"workload: op 42 (process 0): lost element 7",
		"servers.msgs-per-op</b> 0.222222",
		"stable-latencies.0.5</b> 120",
		":stable-latencies {0 0, 0.5 120, 0.95 250, 0.99 290, 1 300}",
	} {
		if !strings.Contains(page, html.EscapeString(want)) && !strings.Contains(page, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	// The workload section comes before the others.
	if strings.Index(page, "<td>workload</td>") > strings.Index(page, "<td>net</td>") {
		t.Error("workload is not the first checker listed")
	}
}

func TestWriteEmptyRun(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, nil, nil, checker.Result{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{LatencyRawFile, LatencyQuantilesFile, RateFile} {
		if s := readFile(t, dir, name); !strings.Contains(s, "no completed operations") {
			t.Errorf("%s does not say it is empty", name)
		}
	}
	if s := readFile(t, dir, MessagesFile); !strings.Contains(s, "no messages were journaled") {
		t.Error("messages.svg does not say it is empty")
	}
	checkLinks(t, dir)
	if b, _ := os.ReadFile(filepath.Join(dir, IndexFile)); !strings.Contains(string(b), `<header class="unknown">`) {
		t.Error("a result without valid? should show as unknown")
	}
}

func TestWriteFailsOnMissingDir(t *testing.T) {
	err := Write(filepath.Join(t.TempDir(), "nope"), nil, nil, checker.Result{})
	if err == nil || !strings.Contains(err.Error(), "latency-raw.svg") {
		t.Fatalf("Write into a missing dir: %v, want an error naming the file", err)
	}
}

func TestMessagesCapped(t *testing.T) {
	var j []Event
	for i := int64(0); i < 1000; i++ {
		j = append(j, Event{Kind: Send, Time: i * 1000, ID: i, Src: "n0", Dest: "n1", Type: "gossip"},
			Event{Kind: Recv, Time: i*1000 + 500, ID: i, Src: "n0", Dest: "n1", Type: "gossip"})
	}
	svg := string(messages(j, Window{}))
	wellFormed(t, "messages", []byte(svg))
	if got := strings.Count(svg, `<g class="msg"`); got != maxDiagramMessages {
		t.Errorf("drew %d messages, want the cap %d", got, maxDiagramMessages)
	}
	if !strings.Contains(svg, "the first 300 of 1000") {
		t.Error("the caption does not say the diagram is truncated")
	}
}

func TestMessageEscaping(t *testing.T) {
	j := []Event{{Kind: Send, ID: 0, Src: "n0", Dest: "n1", Type: `<script>&"`, Body: `{"x":"</svg>"}`}}
	svg := messages(j, Window{})
	wellFormed(t, "messages", svg)
	if strings.Contains(string(svg), "<script>") {
		t.Error("a message type was not escaped")
	}
}

func TestWindow(t *testing.T) {
	for end, want := range map[float64]float64{5: 0.5, 20: 1, 30: 1, 31: 2, 300: 10, 1800: 60} {
		if got := window(end); got != want {
			t.Errorf("window(%g) = %g, want %g", end, got, want)
		}
	}
}

func TestPartitionSpans(t *testing.T) {
	s := int64(time.Second)
	h := history.History{
		{Type: history.Invoke, Process: -1, F: "start-partition", Time: 1 * s},
		{Type: history.Info, Process: -1, F: "start-partition", Time: 1 * s},
		{Type: history.Invoke, Process: -1, F: "stop-partition", Time: 3 * s},
		{Type: history.Info, Process: -1, F: "stop-partition", Time: 3 * s},
		{Type: history.Invoke, Process: -1, F: "start-partition", Time: 6 * s},
	}
	got := partitionSpans(h, 9)
	want := [][2]float64{{1, 3}, {6, 9}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("partitionSpans = %v, want %v", got, want)
	}
}

func TestTicks(t *testing.T) {
	if got := fmt.Sprint(linearTicks(0, 20, 10)); got != "[0 2 4 6 8 10 12 14 16 18 20]" {
		t.Errorf("linearTicks(0,20) = %s", got)
	}
	if got := fmt.Sprint(logTicks(1, 1000)); got != "[1 2 5 10 20 50 100 200 500 1000]" {
		t.Errorf("logTicks(1,1000) = %s", got)
	}
	lo, hi := logRange(0.37, 412)
	if lo != 0.1 || hi != 1000 {
		t.Errorf("logRange(0.37, 412) = %g, %g", lo, hi)
	}
	if l, h := logRange(5, 5); !(l < 5 && h > 5) || math.IsNaN(l) {
		t.Errorf("logRange(5,5) = %g, %g", l, h)
	}
}

func TestLaneOrderPutsClientsByTheirNode(t *testing.T) {
	msgs := []*diagramMessage{
		{src: "n10", dest: "seq-kv"}, {src: "c11", dest: "n2"}, {src: "c2", dest: "n1"}, {src: "lin-kv", dest: "n0"},
		{src: "n1", dest: "c3"}, {src: "c11", dest: "n1"}, {src: "c7", dest: "c8"},
	}
	got := strings.Join(laneOrder(msgs), " ")
	if got != "c7 c8 n0 c2 c3 n1 c11 n2 n10 lin-kv seq-kv" {
		t.Errorf("laneOrder = %s", got)
	}
}

func TestFromNetwork(t *testing.T) {
	body := json.RawMessage(`{"type":"broadcast","message":7,"msg_id":1}`)
	j := []network.Event{
		{Kind: network.Send, Time: 5 * time.Millisecond, Msg: network.Message{ID: 3, Src: "c1", Dest: "n0", Body: body}},
		{Kind: network.Recv, Time: 6 * time.Millisecond, Msg: network.Message{ID: 3, Src: "c1", Dest: "n0", Body: body}},
		{Kind: network.Send, Time: 7 * time.Millisecond, Msg: network.Message{ID: 4, Src: "n0", Dest: "n1", Body: json.RawMessage(`[1]`)}},
	}
	got := FromNetwork(j)
	want := []Event{
		{Kind: Send, Time: 5e6, ID: 3, Src: "c1", Dest: "n0", Type: "broadcast", Body: string(body)},
		{Kind: Recv, Time: 6e6, ID: 3, Src: "c1", Dest: "n0", Type: "broadcast", Body: string(body)},
		{Kind: Send, Time: 7e6, ID: 4, Src: "n0", Dest: "n1", Type: "?", Body: "[1]"},
	}
	// Type and body are read from the journaled body when drawn.
	for i := range got {
		got[i].Type, got[i].Body, got[i].Raw = got[i].typeName(), got[i].bodyText(), nil
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("FromNetwork = %+v\nwant %+v", got, want)
	}
}

func TestWriteStoredRedrawsFromDisk(t *testing.T) {
	r := newSyntheticRun(t, false)
	run := &store.Run{Dir: r.dir}
	if err := run.WriteHistory(r.h); err != nil {
		t.Fatal(err)
	}
	if err := run.WriteResults(r.results); err != nil {
		t.Fatal(err)
	}
	var j []network.Event
	for _, e := range r.journal {
		if e.Kind == Drop {
			continue // the network journals sends and deliveries only
		}
		j = append(j, network.Event{Kind: network.EventKind(e.Kind), Time: time.Duration(e.Time),
			Msg: network.Message{ID: e.ID, Src: e.Src, Dest: e.Dest, Body: json.RawMessage(e.Body)}})
	}
	for i := range j {
		if len(j[i].Msg.Body) == 0 {
			j[i].Msg.Body = json.RawMessage(`{"type":"x"}`)
		}
	}
	if err := run.WriteJSON("net-journal.json", j); err != nil {
		t.Fatal(err)
	}
	if err := WriteStored(r.dir); err != nil {
		t.Fatal(err)
	}
	checkLinks(t, r.dir)
	if got := countPoints(readFile(t, r.dir, LatencyRawFile)); got != r.completions {
		t.Errorf("redrawn latency-raw.svg has %d points, want %d", got, r.completions)
	}
	if got := strings.Count(readFile(t, r.dir, MessagesFile), `<g class="msg`); got != r.messages {
		t.Errorf("redrawn messages.svg has %d messages, want %d", got, r.messages)
	}
	page, _ := os.ReadFile(filepath.Join(r.dir, IndexFile))
	for _, want := range []string{`<header class="invalid">`, "servers.msgs-per-op</b> 0.2222222", "stable-latencies.0.5</b> 120"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("index.html from stored results lacks %q", want)
		}
	}
	if err := WriteStored(t.TempDir()); err == nil {
		t.Error("WriteStored on a directory without a history should fail")
	}
}

func TestSeriesBreaksAcrossEmptyWindows(t *testing.T) {
	p := newPlot("t", "x", "y", 0, 20, 0, 10, false)
	p.series([][2]float64{{0.5, 1}, {1.5, 2}, {2.5, 3}, {12.5, 4}, {13.5, 5}}, 1.5, "#000", 1.6, "m0", "")
	svg := string(p.finish())
	wellFormed(t, "series", []byte(svg))
	d := regexp.MustCompile(` d="([^"]*)"`).FindAllStringSubmatch(svg, -1)
	path := d[len(d)-1][1]
	if strings.Count(path, "M") != 2 || strings.Count(path, "L") != 3 {
		t.Errorf("path %q: want two segments (3 joins), the gap left open", path)
	}
}

// A broadcast run's summary shows its stable and dissemination latencies
// ahead of the many counts, which would otherwise push them out.
func TestWorkloadHighlightsListLatenciesFirst(t *testing.T) {
	wl := map[string]any{"attempt-count": 3, "duplicated-count": 0, "lost-count": 0, "never-read-count": 0,
		"stale-count": 1, "stable-count": 3, "unexpected-count": 0, "repeated-in-read-count": 0,
		"dissemination-latencies": map[string]any{"0": 0, "0.5": 180, "0.95": 300, "0.99": 320, "1": 330},
		"stable-latencies":        map[string]any{"0": 0, "0.5": 120, "0.95": 250, "0.99": 290, "1": 300}}
	var hs []highlight
	flatten("", wl, 0, &hs)
	got := map[string]string{}
	for _, h := range hs {
		got[h.Key] = h.Value
	}
	if got["stable-latencies.1"] != "300" || got["dissemination-latencies.1"] != "330" {
		t.Errorf("highlights %v lack the latencies", hs)
	}
}

// A re-check's report goes beside the run: the page says why the run was
// cut short, links the run's own files, and nothing is written into the
// run's directory.
func TestWriteBesideLeavesTheRunAndSaysItWasCutShort(t *testing.T) {
	r := newSyntheticRun(t, false)
	run := &store.Run{Dir: r.dir}
	if err := run.WriteHistory(r.h); err != nil {
		t.Fatal(err)
	}
	out, err := store.CreateAnalysis(r.dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res := checker.Result{}
	for k, v := range r.results {
		res[k] = v
	}
	res["cut-short"] = []string{"history.json: 3 complete records, then a partial one at byte 99 (ignored)"}
	if err := WriteBeside(out.Dir, r.dir, r.h, res); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(filepath.Join(out.Dir, IndexFile))
	if _, err := os.Stat(filepath.Join(out.Dir, "../../history.json")); err != nil {
		t.Errorf("the link to the run's history does not resolve: %v", err)
	}
	for _, want := range []string{"Cut short: history.json: 3 complete records", `href="../../history.json"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the re-check's index.html lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(r.dir, IndexFile)); err == nil {
		t.Error("WriteBeside wrote index.html into the run's directory")
	}
}

// A run that only the workbench's strict checks fail says, in the first
// error box, that Maelstrom would accept it and what is still wrong.
func TestIndexSaysWhenMaelstromWouldAccept(t *testing.T) {
	r := newSyntheticRun(t, false)
	wl := r.results["workload"].(map[string]any)
	wl["valid?"], wl[checker.MaelstromValidKey], wl[checker.StrictKey] = checker.Invalid, checker.Valid, []string{"unexpected"}
	wl["first-error"] = "unexpected [strict]: reads returned 1 value(s) nobody broadcast, e.g. 999"
	r.results["valid?"], r.results[checker.MaelstromValidKey] = checker.Invalid, checker.Valid
	if err := Write(r.dir, r.h, r.journal, r.results); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(r.dir, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	page := html.UnescapeString(string(b))
	for _, want := range []string{
		"Analysis invalid, by the workbench's strict checks only: Maelstrom would accept this run",
		"Maelstrom would accept this run. Still wrong, by the workbench's strict checks: workload unexpected. --maelstrom-verdicts judges as Maelstrom does",
		"workload: unexpected [strict]: reads returned 1 value(s) nobody broadcast",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
}
