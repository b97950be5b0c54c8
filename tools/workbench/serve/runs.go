package serve

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"sort"
	"strconv"
	"time"

	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/store"
)

// Run is one stored run, as the runs page lists it.
type Run struct {
	Workload string
	Name     string // the run's directory, its start time
	Href     string // relative to the store root, ending in "/"
	Path     string // <workload>/<run>, as /compare takes it
	Time     time.Time
	When     string // Time for people, e.g. 2026-03-05 11:26:42 UTC
	// Verdict is valid, invalid or unknown from the results, or
	// incomplete when the run has none (still running, or crashed).
	Verdict      string
	Ops          string
	Availability string
	MsgsPerOp    string
	// What the run was: its command line, node environment and who
	// stored it (workbench or maelstrom).
	Command, NodeEnv, Format string
}

// Run directory names are start times; Maelstrom's own use a numeric zone.
var runTimeLayouts = []string{"20060102T150405.000Z0700", "20060102T150405.000Z07:00", "20060102T150405Z0700"}

// maxRuns bounds the runs page, so a store with a million directories
// costs a bounded amount per request.
const maxRuns = 5000

// Runs lists every run under the store (store/<workload>/<run>/), newest
// first, reading only through root. Symlinks (latest, current, or links
// out of the store) are skipped, so each run is listed once and nothing
// outside the store is read.
func Runs(root *os.Root) ([]Run, error) {
	fsys := root.FS()
	workloads, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var list []Run
	for _, w := range workloads {
		if !w.IsDir() { // a symlink's DirEntry is not a directory
			continue
		}
		dirs, err := fs.ReadDir(fsys, w.Name())
		if err != nil {
			continue
		}
		for _, d := range dirs {
			if !d.IsDir() || len(list) >= maxRuns {
				continue
			}
			rel := path.Join(w.Name(), d.Name())
			run := Run{
				Workload: w.Name(),
				Name:     d.Name(),
				Href:     url.PathEscape(w.Name()) + "/" + url.PathEscape(d.Name()) + "/",
				Path:     rel,
			}
			run.Time = runTime(d)
			run.When = run.Time.UTC().Format("2006-01-02 15:04:05 UTC")
			readResults(root, rel, &run)
			if info, err := store.ReadInfo(root, rel); err == nil {
				run.Command, run.NodeEnv, run.Format = info.CommandString(), info.EnvString(), info.Format
			}
			list = append(list, run)
		}
	}
	sort.SliceStable(list, func(i, j int) bool {
		if !list[i].Time.Equal(list[j].Time) {
			return list[i].Time.After(list[j].Time)
		}
		return list[i].Workload < list[j].Workload
	})
	return list, nil
}

func runTime(d fs.DirEntry) time.Time {
	for _, layout := range runTimeLayouts {
		if t, err := time.Parse(layout, d.Name()); err == nil {
			return t
		}
	}
	if st, err := d.Info(); err == nil {
		return st.ModTime()
	}
	return time.Time{}
}

// readResults fills the verdict and headline numbers from the run's
// results (results.json, or a Maelstrom run's results.edn).
func readResults(root *os.Root, dir string, run *Run) {
	run.Verdict = "incomplete"
	res, err := store.ReadResults(root, dir)
	if err != nil {
		run.Verdict = "unknown"
		return
	}
	if res == nil {
		return
	}
	run.Verdict = Verdict(res["valid?"])
	run.Ops = number(res, "stats", "count")
	if a := number(res, "availability", "ok-fraction"); a != "" {
		run.Availability = a
	}
	run.MsgsPerOp = number(res, "net", "servers", "msgs-per-op")
}

// Verdict reads a JSON valid? value: true, false, or anything else
// (Maelstrom's :unknown) as unknown.
func Verdict(v any) string {
	switch v {
	case true:
		return "valid"
	case false:
		return "invalid"
	}
	return "unknown"
}

// number digs a number out of nested maps and formats it briefly. It
// takes numbers as a JSON decoder (json.Number) or an EDN decoder (int64,
// float64) gives them.
func number(m map[string]any, keys ...string) string {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = mm[k]
	}
	if i, ok := history.Int(v); ok {
		return strconv.FormatInt(i, 10)
	}
	if f, ok := history.Float(v); ok {
		return strconv.FormatFloat(f, 'g', 4, 64)
	}
	return ""
}

