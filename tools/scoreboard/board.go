package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/glomers/glomers/tools/flyio"
	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/store"
)

// Status is a row's overall outcome.
const (
	StatusPass    = "PASS"    // valid and every target met
	StatusMissed  = "MISSED"  // valid, but a numeric target was missed
	StatusInvalid = "INVALID" // the checkers found a problem
	StatusUnknown = "UNKNOWN" // the checkers could not decide
	StatusError   = "ERROR"   // the run crashed or left no results
	StatusSkipped = "SKIPPED" // no binary was given for it
)

// Row is one challenge's line on the scoreboard and its entry in
// scoreboard.json.
type Row struct {
	// Suite is the table's: flyio (Fly.io's series) or maelstrom
	// (Maelstrom's own workloads); each has its section.
	Suite    string   `json:"suite"`
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Workload string   `json:"workload"`
	Command  string   `json:"command"`
	Env      []string `json:"env,omitempty"`
	// Verdict is results.json's valid?: valid, invalid or unknown ("" if
	// there were no results).
	Verdict      string        `json:"verdict"`
	Status       string        `json:"status"`
	Reason       string        `json:"reason,omitempty"`
	ExitCode     int           `json:"exit_code"`
	Operations   *int64        `json:"operations,omitempty"`
	Availability *float64      `json:"availability,omitempty"`
	MsgsPerOp    *float64      `json:"msgs_per_op,omitempty"` // :net :servers :msgs-per-op
	LatencyKind  string        `json:"latency_kind"`          // stable or op
	P50MS        *float64      `json:"latency_p50_ms,omitempty"`
	MaxMS        *float64      `json:"latency_max_ms,omitempty"`
	Targets      []TargetCheck `json:"targets,omitempty"`
	// Broadcast (3a–3e) is what a broadcast's writer and readers see:
	// nil for other workloads.
	Broadcast   *BroadcastLatencies `json:"broadcast,omitempty"`
	FirstErrors []string            `json:"first_errors,omitempty"`
	RunDir      string              `json:"run_dir,omitempty"` // relative to scoreboard.json
	Links       []Link              `json:"links,omitempty"`
	WallSeconds float64             `json:"wall_seconds"`
	// CPUSeconds is the user and system time of the workbench and its
	// nodes: divided by WallSeconds, the cores the run kept busy (what
	// tools/flyio's cpu figures are taken from).
	CPUSeconds float64 `json:"cpu_seconds"`
}

// BroadcastLatencies are a broadcast run's three latencies, median and
// max in ms: the broadcast operation's own (how long a writer is
// blocked), Maelstrom's stable latency (from the value's acknowledgement
// to the last read that missed it), and the dissemination latency (from
// the broadcast's invocation to that read: how soon everyone sees it,
// whenever the node chose to acknowledge).
type BroadcastLatencies struct {
	OKP50MS            *float64 `json:"ok_p50_ms,omitempty"`
	OKMaxMS            *float64 `json:"ok_max_ms,omitempty"`
	StableP50MS        *float64 `json:"stable_p50_ms,omitempty"`
	StableMaxMS        *float64 `json:"stable_max_ms,omitempty"`
	DisseminationP50MS *float64 `json:"dissemination_p50_ms,omitempty"`
	DisseminationMaxMS *float64 `json:"dissemination_max_ms,omitempty"`
}

// Link is a file of the run worth opening, relative to the scoreboard.
type Link struct {
	Name string `json:"name"`
	Href string `json:"href"`
}

// Board is scoreboard.json.
type Board struct {
	Generated   time.Time `json:"generated"`
	Quick       bool      `json:"quick"`
	WallSeconds float64   `json:"wall_seconds"`
	OK          bool      `json:"ok"`
	Rows        []Row     `json:"rows"`
}

// results is the part of results.json the scoreboard reads.
type results map[string]any

func loadResults(dir string) (results, error) {
	b, err := os.ReadFile(filepath.Join(dir, store.ResultsName))
	if err != nil {
		return nil, err
	}
	var r results
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&r); err != nil {
		return nil, fmt.Errorf("results.json: %w", err)
	}
	return r, nil
}

