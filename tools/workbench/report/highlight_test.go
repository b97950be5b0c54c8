package report

import (
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
)

// lostValueRun is an invalid broadcast run: value 7 goes to n1 (op 0) and
// on to n2, but the final read on n3 (op 2) misses it. Before it, 400
// messages of gossip among the nodes push it far down the diagram.
func lostValueRun(t *testing.T) (dir string, h history.History, journal []Event, results checker.Result) {
	t.Helper()
	dir = t.TempDir()
	ms := int64(time.Millisecond)
	var id int64
	send := func(at int64, src, dest, body string) {
		id++
		journal = append(journal,
			Event{Kind: Send, Time: at, ID: id, Src: src, Dest: dest, Body: body, Type: bodyType([]byte(body))},
			Event{Kind: Recv, Time: at + 2*ms, ID: id, Src: src, Dest: dest, Body: body, Type: bodyType([]byte(body))})
	}
	for i := 0; i < 400; i++ {
		send(int64(i)*ms, "n"+strconv.Itoa(i%3+1), "n"+strconv.Itoa((i+1)%3+1), fmt.Sprintf(`{"type":"gossip","values":[%d]}`, 100+i))
	}
	t0 := 500 * ms
	h = history.History{
		{Type: history.Invoke, Process: 1, F: "broadcast", Value: 7, Time: t0, Node: "n1"},
		{Type: history.OK, Process: 1, F: "broadcast", Value: 7, Time: t0 + 3*ms, Node: "n1"},
		{Type: history.Invoke, Process: 3, F: "read", Time: t0 + 20*ms, Node: "n3"},
		{Type: history.OK, Process: 3, F: "read", Value: []any{}, Time: t0 + 23*ms, Node: "n3"},
	}
	history.History.Reindex(h)
	send(t0, "c1", "n1", `{"type":"broadcast","message":7,"msg_id":1}`)
	send(t0+1*ms, "n1", "c1", `{"type":"broadcast_ok","in_reply_to":1}`)
	send(t0+5*ms, "n1", "n2", `{"type":"broadcast","message":7,"msg_id":9}`)
	send(t0+20*ms, "c3", "n3", `{"type":"read","msg_id":5}`)
	send(t0+21*ms, "n3", "c3", `{"type":"read_ok","messages":[],"in_reply_to":5}`)
	send(t0+30*ms, "n2", "n3", `{"type":"gossip","values":[1]}`)
	results = checker.Result{
		"valid?": false,
		"workload": map[string]any{
			"valid?":      false,
			"first-error": "value 7 lost (1 lost in all): broadcast to n1 at op 0 (t=500ms), known from op 1 (ok, t=503ms), never seen by any read, missing from the final read invoked at op 2 (process 3 on n3, t=520ms) and every read after",
		},
	}
	return dir, h, journal, results
}

func TestDiagramHighlightsWhatTheFailureNames(t *testing.T) {
	dir, h, journal, results := lostValueRun(t)
	if err := Write(dir, h, journal, results); err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile(filepath.Join(dir, MessagesFile))
	if err != nil {
		t.Fatal(err)
	}
	hl := regexp.MustCompile(`<g class="msg hl" data-id="(\d+)">`).FindAllStringSubmatch(string(svg), -1)
	var ids []string
	for _, m := range hl {
		ids = append(ids, m[1])
	}
	// 401..405: the broadcast, its ok, n1's broadcast to n2 (carries 7), the
	// read on n3 and its reply; not the gossip after them.
	if got, want := strings.Join(ids, ","), "401,402,403,404,405"; got != want {
		t.Errorf("highlighted messages %s, want %s", got, want)
	}
	for _, want := range []string{">broadcast {:message 7}</text>", ">read_ok {:messages []}</text>", ">gossip {:values [400]}</text>"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("messages.svg lacks the label %s; labels: %q", want, regexp.MustCompile(`>(broadcast|gossip|read)[^<]*<`).FindAllString(string(svg), 8))
		}
	}
	m := regexp.MustCompile(`data-focus-y="(\d+)"`).FindStringSubmatch(string(svg))
	if m == nil {
		t.Fatal("messages.svg has no focus")
	}
	if y, _ := strconv.Atoi(m[1]); y < 1000 {
		t.Errorf("focus y = %d, want the highlighted rows below the 100 lead-in messages", y)
	}
	page, _ := os.ReadFile(filepath.Join(dir, IndexFile))
	for _, want := range []string{`data-focus-y="` + m[1] + `"`, `class="lane-heads"`, "position: sticky"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
}

