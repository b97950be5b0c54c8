package report

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/glomers/glomers/tools/workbench/analysis"
	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/edn"
	"github.com/glomers/glomers/tools/workbench/store"
)

// Files a run directory usually holds, shown first and with a word about
// what they are; anything else found in the directory is listed after them.
var knownFiles = []struct{ name, about string }{
	{store.ResultsEDNName, "checker results, as Maelstrom writes them"},
	{store.ResultsName, "the same results as JSON"},
	{store.HistoryTextName, "every operation, one per line"},
	{store.HistoryName, "the history as JSON lines (what analyze re-checks)"},
	{store.TestName, "the test's options and seed"},
	{store.LogName, "the workbench's console log"},
	{TimelineFile, "every operation as a box in its process's column (Jepsen's timeline)"},
	{store.LinearizabilityName, "porcupine's interactive view of the keys that cannot be linearized"},
}

// maxListedFiles bounds the file list (elle/ or independent/ can hold many).
const maxListedFiles = 400

type section struct {
	Name       string
	Verdict    string // "valid", "invalid", "unknown"
	Highlights []highlight
	FirstError string
}

type highlight struct{ Key, Value string }

type fileLink struct {
	Href, Name, About, Size string
}

type page struct {
	Workload, Run string
	// What the run was, from test.json (or a Maelstrom run's jepsen.log).
	Command, BinSHA256, BinShort, NodeEnv string
	Verdict                               string
	ValidText                             string // as results.edn says it: true, false, unknown
	Headline                              string
	Sections                              []section
	Errors                                []string
	CutShort                              []string // why the run looks cut short (analyze's :cut-short)
	EDN                                   string
	Plots                                 []fileLink
	Messages                              *fileLink
	Diagram                               diagramView
	Timeline                              string // href of timeline.html, if the run has one
	Files                                 []fileLink
	FilesElided                           int

	// StrictNote says, for a run that only the workbench's strict checks
	// fail, that Maelstrom would accept it, and what is still wrong.
	StrictNote string
}

