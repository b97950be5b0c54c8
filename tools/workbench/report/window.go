package report

import (
	"fmt"
	"io"
	"regexp"
	"sort"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/network"
	"github.com/glomers/glomers/tools/workbench/store"
)

// leadIn is how many messages the diagram shows before the first error,
// so that what led to it is in view too.
const leadIn = maxDiagramMessages / 3

// opRef finds "op 42" in a checker's first-error line.
var opRef = regexp.MustCompile(`\bop (\d+)\b`)

// focus picks the diagram's window: for an invalid run, around the first
// error a checker names (the earliest op a first-error line refers to);
// failing that, around the first error reply a node sent; else the start
// of the run. events streams the run's journal (it is read once).
func focus(h history.History, events eventSource, results checker.Result) (Window, error) {
	if !invalid(results["valid?"]) {
		return Window{}, nil
	}
	at, why := firstErrorOp(h, results)
	var sends []int64
	err := events(func(e *Event) {
		if e.Kind != Send {
			return
		}
		sends = append(sends, e.Time)
		if at < 0 && e.typeName() == "error" {
			at, why = e.Time, fmt.Sprintf("around the first error reply, at %s", fmtSeconds(e.Time))
		}
	})
	if err != nil || at < 0 {
		return Window{}, err
	}
	return Window{From: leadInStart(sends, at), Why: why}, nil
}

// firstErrorOp finds the time of the earliest op that an invalid
// checker's first-error line names ("op 42"); -1 if none does.
func firstErrorOp(h history.History, results checker.Result) (int64, string) {
	at, why := int64(-1), ""
	byIndex := map[int]int64{}
	for _, op := range h {
		byIndex[op.Index] = op.Time
	}
	names := make([]string, 0, len(results))
	for k := range results {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		sub, ok := results[k].(map[string]any)
		if !ok {
			if r, isResult := results[k].(checker.Result); isResult {
				sub, ok = map[string]any(r), true
			}
		}
		if !ok || !invalid(sub["valid?"]) {
			continue
		}
		line, _ := sub["first-error"].(string)
		m := opRef.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var idx int
		fmt.Sscan(m[1], &idx)
		if t, ok := byIndex[idx]; ok && (at < 0 || t < at) {
			at, why = t, fmt.Sprintf("around the first error, op %d at %s", idx, fmtSeconds(t))
		}
	}
	return at, why
}

// eventSource calls fn for each journal event of a run, in order.
type eventSource func(fn func(*Event)) error

// sliceSource is a journal held in memory.
func sliceSource(journal []Event) eventSource {
	return func(fn func(*Event)) error {
		for i := range journal {
			fn(&journal[i])
		}
		return nil
	}
}

// storedSource streams the journal stored in the run directory dir, so
// that a long run's journal never has to fit in memory.
func storedSource(dir string) eventSource {
	return func(fn func(*Event)) error {
		_, _, err := store.StreamJournal(dir, func(e network.Event) error {
			fn(fromNetwork(e))
			return nil
		})
		return err
	}
}

// messagesFor draws the run's diagram for Write: from the journal stored
// in dir when there is one (a run streams its journal there and keeps only
// a sample in memory), else from journal.
func messagesFor(dir string, h history.History, journal []Event, results checker.Result) []byte {
	events := sliceSource(journal)
	if store.HasJournal(dir) {
		events = storedSource(dir)
	}
	w, err := focus(h, events, results)
	sel := newSelector(w.From)
	if err == nil {
		err = events(func(e *Event) { sel.add(e) })
	}
	if err != nil {
		// The diagram is a view; draw what memory holds rather than none.
		w, sel = Window{}, newSelector(0)
		sliceSource(journal)(func(e *Event) { sel.add(e) })
	}
	markHighlights(sel.msgs, failureRefsOf(h, results))
	return drawMessages(sel.msgs, max(sel.total, sentCount(results)), sel.before, w)
}

// invalid reads valid? as a run holds it (checker.Invalid) or as a
// stored run does (false).
func invalid(v any) bool { return v == checker.Invalid || v == false }

// leadInStart is the send time leadIn sends before the first send at or
// after at; sends are the run's send times in order.
func leadInStart(sends []int64, at int64) int64 {
	i := sort.Search(len(sends), func(i int) bool { return sends[i] >= at })
	if i = max(0, i-leadIn); i < len(sends) {
		return sends[i]
	}
	return at
}

// MessagesFrom draws the Lamport diagram of the messages sent from the
// given time on, reading a stored journal as a stream: it keeps only the
// messages it draws, so memory stays small whatever the journal's size.
// serve uses it to move the diagram's window.
func MessagesFrom(r io.Reader, from int64) ([]byte, error) {
	sel := newSelector(from)
	if _, err := store.ReadJournal(r, func(e network.Event) error { sel.add(fromNetwork(e)); return nil }); err != nil {
		return nil, err
	}
	return drawMessages(sel.msgs, sel.total, sel.before, Window{From: from, Why: "chosen in serve"}), nil
}