// lookup walks nested maps.
func (r results) lookup(keys ...string) any {
	var v any = map[string]any(r)
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func (r results) float(keys ...string) *float64 {
	f, ok := history.Float(r.lookup(keys...))
	if !ok || math.IsNaN(f) {
		return nil
	}
	return &f
}

// quantile reads a quantile map entry; JSON keys may be "1" or "1.0".
func (r results) quantile(q float64, keys ...string) *float64 {
	m, ok := r.lookup(keys...).(map[string]any)
	if !ok {
		return nil
	}
	for k, v := range m {
		kf, err := strconv.ParseFloat(k, 64)
		if err != nil || kf != q {
			continue
		}
		if f, ok := history.Float(v); ok {
			return &f
		}
	}
	return nil
}

func verdictOf(v any) string {
	switch v {
	case true:
		return "valid"
	case false:
		return "invalid"
	case nil:
		return ""
	}
	return "unknown"
}

// opLatencies reads history.json and returns the latencies (ms) of the
// ok client operations, sorted.
func opLatencies(dir string) ([]float64, error) {
	h, err := store.LoadHistory(dir, 0)
	if err != nil {
		return nil, err
	}
	var ls []float64
	for _, p := range h.Pairs() {
		if p.Completion != nil && p.Completion.Type == history.OK {
			ls = append(ls, float64(p.Completion.Time-p.Invoke.Time)/1e6)
		}
	}
	sort.Float64s(ls)
	return ls, nil
}

// fillRow reads a finished run's directory into row and decides its status.
func fillRow(row *Row, c Challenge, runDir string) {
	row.LatencyKind = c.Latency
	res, err := loadResults(runDir)
	if err != nil {
		row.Status, row.Reason = StatusError, "no results: "+err.Error()
		return
	}
	row.Verdict = verdictOf(res["valid?"])
	row.Availability = res.float("availability", "ok-fraction")
	row.MsgsPerOp = res.float("net", "servers", "msgs-per-op")
	if n := res.float("stats", "count"); n != nil {
		i := int64(*n)
		row.Operations = &i
	}
	if c.Latency == "stable" {
		row.P50MS = res.quantile(0.5, "workload", "stable-latencies")
		row.MaxMS = res.quantile(1, "workload", "stable-latencies")
	} else if ls, err := opLatencies(runDir); err == nil && len(ls) > 0 {
		p50, mx := checker.Quantile(ls, 0.5), checker.Quantile(ls, 1)
		row.P50MS, row.MaxMS = &p50, &mx
	}
	if c.Workload == "broadcast" {
		row.Broadcast = &BroadcastLatencies{
			OKP50MS:            res.quantile(0.5, "perf", "latencies", "broadcast"),
			OKMaxMS:            res.quantile(1, "perf", "latencies", "broadcast"),
			StableP50MS:        res.quantile(0.5, "workload", "stable-latencies"),
			StableMaxMS:        res.quantile(1, "workload", "stable-latencies"),
			DisseminationP50MS: res.quantile(0.5, "workload", "dissemination-latencies"),
			DisseminationMaxMS: res.quantile(1, "workload", "dissemination-latencies"),
		}
	}
	for _, k := range []string{"workload", "stats", "availability", "net"} {
		if fe, ok := res.lookup(k, "first-error").(string); ok && fe != "" {
			row.FirstErrors = append(row.FirstErrors, k+": "+fe)
		}
	}
	row.Targets = flyio.Check(c.Targets, flyio.Figures{
		MsgsPerOp: row.MsgsPerOp, Availability: row.Availability, P50MS: row.P50MS, MaxMS: row.MaxMS})
	row.Status = status(row)
}

func status(row *Row) string {
	switch row.Verdict {
	case "invalid":
		return StatusInvalid
	case "unknown":
		return StatusUnknown
	case "":
		return StatusError
	}
	for _, t := range row.Targets {
		if !t.Met {
			return StatusMissed
		}
	}
	return StatusPass
}

// runLinks lists the run's report, plots and results that exist, relative
// to the scoreboard's directory.
func runLinks(outDir, runDir string) []Link {
	var links []Link
	for _, f := range []struct{ name, file string }{
		{"report", store.IndexName},
		{"latency", "latency-raw.svg"},
		{"quantiles", "latency-quantiles.svg"},
		{"rate", "rate.svg"},
		{"messages", store.MessagesName},
		{"results", store.ResultsEDNName},
		{"history", store.HistoryTextName},
	} {
		p := filepath.Join(runDir, f.file)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		links = append(links, Link{Name: f.name, Href: relHref(outDir, p)})
	}
	return links
}

// relHref is path relative to dir, as a URL path.
func relHref(dir, path string) string {
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		rel = path
	}
	parts := strings.Split(filepath.ToSlash(rel), "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

func optFloat(f *float64, prec int) string {
	if f == nil {
		return "—"
	}
	return strconv.FormatFloat(*f, 'f', prec, 64)
}

// optMS formats a latency: a decimal below 10 ms, where whole
// milliseconds would round fast operations to 0.
func optMS(f *float64) string {
	if f != nil && *f < 10 {
		return optFloat(f, 1)
	}
	return optFloat(f, 0)
}

func optInt(i *int64) string {
	if i == nil {
		return "—"
	}
	return strconv.FormatInt(*i, 10)
}

func verdictText(v string) string {
	if v == "" {
		return "—"
	}
	return v
}

// targetsText is e.g. "msgs/op<30 ✓  p50<400ms ✗".
func targetsText(ts []TargetCheck) string {
	if len(ts) == 0 {
		return "valid"
	}
	var parts []string
	for _, t := range ts {
		mark := "✓"
		if !t.Met {
			mark = "✗"
		}
		parts = append(parts, t.Text+" "+mark)
	}
	return strings.Join(parts, "  ")
}

// Section is one suite's rows, in the table's order.
type Section struct {
	Suite, Title string
	Rows         []Row
}

// Sections splits rows by suite: Fly.io's first, then Maelstrom's own
// workloads; a suite with no rows has no section.
func Sections(rows []Row) []Section {
	var out []Section
	for _, suite := range []string{flyio.SuiteFlyio, flyio.SuiteMaelstrom} {
		sec := Section{Suite: suite, Title: flyio.SuiteTitle(suite)}
		for _, r := range rows {
			if r.Suite == suite || (r.Suite == "" && suite == flyio.SuiteFlyio) {
				sec.Rows = append(sec.Rows, r)
			}
		}
		if len(sec.Rows) > 0 {
			out = append(out, sec)
		}
	}
	return out
}

// WriteTable prints the scoreboard: one aligned table per suite (Fly.io's
// series, then Maelstrom's own workloads), the broadcast latencies, and
// every row's reasons and first errors.
func WriteTable(w io.Writer, rows []Row) error {
	secs := Sections(rows)
	for i, sec := range secs {
		if len(secs) > 1 {
			if i > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintln(w, sec.Title)
		}
		if err := writeSection(w, sec); err != nil {
			return err
		}
	}
	if err := writeBroadcastTable(w, rows); err != nil {
		return err
	}
	for _, r := range rows {
		if r.Reason != "" {
			fmt.Fprintf(w, "%s: %s\n", r.ID, r.Reason)
		}
		for _, e := range r.FirstErrors {
			fmt.Fprintf(w, "%s: %s\n", r.ID, e)
		}
	}
	return nil
}

// writeSection prints one suite's rows as an aligned table. Maelstrom's
// documentation sets no numeric targets, so its column says "target":
// what the run must be (valid) and any the table states.
func writeSection(w io.Writer, sec Section) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	target := "Fly.io target"
	if sec.Suite == flyio.SuiteMaelstrom {
		target = "target"
	}
	fmt.Fprintf(tw, "challenge\tverdict\tops\tavail\tmsgs/op\tp50 ms\tmax ms\tlatency\t%s\tstatus\n", target)
	for _, r := range sec.Rows {
		lat := r.LatencyKind
		if r.Status == StatusSkipped {
			fmt.Fprintf(tw, "%s %s\t—\t—\t—\t—\t—\t—\t—\t—\t%s\n", r.ID, r.Name, r.Status)
			continue
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.ID, r.Name, verdictText(r.Verdict), optInt(r.Operations), optFloat(r.Availability, 3),
			optFloat(r.MsgsPerOp, 2), optMS(r.P50MS), optMS(r.MaxMS), lat, targetsText(r.Targets), r.Status)
	}
	return tw.Flush()
}

// writeBroadcastTable prints the broadcast rows' three latencies, if any
// broadcast challenge ran.
func writeBroadcastTable(w io.Writer, rows []Row) error {
	var bs []Row
	for _, r := range rows {
		if r.Broadcast != nil {
			bs = append(bs, r)
		}
	}
	if len(bs) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "broadcast latency (ms)\tok p50 / max\tstable p50 / max\tdissemination p50 / max")
	for _, r := range bs {
		b := r.Broadcast
		fmt.Fprintf(tw, "%s %s\t%s / %s\t%s / %s\t%s / %s\n", r.ID, r.Name,
			optMS(b.OKP50MS), optMS(b.OKMaxMS), optMS(b.StableP50MS), optMS(b.StableMaxMS),
			optMS(b.DisseminationP50MS), optMS(b.DisseminationMaxMS))
	}
	return tw.Flush()
}