// entry is one line of a directory listing.
type entry struct {
	Name, Href, Size string
	Dir              bool
}

// listDir lists a directory of the store: subdirectories first, newest
// (largest name, i.e. latest timestamp) first, then files by name. A
// symlink is listed for what it points at when that lies inside the store
// (e.g. latest), and left out when it leads outside.
func listDir(root *os.Root, rel string) ([]entry, error) {
	des, err := fs.ReadDir(root.FS(), rel)
	if err != nil {
		return nil, err
	}
	var dirs, files []entry
	for _, d := range des {
		e := entry{Name: d.Name(), Href: url.PathEscape(d.Name())}
		info, err := root.Stat(path.Join(rel, d.Name())) // follows symlinks, but only inside root
		if err != nil {
			continue
		}
		if info.IsDir() {
			e.Dir, e.Href, e.Name = true, e.Href+"/", e.Name+"/"
			dirs = append(dirs, e)
			continue
		}
		if !info.Mode().IsRegular() {
			continue
		}
		e.Size = fmt.Sprintf("%d", info.Size())
		files = append(files, e)
	}
	sort.Slice(dirs, func(i, j int) bool { return dirs[i].Name > dirs[j].Name })
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return append(dirs, files...), nil
}

type runsPage struct{ Runs []Run }

type dirPage struct {
	Path    string
	Entries []entry
}

func writePage(w http.ResponseWriter, r *http.Request, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		http.Error(w, "template: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(buf.Bytes())
}

const pageStyle = `<style>
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2430; background: #f6f7f9; }
  header { background: #2b3a55; color: #fff; padding: 18px 32px; } header h1 { margin: 0; font-size: 22px; }
  main { max-width: 1100px; margin: 0 auto; padding: 20px 32px; }
  table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; }
  th, td { text-align: left; padding: 7px 12px; border-bottom: 1px solid #e5e7eb; }
  th { color: #6b7280; font-weight: 600; font-size: 13px; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  a { color: #1d5fbf; text-decoration: none; } a:hover { text-decoration: underline; }
  .badge { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; }
  .valid { background: #1b8a5a; } .invalid { background: #d0243b; } .unknown { background: #b7791f; } .incomplete { background: #9ca3af; }
  p.note { color: #6b7280; }
</style>`

var runsTemplate = template.Must(template.New("runs").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>workbench runs</title>` + pageStyle + `</head>
<body><header><h1>Workbench runs</h1></header><main>
{{if .Runs}}
<form action="compare" method="get">
<table>
<tr><th title="compare: pick run A and run B">A</th><th>B</th><th>started</th><th>workload</th><th>node environment</th><th>valid?</th><th>ops</th><th>availability</th><th>msgs/op (servers)</th><th></th></tr>
{{range .Runs}}<tr>
<td><input type="radio" name="a" value="{{.Path}}" aria-label="compare as A"></td><td><input type="radio" name="b" value="{{.Path}}" aria-label="compare as B"></td>
<td><a href="{{.Href}}" title="{{.Name}}">{{.When}}</a></td><td title="{{.Command}}">{{.Workload}}{{if eq .Format "maelstrom"}} <small>(Maelstrom)</small>{{end}}</td>
<td><code>{{.NodeEnv}}</code></td>
<td><span class="badge {{.Verdict}}">{{.Verdict}}</span></td>
<td class="num">{{.Ops}}</td><td class="num">{{.Availability}}</td><td class="num">{{.MsgsPerOp}}</td>
<td><a href="{{.Href}}?files">files</a></td>
</tr>
{{end}}</table>
<p><button type="submit">Compare A with B</button></p>
</form>
{{else}}<p class="note">No runs yet. Run <code>workbench test …</code> in the directory that holds this store.</p>{{end}}
</main></body></html>
`))

var dirTemplate = template.Must(template.New("dir").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Path}}</title>` + pageStyle + `</head>
<body><header><h1>{{.Path}}</h1></header><main>
<p><a href="../">↑ up</a></p>
<table>
{{range .Entries}}<tr><td><a href="{{.Href}}">{{.Name}}</a></td><td class="num">{{.Size}}</td></tr>
{{end}}</table>
</main></body></html>
`))
