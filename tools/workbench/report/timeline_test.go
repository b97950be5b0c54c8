package report

import (
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
)

func timelineHistory() history.History {
	ms := int64(time.Millisecond)
	h := history.History{
		{Type: history.Invoke, Process: 0, F: "broadcast", Value: 7, Time: 1 * ms},
		{Type: history.Invoke, Process: 1, F: "read", Time: 2 * ms},
		{Type: history.OK, Process: 0, F: "broadcast", Value: 7, Time: 3 * ms},
		{Type: history.Fail, Process: 1, F: "read", Time: 4 * ms, Error: "timeout"},
		{Type: history.Invoke, Process: history.NemesisProcess, F: "start-partition", Time: 5 * ms},
		{Type: history.Info, Process: history.NemesisProcess, F: "start-partition", Value: "majority", Time: 6 * ms},
		{Type: history.Invoke, Process: 2, F: "read", Time: 7 * ms},
		{Type: history.Info, Process: 2, F: "read", Time: 9 * ms},
		{Type: history.Invoke, Process: 0, F: "read", Time: 10 * ms},
	}
	history.History.Reindex(h)
	return h
}

func TestTimelineHasABoxPerOperation(t *testing.T) {
	page := string(timeline(timelineHistory()))
	boxes := regexp.MustCompile(`<div class="op (\w+)" style="left:(\d+)px;top:(\d+)px;height:(\d+)px" title="([^"]*)">`).FindAllStringSubmatch(page, -1)
	var got []string
	for _, b := range boxes {
		got = append(got, b[1]+"@"+b[2])
	}
	// Columns: processes 0, 1, 2, then the nemesis; process 0's open read last.
	if want := "ok@0,fail@110,info@330,info@220,open@0"; strings.Join(got, ",") != want {
		t.Errorf("boxes %s, want %s", strings.Join(got, ","), want)
	}
	if len(boxes) > 0 && !strings.Contains(boxes[0][5], ":f :broadcast") || !strings.Contains(boxes[0][5], ":type :ok") {
		t.Errorf("the first box's hover text is %q, want its invocation and completion", boxes[0][5])
	}
	// The broadcast spans entries 0..2: two rows.
	if boxes[0][4] != "30" {
		t.Errorf("the broadcast's box is %s px high, want 30", boxes[0][4])
	}
	for _, head := range []string{">0</div>", ">1</div>", ">2</div>", ">nemesis</div>"} {
		if !strings.Contains(page, head) {
			t.Errorf("no column header %s", head)
		}
	}
}

func TestReportLinksTheTimeline(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, timelineHistory(), nil, checker.Result{"valid?": true}); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(filepath.Join(dir, IndexFile))
	if !strings.Contains(string(page), `<a href="timeline.html">Timeline</a>`) {
		t.Error("index.html does not link timeline.html")
	}
}

// TestChromiumShowsTheTimeline: a browser draws the boxes, hover texts
// in place, coloured by type.
func TestChromiumShowsTheTimeline(t *testing.T) {
	bin := findChromium()
	if bin == "" {
		t.Skip("chromium is not installed")
	}
	if testing.Short() {
		t.Skip("starts a browser")
	}
	dir := t.TempDir()
	if err := Write(dir, timelineHistory(), nil, checker.Result{"valid?": true}); err != nil {
		t.Fatal(err)
	}
	check := filepath.Join(dir, "timeline-check.html")
	os.WriteFile(check, []byte(`<!DOCTYPE html><html><body><iframe id="f" src="timeline.html" width="900" height="600"></iframe><pre id="r">not loaded</pre>
<script>window.addEventListener('load', () => { const d = document.getElementById('f').contentDocument;
const ops = Array.from(d.querySelectorAll('.op'));
document.getElementById('r').textContent = 'BOXES ' + ops.length + ' VISIBLE ' + ops.filter(o => o.getBoundingClientRect().height > 10).length +
 ' OKCOLOUR ' + d.defaultView.getComputedStyle(d.querySelector('.op.ok')).backgroundColor + ' TITLE ' + ops[0].title.split('\n')[0]; });</script></body></html>`), 0o644)
	dom := runChromium(t, bin, "--allow-file-access-from-files", "--dump-dom", "file://"+check)
	for _, want := range []string{"BOXES 5 VISIBLE 5", "OKCOLOUR rgb(109, 182, 254)", "TITLE {:f :broadcast"} {
		if !strings.Contains(dom, want) {
			t.Errorf("timeline in the browser: want %q in\n%s", want, dom)
		}
	}
	shot := filepath.Join(t.TempDir(), "timeline.png")
	runChromium(t, bin, "--screenshot="+shot, "--window-size=800,400", "--hide-scrollbars", "file://"+filepath.Join(dir, TimelineFile))
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	blue := 0
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if r>>8 == 109 && g>>8 == 182 && b>>8 == 254 {
				blue++
			}
		}
	}
	if blue < 500 {
		t.Errorf("the screenshot has %d pixels of an ok box's colour, want a box", blue)
	}
}
