package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/runs"
	"github.com/glomers/glomers/tools/workbench/store"
	"github.com/glomers/glomers/tools/workbench/workload/linkv"
)

// viewCheckPage loads each view in a frame and reports, once all have
// loaded: for SVG plots, how many points lie outside the plot frame (by
// the browser's own geometry), and for porcupine's page, the text its
// script drew.
const viewCheckPage = `<!DOCTYPE html><html><body>
<iframe id="compare" src="compare.svg" width="1000" height="500"></iframe>
<iframe id="quantiles" src="latency-quantiles.svg" width="1000" height="500"></iframe>
<iframe id="porcupine" src="linearizability.html" width="1200" height="800"></iframe>
<pre id="result">not loaded</pre>
<script>
function outside(doc) {
  const f = doc.querySelector('rect[fill="none"]').getBoundingClientRect();
  let n = 0, out = 0;
  for (const u of doc.querySelectorAll('use[x]')) {
    const b = u.getBoundingClientRect();
    n++;
    if (b.left < f.left || b.right > f.right || b.top < f.top || b.bottom > f.bottom) out++;
  }
  return n + ' points, ' + out + ' outside';
}
window.addEventListener('load', () => {
  const get = id => document.getElementById(id).contentDocument;
  const p = get('porcupine');
  document.getElementById('result').textContent =
    'COMPARE ' + outside(get('compare')) + '\nQUANTILES ' + outside(get('quantiles')) +
    '\nPORCUPINE ' + (p.querySelector('#canvas svg') ? 'drawn: ' : 'not drawn: ') + p.getElementById('canvas').textContent;
});
</script></body></html>`

func TestChromiumRendersTheNewViews(t *testing.T) {
	bin, r := chromiumAndReport(t)
	a := map[string]runs.Quantiles{"latency read": {0: 1, 0.5: 4, 0.95: 9, 0.99: 12, 1: 30}, "dissemination": {0: 0, 0.5: 0, 0.95: 60, 0.99: 80, 1: 92}}
	b := map[string]runs.Quantiles{"latency read": {0: 1, 0.5: 3, 0.95: 7, 0.99: 10, 1: 22}}
	if err := os.WriteFile(filepath.Join(r.dir, "compare.svg"), CompareSVG("run a", "run b", a, b), 0o644); err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	stale := history.History{
		{Type: history.Invoke, Process: 0, F: "write", Value: []any{0, 3}, Time: 0},
		{Type: history.OK, Process: 0, F: "write", Value: []any{0, 3}, Time: 10},
		{Type: history.Invoke, Process: 0, F: "write", Value: []any{0, 4}, Time: 20},
		{Type: history.OK, Process: 0, F: "write", Value: []any{0, 4}, Time: 30},
		{Type: history.Invoke, Process: 1, F: "read", Value: []any{0, nil}, Time: 40},
		{Type: history.OK, Process: 1, F: "read", Value: []any{0, 3}, Time: 50},
	}
	if n, err := linkv.Visualize(stale, &page); n != 1 || err != nil {
		t.Fatalf("Visualize: %d %v", n, err)
	}
	os.WriteFile(filepath.Join(r.dir, store.LinearizabilityName), page.Bytes(), 0o644)
	check := filepath.Join(r.dir, "view-check.html")
	os.WriteFile(check, []byte(viewCheckPage), 0o644)

	dom := runChromium(t, bin, "--allow-file-access-from-files", "--dump-dom", "file://"+check)
	for _, want := range []string{"COMPARE 15 points, 0 outside", "QUANTILES ", "PORCUPINE drawn: ", "key 0: read → 3"} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered views lack %q:\n%s", want, dom[strings.Index(dom, "<pre"):])
		}
	}
	if !strings.Contains(dom, "QUANTILES ") || strings.Contains(dom, "QUANTILES 0 points") || !strings.Contains(dom[strings.Index(dom, "QUANTILES"):], " 0 outside") {
		t.Errorf("quantile plot points outside the frame:\n%s", dom[strings.Index(dom, "<pre"):])
	}
}
