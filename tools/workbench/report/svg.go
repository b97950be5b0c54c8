package report

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strconv"
	"strings"
)

// The plots are hand-written SVG so that a run's report needs nothing but
// the workbench binary (Maelstrom shells out to gnuplot). A plot is a
// rectangle of data space mapped onto pixels, with axes, an optional
// log-scaled y axis and a legend on the right.

const (
	plotWidth   = 960.0
	plotHeight  = 420.0
	marginLeft  = 70.0
	marginRight = 190.0 // room for the legend
	marginTop   = 40.0
	marginBot   = 50.0
)

// Colours by completion type, as in Jepsen's plots (ok calm, info amber,
// fail loud) so the eye finds trouble first.
var typeColour = map[string]string{
	"ok":   "#2f7ed8",
	"info": "#f0a30a",
	"fail": "#e0245e",
}

// Colours for quantile lines, from the median (cool) to the maximum (hot).
var quantileColour = map[float64]string{
	0.5:  "#2f7ed8",
	0.95: "#1b9e77",
	0.99: "#f0a30a",
	1:    "#e0245e",
}

// markerShapes are path data centred on 0,0, one per operation f, so f is
// told apart by shape and the completion type by colour.
var markerShapes = []string{
	"M-3.2,0a3.2,3.2 0 1,0 6.4,0a3.2,3.2 0 1,0 -6.4,0Z", // circle
	"M-3,-3h6v6h-6Z",        // square
	"M0,-3.8L3.6,2.8H-3.6Z", // triangle
	"M0,-4L4,0L0,4L-4,0Z",   // diamond
	"M0,3.8L3.6,-2.8H-3.6Z", // triangle down
	"M-1.2,-4h2.4v2.8h2.8v2.4h-2.8v2.8h-2.4v-2.8h-2.8v-2.4h2.8Z", // plus
}

// markerDefs declares one reusable marker per shape.
func markerDefs(b *strings.Builder) {
	b.WriteString("<defs>")
	for i, d := range markerShapes {
		fmt.Fprintf(b, `<path id="m%d" d="%s"/>`, i, d)
	}
	b.WriteString("</defs>\n")
}

// marker returns the id of the marker shape for the i-th f.
func marker(i int) string { return "m" + strconv.Itoa(i%len(markerShapes)) }

// plot maps data coordinates to pixels inside the plot area.
type plot struct {
	b             strings.Builder
	xMin, xMax    float64
	yMin, yMax    float64
	logY          bool
	legendRows    int
	title, xl, yl string
	// xTicks, when set, replaces the numeric x ticks with labelled ones
	// (the compare plot's quantile axis).
	xTicks        map[float64]string
	width, height float64
	areaW, areaH  float64
}