func TestValidRunHasNoFocus(t *testing.T) {
	dir, h, journal, _ := lostValueRun(t)
	if err := Write(dir, h, journal, checker.Result{"valid?": true}); err != nil {
		t.Fatal(err)
	}
	svg, _ := os.ReadFile(filepath.Join(dir, MessagesFile))
	if strings.Contains(string(svg), "data-focus-y") || strings.Contains(string(svg), `class="msg hl"`) {
		t.Error("a valid run's diagram has a focus or highlights")
	}
}

// focusCheckPage loads index.html in a frame and reports, once the
// diagram has loaded, how far its box scrolled and whether the lane
// headers are sticky.
const focusCheckPage = `<!DOCTYPE html><html><body>
<iframe id="report" src="index.html" width="1200" height="900"></iframe>
<pre id="result">not loaded</pre>
<script>
window.addEventListener('load', () => setTimeout(() => {
  const doc = document.getElementById('report').contentDocument;
  const box = doc.querySelector('.messages');
  const heads = doc.querySelector('.lane-heads');
  document.getElementById('result').textContent = 'SCROLL ' + box.scrollTop +
    ' HEIGHT ' + box.clientHeight + ' STICKY ' + doc.defaultView.getComputedStyle(heads).position + ' FOCUS ' + box.dataset.focusY;
}, 300));
</script></body></html>`

// TestChromiumOpensTheDiagramAtTheFailure: in a real browser the diagram
// box is scrolled to the highlighted messages, its lane headers are
// sticky, and a screenshot shows the highlight.
func TestChromiumOpensTheDiagramAtTheFailure(t *testing.T) {
	bin := findChromium()
	if bin == "" {
		t.Skip("chromium is not installed")
	}
	if testing.Short() {
		t.Skip("starts a browser")
	}
	dir, h, journal, results := lostValueRun(t)
	if err := Write(dir, h, journal, results); err != nil {
		t.Fatal(err)
	}
	check := filepath.Join(dir, "focus-check.html")
	if err := os.WriteFile(check, []byte(focusCheckPage), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := runChromium(t, bin, "--allow-file-access-from-files", "--dump-dom", "--virtual-time-budget=3000", "file://"+check)
	m := regexp.MustCompile(`SCROLL (\d+) HEIGHT (\d+) STICKY (\w+) FOCUS (\d+)`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("no result from the page:\n%s", dom)
	}
	scroll, _ := strconv.Atoi(m[1])
	height, _ := strconv.Atoi(m[2])
	focus, _ := strconv.Atoi(m[4])
	// In view, below the sticky headers.
	if scroll == 0 || focus < scroll+int(diagramTop) || focus > scroll+height {
		t.Errorf("diagram shows %d..%d px, want the focus at %d px in view", scroll, scroll+height, focus)
	}
	if m[3] != "sticky" {
		t.Errorf("lane headers are %s, want sticky", m[3])
	}

	// The screenshot of the page scrolled to the diagram shows the yellow
	// halo of a highlighted message.
	shot := filepath.Join(t.TempDir(), "focus.png")
	runChromium(t, bin, "--screenshot="+shot, "--window-size=1280,3600", "--hide-scrollbars", "--virtual-time-budget=3000", "file://"+filepath.Join(dir, IndexFile))
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	halo := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 > 235 && g>>8 > 210 && g>>8 < 250 && bl>>8 < 170 {
				halo++
			}
		}
	}
	if halo < 50 {
		t.Errorf("the screenshot shows %d highlight pixels, want the halo of the highlighted messages", halo)
	}
}
