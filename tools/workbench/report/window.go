package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/network"
)

// leadIn is how many messages the diagram shows before the first error,
// so that what led to it is in view too.
const leadIn = maxDiagramMessages / 3

// opRef finds "op 42" in a checker's first-error line.
var opRef = regexp.MustCompile(`\bop (\d+)\b`)

// focus picks the diagram's window: for an invalid run, around the first
// error a checker names (the earliest op a first-error line refers to);
// failing that, around the first error reply a node sent; else the start
// of the run.
func focus(h history.History, journal []Event, results checker.Result) Window {
	if !invalid(results["valid?"]) {
		return Window{}
	}
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
	if at < 0 {
		for i := range journal {
			if journal[i].Kind == Send && journal[i].typeName() == "error" {
				at, why = journal[i].Time, fmt.Sprintf("around the first error reply, at %s", fmtSeconds(journal[i].Time))
				break
			}
		}
	}
	if at < 0 {
		return Window{}
	}
	return Window{From: leadInStart(journal, at), Why: why}
}

// invalid reads valid? as a run holds it (checker.Invalid) or as a
// stored run does (false).
func invalid(v any) bool { return v == checker.Invalid || v == false }

// leadInStart is the send time leadIn sends before the first send at or
// after at.
func leadInStart(journal []Event, at int64) int64 {
	var sends []int64
	for i := range journal {
		if journal[i].Kind == Send {
			sends = append(sends, journal[i].Time)
		}
	}
	i := sort.Search(len(sends), func(i int) bool { return sends[i] >= at })
	if i = max(0, i-leadIn); i < len(sends) {
		return sends[i]
	}
	return at
}

// MessagesFrom draws the Lamport diagram of the messages sent from the
// given time on, reading a stored net-journal.json (a JSON array, or one
// event per line) as a stream: it keeps only the messages it draws, so
// memory stays small whatever the journal's size. serve uses it to move
// the diagram's window.
func MessagesFrom(r io.Reader, from int64) ([]byte, error) {
	br := bufio.NewReader(r)
	dec := json.NewDecoder(br)
	first, err := peekNonSpace(br)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if first == '[' {
		if _, err := dec.Token(); err != nil {
			return nil, fmt.Errorf("net-journal.json: %w", err)
		}
	}
	sel := newSelector(from)
	for n := 0; dec.More(); n++ {
		var e network.Event
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("net-journal.json: event %d: %w", n, err)
		}
		// Raw aliases the decoded body, which is fresh per event; only
		// the kept events hold on to it.
		sel.add(&Event{Kind: string(e.Kind), Time: int64(e.Time), ID: e.Msg.ID, Src: e.Msg.Src, Dest: e.Msg.Dest, Raw: e.Msg.Body})
	}
	return drawMessages(sel.msgs, sel.total, sel.before, Window{From: from, Why: "chosen in serve"}), nil
}

func peekNonSpace(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.Peek(1)
		if err != nil {
			return 0, err
		}
		switch b[0] {
		case ' ', '\t', '\n', '\r':
			br.ReadByte()
		default:
			return b[0], nil
		}
	}
}