// index renders index.html in dir for the run in runDir (the same
// directory, or the run analyze re-checked into dir).
func index(dir, runDir string, results checker.Result) ([]byte, error) {
	abs, err := filepath.Abs(runDir)
	if err != nil {
		return nil, err
	}
	out, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	p := page{
		Run:      filepath.Base(abs),
		Workload: filepath.Base(filepath.Dir(abs)),
		Verdict:  verdictClass(results["valid?"]),
	}
	if root, err := os.OpenRoot(abs); err == nil {
		if info, err := store.ReadInfo(root, "."); err == nil {
			p.Command, p.BinSHA256, p.NodeEnv = info.CommandString(), info.BinSHA256, info.EnvString()
			p.BinShort = info.BinSHA256[:min(12, len(info.BinSHA256))]
		}
		root.Close()
	}
	p.ValidText = map[string]string{"valid": "true", "invalid": "false", "unknown": "unknown"}[p.Verdict]
	p.Headline = map[string]string{
		"valid":   "Everything looks good",
		"invalid": "Analysis invalid",
		"unknown": "Errors occurred during analysis, but no anomalies found",
	}[p.Verdict]
	if checker.StrictOnly(results) {
		judged, _ := analysis.StrictFailures(results)
		p.Headline = "Analysis invalid, by the workbench's strict checks only: Maelstrom would accept this run"
		p.StrictNote = fmt.Sprintf("Maelstrom would accept this run. Still wrong, by the workbench's strict checks: %s. "+
			"--maelstrom-verdicts judges as Maelstrom does (docs/verdicts.md).", strings.Join(judged, ", "))
	}
	p.Sections, p.Errors = sections(results)
	if why, ok := results["cut-short"].([]string); ok {
		p.CutShort = why
	}
	if text, err := edn.Marshal(map[string]any(results)); err == nil {
		p.EDN = string(text)
	} else {
		p.EDN = fmt.Sprintf("(results could not be written as EDN: %v)", err)
	}

	if err := p.linkFiles(out, abs); err != nil {
		return nil, err
	}

	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// linkFiles fills in the page's links to the files of out (and of the run
// in runDir, when out is a re-check's directory): the plots, the timeline
// and the Lamport diagram where they are drawn, then every file, the known
// ones first with what each holds.
func (p *page) linkFiles(out, runDir string) error {
	files, elided, err := runFiles(out, runDir)
	if err != nil {
		return err
	}
	present := map[string]fileLink{}
	for _, f := range files {
		present[f.Name] = f
	}
	for _, name := range []string{LatencyRawFile, LatencyQuantilesFile, RateFile} {
		if f, ok := present[name]; ok {
			p.Plots = append(p.Plots, f)
		}
	}
	if f, ok := present[TimelineFile]; ok {
		p.Timeline = f.Href
	}
	if f, ok := present[MessagesFile]; ok {
		p.Messages = &f
		p.Diagram = readDiagramView(out)
	}
	shown := map[string]bool{IndexFile: true}
	for _, k := range knownFiles {
		if f, ok := present[k.name]; ok {
			f.About = k.about
			p.Files = append(p.Files, f)
			shown[k.name] = true
		}
	}
	for _, f := range files {
		if !shown[f.Name] {
			p.Files = append(p.Files, f)
		}
	}
	p.FilesElided = elided
	return nil
}

// runFiles lists the files of dir, and when dir is a re-check's directory
// under the run's (analyze's), the run's own files after them, linked
// relative to dir.
func runFiles(dir, runDir string) ([]fileLink, int, error) {
	files, elided, err := listFiles(dir)
	if err != nil {
		return nil, 0, err
	}
	if dir != runDir {
		// A re-check's page also links what the run itself left.
		up, err := filepath.Rel(dir, runDir)
		if err != nil {
			return nil, 0, err
		}
		runFiles, more, err := listFiles(runDir)
		if err != nil {
			return nil, 0, err
		}
		for _, f := range runFiles {
			if !strings.HasPrefix(f.Name, store.AnalysisName+"/") {
				f.Name = filepath.ToSlash(filepath.Join(up, f.Name))
				f.Href = hrefOf(f.Name)
				files = append(files, f)
			}
		}
		elided += more
	}
	return files, elided, nil
}

// listFiles walks the run directory (following nothing outside it) and
// returns its regular files with slash-separated relative names.
func listFiles(root string) ([]fileLink, int, error) {
	var files []fileLink
	elided := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		if len(files) >= maxListedFiles {
			elided++
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		files = append(files, fileLink{Href: hrefOf(name), Name: name, Size: humanSize(info.Size())})
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", root, err)
	}
	return files, elided, nil
}

// hrefOf escapes each path segment, so names with spaces or '#' still link.
func hrefOf(rel string) string {
	parts := strings.Split(rel, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

func humanSize(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// verdictClass reads a valid? value however it was stored.
func verdictClass(v any) string {
	switch x := v.(type) {
	case checker.Validity:
		switch x {
		case checker.Valid:
			return "valid"
		case checker.Invalid:
			return "invalid"
		}
	case bool:
		if x {
			return "valid"
		}
		return "invalid"
	}
	return "unknown"
}

// sectionOrder puts the sections people look at first on top.
var sectionOrder = map[string]int{"workload": 0, "stats": 1, "availability": 2, "net": 3}

// sections summarises each checker's sub-result: verdict, a few numbers,
// and its first error.
func sections(results checker.Result) ([]section, []string) {
	var out []section
	var errs []string
	for name, v := range results {
		m, ok := asStringMap(v)
		if !ok {
			continue
		}
		s := section{Name: name, Verdict: verdictClass(m["valid?"])}
		if fe, ok := m["first-error"].(string); ok && fe != "" {
			s.FirstError = fe
			errs = append(errs, name+": "+fe)
		}
		flatten("", m, 0, &s.Highlights)
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		oi, iok := sectionOrder[out[i].Name]
		oj, jok := sectionOrder[out[j].Name]
		switch {
		case iok && jok:
			return oi < oj
		case iok != jok:
			return iok
		}
		return out[i].Name < out[j].Name
	})
	sort.Strings(errs)
	return out, errs
}

// maxHighlights keeps a section's summary to one glance.
const maxHighlights = 14

// flatten collects scalar entries of m (and of maps nested one level
// down, e.g. net's servers.msgs-per-op or a quantile map) as key/value
// strings.
func flatten(prefix string, m map[string]any, depth int, out *[]highlight) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortKeys(keys)
	// Latency quantiles are what a reader looks for first (broadcast's
	// stable and dissemination latencies); list them before the counts.
	sort.SliceStable(keys, func(i, j int) bool {
		return strings.HasSuffix(keys[i], "latencies") && !strings.HasSuffix(keys[j], "latencies")
	})
	for _, k := range keys {
		if k == "valid?" || k == "first-error" {
			continue
		}
		if len(*out) >= maxHighlights {
			return
		}
		v := m[k]
		if sub, ok := asStringMap(v); ok {
			if depth < 1 {
				flatten(prefix+k+".", sub, depth+1, out)
			}
			continue
		}
		if s, ok := scalarText(v); ok {
			*out = append(*out, highlight{prefix + k, s})
		}
	}
}

// sortKeys sorts numerically when every key is a number (quantiles).
func sortKeys(keys []string) {
	nums := make(map[string]float64, len(keys))
	for _, k := range keys {
		f, err := strconv.ParseFloat(k, 64)
		if err != nil {
			sort.Strings(keys)
			return
		}
		nums[k] = f
	}
	sort.Slice(keys, func(i, j int) bool { return nums[keys[i]] < nums[keys[j]] })
}

// scalarText renders numbers, strings, bools and short lists; it declines
// long lists and anything map-like.
func scalarText(v any) (string, bool) {
	if v == nil {
		return "nil", true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Len() > 6 {
			return fmt.Sprintf("[%d items]", rv.Len()), true
		}
	case reflect.Map, reflect.Struct:
		return "", false
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		if f != float64(int64(f)) {
			// Six significant digits: ratios like msgs-per-op need no more.
			return strconv.FormatFloat(f, 'g', 6, 64), true
		}
	}
	b, err := edn.Marshal(v)
	if err != nil {
		return fmt.Sprint(v), true
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 80 {
		s = s[:77] + "…"
	}
	return s, true
}

// asStringMap views any map as map[string]any, formatting numeric keys
// (quantile maps use float keys).
func asStringMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case checker.Result:
		return map[string]any(m), true
	case map[string]any:
		return m, true
	}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.Kind() != reflect.Map {
		return nil, false
	}
	out := make(map[string]any, rv.Len())
	iter := rv.MapRange()
	for iter.Next() {
		k := iter.Key()
		var ks string
		switch k.Kind() {
		case reflect.Float32, reflect.Float64:
			ks = strconv.FormatFloat(k.Float(), 'g', -1, 64)
		default:
			ks = fmt.Sprint(k.Interface())
		}
		out[ks] = iter.Value().Interface()
	}
	return out, true
}

var pageTemplate = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Workload}} {{.Run}}: {{.Verdict}}</title>
<style>
  :root { --ok:#1b8a5a; --bad:#d0243b; --unk:#b7791f; --ink:#1f2430; --mute:#6b7280; --line:#e5e7eb; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #f6f7f9; }
  header { padding: 22px 32px; color: #fff; }
  header.valid { background: var(--ok); } header.invalid { background: var(--bad); } header.unknown { background: var(--unk); }
  header h1 { margin: 0; font-size: 24px; font-weight: 650; }
  header p { margin: 4px 0 0; opacity: .9; }
  main { max-width: 1180px; margin: 0 auto; padding: 20px 32px 48px; }
  h2 { font-size: 18px; margin: 32px 0 10px; }
  .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 18px; margin-bottom: 12px; }
  .errors { border-left: 4px solid var(--bad); }
  .errors li { font-family: ui-monospace, Menlo, monospace; font-size: 13px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { font-weight: 600; color: var(--mute); font-size: 13px; }
  .badge { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; }
  .badge.valid { background: var(--ok); } .badge.invalid { background: var(--bad); } .badge.unknown { background: var(--unk); }
  .kv { display: inline-block; margin: 0 14px 2px 0; font-size: 13px; }
  .kv b { font-weight: 500; color: var(--mute); }
  .plot img { width: 100%; height: auto; display: block; }
  .plot p, .note { color: var(--mute); font-size: 13px; margin: 4px 0 0; }
  .messages { max-height: 720px; overflow: auto; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
  .messages img { display: block; }
  /* The diagram's top strip (caption and lane names) stays in view while it scrolls. */
  .messages .lane-heads { position: sticky; top: 0; z-index: 1; background-repeat: no-repeat; background-position: 0 0; background-color: #fff; border-bottom: 1px solid var(--line); }
  pre { margin: 0; overflow: auto; max-height: 560px; font: 12.5px/1.45 ui-monospace, Menlo, monospace; }
  a { color: #1d5fbf; text-decoration: none; } a:hover { text-decoration: underline; }
  td.size { color: var(--mute); white-space: nowrap; text-align: right; }
  summary { cursor: pointer; font-weight: 600; }
</style>
</head>
<body>
<header class="{{.Verdict}}">
  <h1>{{.Workload}} · {{.Run}}</h1>
  <p>{{.Headline}} (valid? {{.ValidText}})</p>
  {{if .Command}}<p class="run-command"><code>{{.Command}}</code></p>{{end}}
  {{range .CutShort}}<p class="cut-short">Cut short: {{.}}</p>{{end}}
  {{if or .NodeEnv .BinSHA256}}<p class="run-env">{{if .NodeEnv}}node environment <code>{{.NodeEnv}}</code>{{end}}{{if .BinSHA256}} · binary sha256 <code title="{{.BinSHA256}}">{{.BinShort}}</code>{{end}}</p>{{end}}
</header>
<main>
{{if .Errors}}
<div class="card errors"><strong>What went wrong first</strong>
{{if .StrictNote}}<p class="strict-note">{{.StrictNote}}</p>{{end}}
<ul>{{range .Errors}}<li>{{.}}</li>{{end}}</ul></div>
{{end}}

<h2>Checkers</h2>
<div class="card">
<table>
<tr><th>checker</th><th>valid?</th><th>numbers</th></tr>
{{range .Sections}}<tr><td>{{.Name}}</td><td><span class="badge {{.Verdict}}">{{.Verdict}}</span></td>
<td>{{range .Highlights}}<span class="kv"><b>{{.Key}}</b> {{.Value}}</span> {{end}}</td></tr>
{{end}}</table>
</div>

{{if .Plots}}<h2>Performance</h2>{{end}}
{{if .Timeline}}<p><a href="{{.Timeline}}">Timeline</a>: every operation as a box in its process's column, coloured by how it completed.</p>{{end}}
{{range .Plots}}<div class="card plot"><a href="{{.Href}}"><img src="{{.Href}}" alt="{{.Name}}"></a></div>
{{end}}
{{with .Messages}}
<h2>Messages</h2>
<div class="messages" data-focus-y="{{$.Diagram.FocusY}}"><div class="lane-heads" style="width:{{$.Diagram.Width}}px;height:{{$.Diagram.HeaderHeight}}px;margin-bottom:-{{$.Diagram.HeaderHeight}}px;background-image:url('{{.Href}}')"></div><img src="{{.Href}}" alt="{{.Name}}"></div>
{{if $.Diagram.FocusY}}<p class="note">Opened at the messages the failure points at (highlighted, labels in bold).</p>{{end}}
<script>
// Open the diagram at the failure: the messages the first error points at.
(() => {
  const box = document.querySelector('.messages');
  const y = Number(box && box.dataset.focusY);
  if (!(y > 0)) return;
  // Only once the diagram has its height can the box scroll.
  const img = box.querySelector('img');
  const open = () => { box.scrollTop = Math.max(0, y - 160); };
  if (img.complete) open(); else img.addEventListener('load', open);
  window.addEventListener('load', open);
})();
</script>
<form class="window" action="{{.Href}}" method="get"><label>Draw the messages sent from <input name="from" type="number" min="0" step="0.1" value="0" style="width:6em"> s on</label> <button type="submit">Draw</button> <span class="note">(under <code>workbench serve</code>)</span></form>
<p class="note">Time flows down; one line per client, node and service. Dashed arrows ending in a cross were never delivered. <a href="{{.Href}}">Open the diagram on its own</a> to hover over a message for its body.</p>
{{end}}

<h2>Results</h2>
<div class="card"><details open><summary>results.edn</summary><pre>{{.EDN}}</pre></details></div>

<h2>Files</h2>
<div class="card">
<table>
{{range .Files}}<tr><td><a href="{{.Href}}">{{.Name}}</a></td><td>{{.About}}</td><td class="size">{{.Size}}</td></tr>
{{end}}</table>
{{if .FilesElided}}<p class="note">…and {{.FilesElided}} more files not listed.</p>{{end}}
</div>
</main>
</body>
</html>
`))
