package report

import (
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// findChromium returns a headless-capable browser, or "" when none is
// installed (the test then skips; the pure-Go tests still cover links and
// plot contents).
func findChromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// runChromium runs a headless browser with flags that keep it off the
// network and out of the user's profile.
func runChromium(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir(),
	}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return string(out)
}

// renderCheckPage loads index.html in a frame and, once everything has
// loaded, writes into its own DOM (which --dump-dom prints) the frame's
// text and the natural width of every image index.html shows. A width of 0
// means the browser could not render that SVG.
const renderCheckPage = `<!DOCTYPE html><html><body>
<iframe id="report" src="index.html" width="1200" height="800"></iframe>
<pre id="result">not loaded</pre>
<script>
window.addEventListener('load', () => {
  const doc = document.getElementById('report').contentDocument;
  const out = document.getElementById('result');
  if (!doc) { out.textContent = 'no access to the frame'; return; }
  out.textContent = 'TEXT ' + doc.body.innerText.replace(/\s+/g, ' ') + '\nIMAGES ' +
    Array.from(doc.images).map(i => i.getAttribute('src') + '=' + (i.complete ? i.naturalWidth : 0)).join(' ');
});
</script></body></html>`

// chromiumAndReport finds the browser (skipping the test without one, or
// with -short) and writes a valid synthetic run's report to look at.
func chromiumAndReport(t *testing.T) (string, syntheticRun) {
	t.Helper()
	bin := findChromium()
	if bin == "" {
		t.Skip("chromium is not installed")
	}
	if testing.Short() {
		t.Skip("starts a browser")
	}
	r := newSyntheticRun(t, true)
	if err := Write(r.dir, r.h, r.journal, r.results); err != nil {
		t.Fatal(err)
	}
	return bin, r
}

func TestChromiumRendersReport(t *testing.T) {
	bin, r := chromiumAndReport(t)
	index := "file://" + filepath.Join(r.dir, IndexFile)

	check := filepath.Join(r.dir, "render-check.html")
	if err := os.WriteFile(check, []byte(renderCheckPage), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := runChromium(t, bin, "--allow-file-access-from-files", "--dump-dom", "file://"+check)
	for _, want := range []string{"Everything looks good", "Performance", "Messages", "node-logs/n1.log", "stable-latencies.0.5 120"} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered index.html lacks %q; dump:\n%s", want, dom)
		}
	}
	for _, s := range []string{LatencyRawFile, LatencyQuantilesFile, RateFile, MessagesFile} {
		m := regexp.MustCompile(regexp.QuoteMeta(s) + `=(\d+)`).FindStringSubmatch(dom)
		if m == nil || m[1] == "0" {
			t.Errorf("chromium did not render %s as shown by index.html (dump: %s)", s, dom)
		}
	}

	shot := filepath.Join(t.TempDir(), "index.png")
	runChromium(t, bin, "--screenshot="+shot, "--window-size=1280,2400", "--hide-scrollbars", index)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	// A blank or failed page is one or two colours; a report with a green
	// banner, plots and text has many.
	colours := map[uint32]bool{}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 3 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 3 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[r>>8<<16|g>>8<<8|b>>8] = true
		}
	}
	if len(colours) < 50 {
		t.Errorf("screenshot has only %d colours; the page did not render", len(colours))
	}
	if dst := os.Getenv("REPORT_SCREENSHOT"); dst != "" {
		// For a person to look at: REPORT_SCREENSHOT=/tmp/x.png go test -run Chromium
		if b, err := os.ReadFile(shot); err == nil {
			_ = os.WriteFile(dst, b, 0o644)
		}
	}
}