// OK reports whether every challenge that ran passed.
func OK(rows []Row) bool {
	ran := false
	for _, r := range rows {
		switch r.Status {
		case StatusSkipped:
		case StatusPass:
			ran = true
		default:
			return false
		}
	}
	return ran
}

// WriteJSON writes scoreboard.json.
func WriteJSON(path string, b Board) error {
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return fmt.Errorf("scoreboard.json: %w", err)
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// ReadJSON reads scoreboard.json back (used by tests and to re-render).
func ReadJSON(path string) (Board, error) {
	var b Board
	data, err := os.ReadFile(path)
	if err != nil {
		return b, err
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return b, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// WriteHTML writes scoreboard.html, a static page linking every run.
func WriteHTML(path string, b Board) error {
	var buf bytes.Buffer
	page := struct {
		Board
		Sections []Section
	}{b, Sections(b.Rows)}
	if err := htmlTemplate.Execute(&buf, page); err != nil {
		return fmt.Errorf("scoreboard.html: %w", err)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

var errNoRun = errors.New("the workbench recorded no run")

var htmlTemplate = template.Must(template.New("board").Funcs(template.FuncMap{
	"f":       optFloat,
	"i":       optInt,
	"ms":      optMS,
	"verdict": verdictText,
	"lower":   strings.ToLower,
	"when":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gossip Glomers scoreboard</title>
<style>
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2430; background: #f6f7f9; }
  header { padding: 20px 32px; color: #fff; background: #2b3a55; }
  header.ok { background: #1b8a5a; } header.bad { background: #d0243b; }
  header h1 { margin: 0; font-size: 24px; } header p { margin: 4px 0 0; opacity: .9; }
  h2 { margin: 24px 0 8px; font-size: 18px; }
  main { max-width: 1300px; margin: 0 auto; padding: 20px 32px 48px; }
  table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #e5e7eb; }
  th, td { padding: 7px 10px; border-bottom: 1px solid #e5e7eb; text-align: left; vertical-align: top; }
  th { color: #6b7280; font-size: 13px; font-weight: 600; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  .st { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 12px; font-weight: 700; color: #fff; background: #9ca3af; }
  .st.pass { background: #1b8a5a; } .st.invalid, .st.error { background: #d0243b; } .st.missed, .st.unknown { background: #b7791f; }
  .met { color: #1b8a5a; } .miss { color: #d0243b; font-weight: 600; }
  .tgt { white-space: nowrap; margin-right: 10px; }
  code { font-size: 12px; color: #4b5563; }
  a { color: #1d5fbf; text-decoration: none; margin-right: 8px; } a:hover { text-decoration: underline; }
  .err { color: #d0243b; font-size: 13px; }
  td.ch { min-width: 340px; } td.run { min-width: 250px; line-height: 1.9; }
</style></head>
<body>
<header class="{{if .OK}}ok{{else}}bad{{end}}">
<h1>Gossip Glomers scoreboard</h1>
<p>{{if .OK}}Every challenge that ran passed{{else}}Not everything passed{{end}} · {{when .Generated}} · {{printf "%.0f" .WallSeconds}} s{{if .Quick}} · quick (shortened time limits){{end}}</p>
</header>
<main>
{{range .Sections}}<h2>{{.Title}}</h2>
<table>
<tr><th>challenge</th><th>status</th><th>verdict</th><th>ops</th><th>avail</th><th>msgs/op</th><th>p50 ms</th><th>max ms</th><th>{{if eq .Suite "flyio"}}Fly.io target{{else}}target{{end}}</th><th>run</th></tr>
{{range .Rows}}<tr>
<td class="ch"><b>{{.ID}}</b> {{.Name}}<br><code>{{.Command}}</code></td>
<td><span class="st {{lower .Status}}">{{.Status}}</span></td>
<td>{{verdict .Verdict}}</td>
<td class="num">{{i .Operations}}</td><td class="num">{{f .Availability 3}}</td><td class="num">{{f .MsgsPerOp 2}}</td>
<td class="num">{{ms .P50MS}}</td><td class="num">{{ms .MaxMS}}</td>
<td>{{range .Targets}}<span class="tgt {{if .Met}}met{{else}}miss{{end}}">{{.Text}} {{if .Met}}✓{{else}}✗{{end}}</span> {{else}}valid{{end}}
<br><code>{{.LatencyKind}} latency</code>{{with .Broadcast}}<br><code>ok {{ms .OKP50MS}}/{{ms .OKMaxMS}} · stable {{ms .StableP50MS}}/{{ms .StableMaxMS}} · dissemination {{ms .DisseminationP50MS}}/{{ms .DisseminationMaxMS}} ms (p50/max)</code>{{end}}</td>
<td class="run">{{range .Links}}<a href="{{.Href}}">{{.Name}}</a> {{end}}
{{if .Reason}}<div class="err">{{.Reason}}</div>{{end}}{{range .FirstErrors}}<div class="err">{{.}}</div>{{end}}</td>
</tr>
{{end}}</table>
{{end}}</main></body></html>
`))
