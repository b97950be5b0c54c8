// Package analysis turns a run's history and network journal into
// Maelstrom's results map: the checkers every workload shares (Jepsen's
// stats, availability, :net message counts, :perf latencies) combined with
// the workload's own checker. It needs no running nodes, so a stored run
// is re-analysed the same way a live one is.
package analysis

import (
	"fmt"
	"strconv"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// Stats is Jepsen's stats checker: counts of client completions overall
// and per f; valid only if every f (except exempt ones) has at least one
// ok.
func Stats(h history.History, exempt map[string]bool) checker.Result {
	type counts struct{ all, ok, fail, info int }
	var total counts
	byF := map[string]*counts{}
	var order []string
	for _, op := range h {
		if !op.IsClient() || op.Type == history.Invoke {
			continue
		}
		c := byF[op.F]
		if c == nil {
			c = &counts{}
			byF[op.F] = c
			order = append(order, op.F)
		}
		for _, x := range []*counts{&total, c} {
			x.all++
			switch op.Type {
			case history.OK:
				x.ok++
			case history.Fail:
				x.fail++
			case history.Info:
				x.info++
			}
		}
	}
	res := func(c counts) map[string]any {
		return map[string]any{
			"valid?": checker.Of(c.ok > 0), "count": c.all,
			"ok-count": c.ok, "fail-count": c.fail, "info-count": c.info,
		}
	}
	valid := checker.Valid
	first := ""
	fs := map[string]any{}
	for _, f := range order {
		c := *byF[f]
		fs[f] = res(c)
		if exempt[f] {
			continue
		}
		if c.ok == 0 {
			valid = checker.Invalid
			if first == "" {
				first = fmt.Sprintf("no %s operation succeeded (%d attempted: %d fail, %d info)", f, c.all, c.fail, c.info)
			}
		}
	}
	out := checker.Result(res(total))
	out["by-f"] = fs
	out["valid?"] = valid
	if first != "" {
		out["first-error"] = first
	}
	return out
}

// Availability is Maelstrom's availability checker: the fraction of client
// invocations that completed ok, judged against --availability ("" always
// valid, "total" needs 1, a number a needs ≥ a).
func Availability(h history.History, want string) checker.Result {
	invokes, oks := 0, 0
	for _, op := range h {
		if !op.IsClient() {
			continue
		}
		switch op.Type {
		case history.Invoke:
			invokes++
		case history.OK:
			oks++
		}
	}
	frac := 1.0
	if invokes > 0 {
		frac = float64(oks) / float64(invokes)
	}
	valid := checker.Valid
	switch want {
	case "":
	case "total":
		valid = checker.Of(oks == invokes)
	default:
		// Maelstrom computes the fraction as a single-precision float,
		// (float (/ ok invokes)), and compares the double threshold with
		// it, so e.g. 9 of 10 fails --availability 0.9
		// (0.9f < 0.9). Judge the same way.
		a, err := strconv.ParseFloat(want, 64)
		valid = checker.Of(err == nil && float64(float32(frac)) >= a)
	}
	res := checker.Result{"valid?": valid, "ok-fraction": frac}
	if valid != checker.Valid {
		res["first-error"] = fmt.Sprintf("only %d of %d operations succeeded (ok-fraction %.4f), --availability %s", oks, invokes, frac, want)
	}
	return res
}

// InvokeCount is the number of client invocations, the divisor of
// msgs-per-op.
func InvokeCount(h history.History) int {
	n := 0
	for _, op := range h {
		if op.IsClient() && op.Type == history.Invoke {
			n++
		}
	}
	return n
}

// Analyze runs every checker on a history and composes the results map:
// :perf :timeline :exceptions :stats :availability :net :workload and the
// merged :valid?. net is the :net result, counted from the journal as it
// streams by (NetTally); nil counts no messages.
func Analyze(w *workload.Workload, opts workload.Options, h history.History, net checker.Result) checker.Result {
	if net == nil {
		net = Net(nil, InvokeCount(h))
	}
	var wl checker.Result
	if w.Check != nil {
		wl = w.Check(h, opts)
	} else {
		wl = checker.Result{"valid?": checker.Valid}
	}
	res := checker.Result{
		"perf":         Perf(h),
		"timeline":     checker.Result{"valid?": checker.Valid},
		"exceptions":   checker.Result{"valid?": checker.Valid},
		"stats":        Stats(h, w.StatsExempt),
		"availability": Availability(h, opts.Availability),
		"net":          net,
		"workload":     wl,
	}
	var vs, maelstrom []checker.Validity
	for _, k := range []string{"perf", "timeline", "exceptions", "stats", "availability", "net", "workload"} {
		vs = append(vs, validityOf(res[k]))
		maelstrom = append(maelstrom, maelstromValidityOf(res[k]))
	}
	res["valid?"] = checker.Merge(vs...)
	// Where the workload's strict checks decided the verdict, say what
	// Maelstrom would have concluded.
	if m := checker.Merge(maelstrom...); m != res["valid?"] {
		res[checker.MaelstromValidKey] = m
	}
	return res
}

// validityOf reads "valid?" from a sub-result, including one loaded back
// from JSON (true/false/"unknown").
func validityOf(v any) checker.Validity {
	var m map[string]any
	switch x := v.(type) {
	case checker.Result:
		m = x
	case map[string]any:
		m = x
	default:
		return checker.Unknown
	}
	switch val := m["valid?"].(type) {
	case checker.Validity:
		return val
	case bool:
		return checker.Of(val)
	}
	return checker.Unknown
}

// maelstromValidityOf is a sub-result's verdict as Maelstrom would give it.
func maelstromValidityOf(v any) checker.Validity {
	switch x := v.(type) {
	case checker.Result:
		return checker.MaelstromValidity(x)
	case map[string]any:
		return checker.MaelstromValidity(x)
	}
	return checker.Unknown
}

// FirstErrors lists, for every sub-checker that is not valid, its name
// and its first-error line (or just its verdict).
func FirstErrors(res checker.Result) []string {
	var out []string
	for _, k := range []string{"workload", "stats", "availability", "net", "perf", "timeline", "exceptions"} {
		sub, ok := res[k]
		if !ok {
			continue
		}
		v := validityOf(sub)
		if v == checker.Valid {
			continue
		}
		line := fmt.Sprintf(":%s is %s", k, v)
		var m map[string]any
		switch x := sub.(type) {
		case checker.Result:
			m = x
		case map[string]any:
			m = x
		}
		if fe, ok := m["first-error"]; ok {
			line += ": " + fmt.Sprint(fe)
		}
		out = append(out, line)
	}
	return out
}
