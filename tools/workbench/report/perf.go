package report

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
)

// completion is one client operation that finished: what the latency and
// rate plots are drawn from.
type completion struct {
	f        string
	typ      history.Type
	invoke   float64 // seconds since the test started
	complete float64 // seconds
}

func (c completion) latencyMS() float64 { return (c.complete - c.invoke) * 1000 }

// perfData is everything the three performance plots need, gathered once.
type perfData struct {
	ops        []completion
	fs         []string     // sorted; index = marker shape
	end        float64      // seconds; the last op's time
	partitions [][2]float64 // seconds; when the nemesis had the network cut
}

func gatherPerf(h history.History) perfData {
	var d perfData
	seen := map[string]bool{}
	for _, p := range h.Pairs() {
		if p.Completion == nil {
			continue
		}
		c := completion{
			f:        p.Invoke.F,
			typ:      p.Completion.Type,
			invoke:   seconds(p.Invoke.Time),
			complete: seconds(p.Completion.Time),
		}
		d.ops = append(d.ops, c)
		if !seen[c.f] {
			seen[c.f] = true
			d.fs = append(d.fs, c.f)
		}
	}
	sort.Strings(d.fs)
	for _, op := range h {
		d.end = math.Max(d.end, seconds(op.Time))
	}
	d.partitions = partitionSpans(h, d.end)
	return d
}

func seconds(ns int64) float64 { return float64(ns) / 1e9 }

// partitionSpans reads the nemesis's operations: a start-partition opens a
// span, the next stop-partition closes it; a span still open at the end
// runs to the end of the run.
func partitionSpans(h history.History, end float64) [][2]float64 {
	var spans [][2]float64
	open := -1.0
	for _, op := range h {
		if op.IsClient() {
			continue
		}
		t := seconds(op.Time)
		switch op.F {
		case "start-partition":
			if open < 0 {
				open = t
			}
		case "stop-partition":
			if open >= 0 && op.Type != history.Invoke {
				spans = append(spans, [2]float64{open, t})
				open = -1
			}
		}
	}
	if open >= 0 {
		spans = append(spans, [2]float64{open, end})
	}
	return spans
}

func (d perfData) markerOf(f string) string {
	i, _ := slices.BinarySearch(d.fs, f)
	return marker(i)
}

// shadePartitions draws the partition spans and their legend entry.
func (d perfData) shadePartitions(p *plot) {
	for _, s := range d.partitions {
		p.shade(s[0], s[1], "#ececec")
	}
	if len(d.partitions) > 0 {
		p.legend("partition", `<rect x="-5" y="-5" width="10" height="10" fill="#ececec" stroke="#ccc"/>`)
	}
}

var completionTypes = []history.Type{history.OK, history.Info, history.Fail}

// latencyRaw plots every completed op: when it was invoked against how long
// it took, coloured by outcome, shaped by f.
func latencyRaw(d perfData) []byte {
	lo, hi := math.Inf(1), 0.0
	for _, c := range d.ops {
		l := math.Max(c.latencyMS(), 0.001)
		lo, hi = math.Min(lo, l), math.Max(hi, l)
	}
	if len(d.ops) == 0 {
		lo, hi = 1, 1000
	}
	yMin, yMax := padLog(logRange(lo, hi))
	xMin, xMax := padLinear(0, math.Max(d.end, 1))
	p := newPlot("Latency (every operation)", "time (s)", "latency (ms)", xMin, xMax, yMin, yMax, true)
	d.shadePartitions(p)
	p.axes()
	if len(d.ops) == 0 {
		p.message("no completed operations")
	}
	for _, typ := range completionTypes {
		for _, f := range d.fs {
			n := 0
			for _, c := range d.ops {
				if c.typ != typ || c.f != f {
					continue
				}
				if n == 0 {
					fmt.Fprintf(&p.b, `<g class="points" data-f="%s" data-type="%s" fill="%s" fill-opacity="0.75">`, esc(f), typ, typeColour[string(typ)])
				}
				fmt.Fprintf(&p.b, `<use href="#%s" x="%.1f" y="%.1f"/>`, d.markerOf(f), p.px(c.invoke), p.py(math.Max(c.latencyMS(), 0.001)))
				n++
			}
			if n > 0 {
				p.b.WriteString("</g>\n")
				p.legend(fmt.Sprintf("%s %s (%d)", f, typ, n), fmt.Sprintf(`<use href="#%s" fill="%s"/>`, d.markerOf(f), typeColour[string(typ)]))
			}
		}
	}
	return p.finish()
}

// window picks a bucket width for time series: round, and giving at most
// about 30 buckets over the run, so that low-rate runs (10 ops/s) still
// have a few ops per bucket.
func window(end float64) float64 {
	for _, w := range []float64{0.5, 1, 2, 5, 10, 30, 60} {
		if end/w <= 30 {
			return w
		}
	}
	return 120
}

// windowMid is the middle of the i-th window, the last one cut off at the
// end of the run, so that its point stays inside the plot.
func (d perfData) windowMid(i int, w float64) float64 {
	lo := float64(i) * w
	return (lo + math.Max(lo, math.Min(lo+w, d.end))) / 2
}

// Quantiles drawn on the quantile plot.
var plotQuantiles = []float64{0.5, 0.95, 0.99, 1}