func newPlot(title, xLabel, yLabel string, xMin, xMax, yMin, yMax float64, logY bool) *plot {
	if xMax <= xMin {
		xMax = xMin + 1
	}
	if yMax <= yMin {
		yMax = yMin + 1
	}
	p := &plot{
		xMin: xMin, xMax: xMax, yMin: yMin, yMax: yMax, logY: logY,
		title: title, xl: xLabel, yl: yLabel,
		width: plotWidth, height: plotHeight,
	}
	p.areaW = p.width - marginLeft - marginRight
	p.areaH = p.height - marginTop - marginBot
	fmt.Fprintf(&p.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`+"\n",
		p.width, p.height, p.width, p.height)
	fmt.Fprintf(&p.b, "<title>%s</title>\n", esc(title))
	markerDefs(&p.b)
	fmt.Fprintf(&p.b, `<rect width="%g" height="%g" fill="#ffffff"/>`+"\n", p.width, p.height)
	fmt.Fprintf(&p.b, `<text x="%g" y="24" font-size="15" font-weight="600" fill="#222">%s</text>`+"\n", marginLeft, esc(title))
	return p
}

func (p *plot) px(x float64) float64 {
	return marginLeft + (x-p.xMin)/(p.xMax-p.xMin)*p.areaW
}

func (p *plot) py(y float64) float64 {
	if p.logY {
		lo, hi := math.Log10(p.yMin), math.Log10(p.yMax)
		if y < p.yMin {
			y = p.yMin
		}
		return marginTop + p.areaH - (math.Log10(y)-lo)/(hi-lo)*p.areaH
	}
	return marginTop + p.areaH - (y-p.yMin)/(p.yMax-p.yMin)*p.areaH
}

// shade draws a background band over [x0, x1], e.g. a partition.
func (p *plot) shade(x0, x1 float64, colour string) {
	x0 = math.Max(x0, p.xMin)
	x1 = math.Min(x1, p.xMax)
	if x1 <= x0 {
		return
	}
	fmt.Fprintf(&p.b, `<rect class="shade" x="%.1f" y="%g" width="%.1f" height="%g" fill="%s"/>`+"\n",
		p.px(x0), marginTop, p.px(x1)-p.px(x0), p.areaH, colour)
}

// axes draws the frame, grid lines, tick labels and axis titles.
func (p *plot) axes() {
	b := &p.b
	xt := linearTicks(p.xMin, p.xMax, 10)
	xLabel := fmtNum
	if p.xTicks != nil {
		xt = xt[:0]
		for t := range p.xTicks {
			xt = append(xt, t)
		}
		sort.Float64s(xt)
		xLabel = func(t float64) string { return p.xTicks[t] }
	}
	b.WriteString(`<g class="axes" stroke="#d8d8d8" stroke-width="1">` + "\n")
	for _, t := range xt {
		x := p.px(t)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%g"/>`, x, marginTop, x, marginTop+p.areaH)
	}
	var yt []float64
	if p.logY {
		yt = logTicks(p.yMin, p.yMax)
	} else {
		yt = linearTicks(p.yMin, p.yMax, 6)
	}
	for _, t := range yt {
		y := p.py(t)
		fmt.Fprintf(b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f"/>`, marginLeft, y, marginLeft+p.areaW, y)
	}
	b.WriteString("</g>\n")
	fmt.Fprintf(b, `<rect x="%g" y="%g" width="%g" height="%g" fill="none" stroke="#888"/>`+"\n", marginLeft, marginTop, p.areaW, p.areaH)
	b.WriteString(`<g class="ticks" fill="#444">` + "\n")
	for _, t := range xt {
		fmt.Fprintf(b, `<text x="%.1f" y="%g" text-anchor="middle">%s</text>`, p.px(t), marginTop+p.areaH+16, esc(xLabel(t)))
	}
	for _, t := range yt {
		fmt.Fprintf(b, `<text x="%g" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`, marginLeft-6, p.py(t), fmtNum(t))
	}
	b.WriteString("</g>\n")
	fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="middle" fill="#222">%s</text>`+"\n", marginLeft+p.areaW/2, p.height-12, esc(p.xl))
	fmt.Fprintf(b, `<text transform="translate(18 %g) rotate(-90)" text-anchor="middle" fill="#222">%s</text>`+"\n", marginTop+p.areaH/2, esc(p.yl))
}

// legend adds one entry; swatch is SVG drawn centred at the origin.
func (p *plot) legend(label, swatch string) {
	x := marginLeft + p.areaW + 18
	y := marginTop + 8 + float64(p.legendRows)*18
	fmt.Fprintf(&p.b, `<g class="legend" transform="translate(%g %g)">%s<text x="14" y="4" fill="#333">%s</text></g>`+"\n", x, y, swatch, esc(label))
	p.legendRows++
}

// message writes a note in the middle of the plot area (e.g. "no operations").
func (p *plot) message(text string) {
	fmt.Fprintf(&p.b, `<text x="%g" y="%g" text-anchor="middle" fill="#888" font-size="14">%s</text>`+"\n",
		marginLeft+p.areaW/2, marginTop+p.areaH/2, esc(text))
}

func (p *plot) finish() []byte {
	p.b.WriteString("</svg>\n")
	return []byte(p.b.String())
}

// linearTicks returns about n round tick values covering [lo, hi].
func linearTicks(lo, hi float64, n int) []float64 {
	if hi <= lo || n < 1 {
		return []float64{lo}
	}
	step := niceStep((hi - lo) / float64(n))
	var ticks []float64
	for t := math.Ceil(lo/step) * step; t <= hi+step*1e-9; t += step {
		// Snap away float noise such as 0.30000000000000004.
		ticks = append(ticks, math.Round(t/step)*step)
	}
	return ticks
}

// niceStep rounds a raw step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*mag {
			return m * mag
		}
	}
	return 10 * mag
}

// logTicks returns the powers of ten in [lo, hi], plus 2× and 5× ticks
// when the range spans few decades.
func logTicks(lo, hi float64) []float64 {
	var ticks []float64
	decades := math.Log10(hi) - math.Log10(lo)
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		base := math.Pow(10, e)
		mults := []float64{1}
		if decades <= 3 {
			mults = []float64{1, 2, 5}
		}
		for _, m := range mults {
			t := base * m
			if t >= lo*(1-1e-9) && t <= hi*(1+1e-9) {
				ticks = append(ticks, t)
			}
		}
	}
	return ticks
}

// logRange widens [lo, hi] to whole decades, for a log axis.
func logRange(lo, hi float64) (float64, float64) {
	if lo <= 0 {
		lo = 0.001
	}
	if hi < lo {
		hi = lo
	}
	l := math.Pow(10, math.Floor(math.Log10(lo)))
	h := math.Pow(10, math.Ceil(math.Log10(hi)))
	if h <= l {
		h = l * 10
	}
	return l, h
}

func fmtNum(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e9 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func esc(s string) string { return html.EscapeString(s) }
