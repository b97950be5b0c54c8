package report

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/glomers/glomers/tools/workbench/runs"
)

// seriesColour gives each latency series of the compare plot its own
// colour; run A is drawn solid with circles, run B dashed with squares.
var seriesColour = []string{"#2f7ed8", "#e0245e", "#1b9e77", "#f0a30a", "#7b3fb5", "#6b7280"}

// CompareSVG overlays the latency quantile curves of two runs: x is the
// quantile (p0, p50, p95, p99, max, evenly spaced), y the latency in ms.
func CompareSVG(nameA, nameB string, a, b map[string]runs.Quantiles) []byte {
	names := map[string]bool{}
	top := 0.0
	for _, m := range []map[string]runs.Quantiles{a, b} {
		for n, qs := range m {
			names[n] = true
			for _, v := range qs {
				top = math.Max(top, v)
			}
		}
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	xs := runs.QuantilePoints
	// Room above the highest point, below zero and a third of a step
	// either side keep every marker inside the frame.
	yMin, yMax := padLinear(0, math.Max(top, 1))
	p := newPlot("Latency quantiles: A solid, B dashed", "quantile", "latency (ms)", -0.3, float64(len(xs)-1)+0.3, yMin, yMax, false)
	p.xTicks = map[float64]string{}
	for i, q := range xs {
		p.xTicks[float64(i)] = map[float64]string{0: "min", 1: "max"}[q]
		if p.xTicks[float64(i)] == "" {
			p.xTicks[float64(i)] = fmt.Sprintf("p%g", q*100)
		}
	}
	p.axes()
	if len(sorted) == 0 {
		p.message("neither run has latencies")
	}
	for i, n := range sorted {
		colour := seriesColour[i%len(seriesColour)]
		for side, m := range []map[string]runs.Quantiles{a, b} {
			qs, ok := m[n]
			if !ok {
				continue
			}
			dash, mark := "", "m0"
			if side == 1 {
				dash, mark = ` stroke-dasharray="6 4"`, "m1"
			}
			var pts []string
			for x, q := range xs {
				if v, ok := qs[q]; ok {
					pts = append(pts, fmt.Sprintf("%.1f,%.1f", p.px(float64(x)), p.py(v)))
				}
			}
			fmt.Fprintf(&p.b, `<polyline class="series" data-run="%s" data-series="%s" fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`+"\n",
				[]string{"A", "B"}[side], esc(n), colour, dash, strings.Join(pts, " "))
			for _, pt := range pts {
				xy := strings.Split(pt, ",")
				fmt.Fprintf(&p.b, `<use class="point" href="#%s" x="%s" y="%s" fill="%s"/>`, mark, xy[0], xy[1], colour)
			}
			p.b.WriteString("\n")
		}
		p.legend(n, fmt.Sprintf(`<line x1="-7" x2="7" stroke="%s" stroke-width="3"/>`, colour))
	}
	p.legend("A: "+shorten(nameA, 24), `<line x1="-7" x2="7" stroke="#333" stroke-width="2"/><use href="#m0" fill="#333"/>`)
	p.legend("B: "+shorten(nameB, 24), `<line x1="-7" x2="7" stroke="#333" stroke-width="2" stroke-dasharray="4 3"/><use href="#m1" fill="#333"/>`)
	return p.finish()
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "…" + string(r[len(r)-n+1:])
}