// latencyQuantiles plots, per time window and f, the latency quantiles of
// the ops invoked in that window.
func latencyQuantiles(d perfData) []byte {
	w := window(d.end)
	type key struct {
		f      string
		bucket int
	}
	buckets := map[key][]float64{}
	for _, c := range d.ops {
		k := key{c.f, int(c.invoke / w)}
		buckets[k] = append(buckets[k], math.Max(c.latencyMS(), 0.001))
	}
	lo, hi := math.Inf(1), 0.0
	for _, ls := range buckets {
		sort.Float64s(ls)
		lo, hi = math.Min(lo, ls[0]), math.Max(hi, ls[len(ls)-1])
	}
	if len(buckets) == 0 {
		lo, hi = 1, 1000
	}
	yMin, yMax := padLog(logRange(lo, hi))
	xMin, xMax := padLinear(0, math.Max(d.end, 1))
	p := newPlot(fmt.Sprintf("Latency quantiles (%gs windows)", w), "time (s)", "latency (ms)", xMin, xMax, yMin, yMax, true)
	d.shadePartitions(p)
	p.axes()
	if len(d.ops) == 0 {
		p.message("no completed operations")
	}
	nBuckets := int(d.end/w) + 1
	// Highest quantile first and widest, each lower one narrower on top:
	// where quantiles coincide (few ops in a window) the lines show as
	// nested stripes of every colour instead of q1 hiding the rest.
	for qi := len(plotQuantiles) - 1; qi >= 0; qi-- {
		q := plotQuantiles[qi]
		for _, f := range d.fs {
			var pts [][2]float64
			for i := 0; i < nBuckets; i++ {
				ls := buckets[key{f, i}]
				if len(ls) == 0 {
					continue
				}
				pts = append(pts, [2]float64{d.windowMid(i, w), checker.Quantile(ls, q)})
			}
			if len(pts) == 0 {
				continue
			}
			p.series(pts, w*1.5, quantileColour[q], 1.6+1.4*float64(qi), d.markerOf(f), fmt.Sprintf(`data-f="%s" data-quantile="%g"`, esc(f), q))
			p.legend(fmt.Sprintf("%s q%g", f, q), fmt.Sprintf(`<line x1="-7" x2="7" stroke="%s" stroke-width="2"/><use href="#%s" fill="%s"/>`, quantileColour[q], d.markerOf(f), quantileColour[q]))
		}
	}
	return p.finish()
}

// rate plots completions per second in each window, per f and outcome.
func rate(d perfData) []byte {
	w := window(d.end)
	type key struct {
		f      string
		typ    history.Type
		bucket int
	}
	counts := map[key]int{}
	for _, c := range d.ops {
		counts[key{c.f, c.typ, int(c.complete / w)}]++
	}
	hi := 0.0
	for k, n := range counts {
		span := math.Min(w, d.end-float64(k.bucket)*w)
		if span >= w/4 {
			hi = math.Max(hi, float64(n)/span)
		}
	}
	if hi == 0 {
		hi = 1
	}
	xMin, xMax := padLinear(0, math.Max(d.end, 1))
	yMin, yMax := padLinear(0, hi)
	p := newPlot(fmt.Sprintf("Throughput (%gs windows)", w), "time (s)", "operations per second", xMin, xMax, yMin, yMax, false)
	d.shadePartitions(p)
	p.axes()
	if len(d.ops) == 0 {
		p.message("no completed operations")
	}
	nBuckets := int(d.end/w) + 1
	for _, typ := range completionTypes {
		for _, f := range d.fs {
			total := 0
			var pts [][2]float64
			for i := 0; i < nBuckets; i++ {
				n := counts[key{f, typ, i}]
				total += n
				// The last window is cut short by the end of the run;
				// divide by the time it covers, and leave out a sliver
				// too short to say anything.
				span := math.Min(w, d.end-float64(i)*w)
				if span < w/4 {
					continue
				}
				pts = append(pts, [2]float64{d.windowMid(i, w), float64(n) / span})
			}
			if total == 0 || len(pts) == 0 {
				continue
			}
			colour := typeColour[string(typ)]
			p.series(pts, w*1.5, colour, 1.6, d.markerOf(f), fmt.Sprintf(`data-f="%s" data-type="%s"`, esc(f), typ))
			p.legend(fmt.Sprintf("%s %s", f, typ), fmt.Sprintf(`<line x1="-7" x2="7" stroke="%s" stroke-width="2"/><use href="#%s" fill="%s"/>`, colour, d.markerOf(f), colour))
		}
	}
	return p.finish()
}

// series draws a line through pts with a marker on each point. Points
// further apart than gap (in x) are not joined: a window without
// operations has no latency, and a line across it would invent some.
func (p *plot) series(pts [][2]float64, gap float64, colour string, width float64, markerID, attrs string) {
	fmt.Fprintf(&p.b, `<g class="series" %s><path fill="none" stroke="%s" stroke-width="%g" stroke-linejoin="round" d="`, attrs, colour, width)
	for i, pt := range pts {
		cmd := "L"
		if i == 0 || pt[0]-pts[i-1][0] > gap {
			cmd = "M"
		}
		fmt.Fprintf(&p.b, "%s%.1f,%.1f", cmd, p.px(pt[0]), p.py(pt[1]))
	}
	fmt.Fprintf(&p.b, `"/><g fill="%s">`, colour)
	for _, pt := range pts {
		fmt.Fprintf(&p.b, `<use href="#%s" x="%.1f" y="%.1f"/>`, markerID, p.px(pt[0]), p.py(pt[1]))
	}
	p.b.WriteString("</g></g>\n")
}

// padLinear widens [lo, hi] by 3% each side, so that points at the
// extremes (the first op, the final reads at the end, a rate of zero) are
// drawn inside the frame rather than on it.
func padLinear(lo, hi float64) (float64, float64) {
	pad := (hi - lo) * 0.03
	if pad <= 0 {
		pad = 1
	}
	return lo - pad, hi + pad
}

// padLog is padLinear for a log axis: a factor of 1.4 each side.
func padLog(lo, hi float64) (float64, float64) { return lo / 1.4, hi * 1.4 }
