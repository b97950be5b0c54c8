package serve

import (
	"fmt"
	"html/template"
	"net/http"

	"github.com/glomers/glomers/tools/workbench/report"
	"github.com/glomers/glomers/tools/workbench/runs"
	"github.com/glomers/glomers/tools/workbench/store"
)

// compareHistoryLimit bounds the history read per run for latencies the
// results lack; a run with a larger history is compared on its results.
const compareHistoryLimit = 64 << 20

// serveCompare answers /compare?a=RUN&b=RUN (a page) and
// /compare.svg?a=RUN&b=RUN (the overlaid latency plot). RUN is a run's
// path in the store, e.g. broadcast/20260305T112642.178Z.
func (s *Server) serveCompare(w http.ResponseWriter, r *http.Request, svg bool) {
	q := r.URL.Query()
	var loaded [2]*store.Loaded
	for i, key := range []string{"a", "b"} {
		ref := q.Get(key)
		if ref == "" {
			http.Error(w, "compare needs two runs: ?a=RUN&b=RUN (pick them on the runs page)", http.StatusBadRequest)
			return
		}
		rel, err := s.resolve(ref)
		if err != nil {
			http.Error(w, fmt.Sprintf("no run %q in the store", ref), http.StatusNotFound)
			return
		}
		if st, err := s.fsys.Stat(rel); err != nil || !st.IsDir() {
			http.Error(w, fmt.Sprintf("%q is not a run directory", ref), http.StatusNotFound)
			return
		}
		run, err := store.LoadFrom(s.fsys, rel, compareHistoryLimit)
		if err != nil {
			http.Error(w, fmt.Sprintf("cannot read run %q: %v", ref, err), http.StatusUnprocessableEntity)
			return
		}
		run.Dir = ref
		loaded[i] = run
	}
	a, b := loaded[0], loaded[1]
	if svg {
		w.Header().Set("Content-Type", "image/svg+xml")
		plot := report.CompareSVG(a.Dir, b.Dir, runs.Latencies(a.Results, a.History), runs.Latencies(b.Results, b.History))
		if r.Method != http.MethodHead {
			_, _ = w.Write(plot)
		}
		return
	}
	page := comparePage{Plot: "compare.svg?" + r.URL.RawQuery}
	for _, run := range loaded {
		page.Runs = append(page.Runs, compareRun{
			Dir: run.Dir, Href: run.Dir + "/", Verdict: Verdict(run.Results["valid?"]),
			Command: run.Info.CommandString(), NodeEnv: run.Info.EnvString(), BinSHA256: run.Info.BinSHA256,
		})
	}
	for _, row := range runs.Compare(runs.Figures(a.Results, a.History), runs.Figures(b.Results, b.History)) {
		page.Rows = append(page.Rows, compareRow{Name: row.Name, A: row.AText(), B: row.BText(),
			Diff: row.DiffText(), Class: map[bool]string{true: "better"}[row.Better] + map[bool]string{true: "worse"}[row.Worse]})
	}
	writePage(w, r, compareTemplate, page)
}

type comparePage struct {
	Runs []compareRun
	Rows []compareRow
	Plot string
}

type compareRun struct {
	Dir, Href, Verdict, Command, NodeEnv, BinSHA256 string
}

type compareRow struct {
	Name, A, B, Diff, Class string
}

var compareTemplate = template.Must(template.New("compare").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>compare runs</title>` + pageStyle + `
<style> tr.better td.diff { color: #1b8a5a; font-weight: 600; } tr.worse td.diff { color: #d0243b; font-weight: 600; }
 .plot img { max-width: 100%; } code { font-size: 13px; } </style></head>
<body><header><h1>Compare runs</h1></header><main>
<p><a href="/">↑ all runs</a></p>
<table>
<tr><th></th><th>run</th><th>valid?</th><th>command and node environment</th></tr>
{{range $i, $r := .Runs}}<tr><td>{{if eq $i 0}}A{{else}}B{{end}}</td><td><a href="/{{$r.Href}}">{{$r.Dir}}</a></td>
<td><span class="badge {{$r.Verdict}}">{{$r.Verdict}}</span></td>
<td><code>{{$r.Command}}</code>{{if $r.NodeEnv}}<br><code>{{$r.NodeEnv}}</code>{{end}}{{if $r.BinSHA256}}<br><small>binary sha256 {{$r.BinSHA256}}</small>{{end}}</td></tr>
{{end}}</table>
<h2>Key figures</h2>
<table id="figures">
<tr><th>figure</th><th>A</th><th>B</th><th>B − A</th></tr>
{{range .Rows}}<tr class="{{.Class}}"><td>{{.Name}}</td><td class="num">{{.A}}</td><td class="num">{{.B}}</td><td class="num diff">{{.Diff}}</td></tr>
{{end}}</table>
<p class="note">Green: B is better by that figure; red: worse. Op counts follow the rate and are neither.</p>
<h2>Latency quantiles</h2>
<div class="plot"><img src="{{.Plot}}" alt="latency quantiles of A and B overlaid"></div>
</main></body></html>
`))
