package kafka

import (
	"strings"
	"testing"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
)

// hist builds a history from (process, type, f, value) rows; each
// completion gets an invocation just before it.
type row struct {
	p   int
	t   history.Type
	f   string
	val any
}

func build(rows ...row) history.History {
	var h history.History
	var tm int64
	for _, r := range rows {
		tm += 10
		inv := history.Op{Type: history.Invoke, Process: r.p, F: r.f, Time: tm}
		switch r.f {
		case "send":
			mop := r.val.([]any)
			inv.Value = []any{[]any{"send", mop[1], mop[2].([]any)[1]}}
		case "poll":
			inv.Value = []any{[]any{"poll"}}
		default:
			inv.Value = r.val
		}
		h = append(h, inv)
		tm += 10
		c := history.Op{Type: r.t, Process: r.p, F: r.f, Value: r.val, Time: tm}
		if r.t != history.OK {
			c.Value = inv.Value
		}
		if r.f == "send" || r.f == "poll" {
			if r.t == history.OK {
				c.Value = []any{r.val}
			}
		}
		h = append(h, c)
	}
	h.Reindex()
	return h
}

func send(p int, k string, off, v int) row {
	return row{p, history.OK, "send", []any{"send", k, []any{off, v}}}
}

func poll(p int, msgs map[string]any) row {
	return row{p, history.OK, "poll", []any{"poll", msgs}}
}

func pairs(ps ...int) []any {
	var out []any
	for i := 0; i+1 < len(ps); i += 2 {
		out = append(out, []any{ps[i], ps[i+1]})
	}
	return out
}

func errorTypes(res checker.Result) string {
	var s []string
	for _, t := range res["error-types"].([]any) {
		s = append(s, string(t.(interface{ String() string }).String()))
	}
	return strings.Join(s, ",")
}

func TestValidHistory(t *testing.T) {
	h := build(
		send(0, "1", 0, 1),
		send(1, "1", 1, 2),
		poll(0, map[string]any{"1": pairs(0, 1, 1, 2)}),
		row{2, history.OK, "assign", []any{"1"}},
		poll(2, map[string]any{"1": pairs(1, 2)}), // after assign, may start anywhere
		send(0, "2", 0, 1),
		poll(1, map[string]any{"2": pairs(0, 1)}),
	)
	res := Check(h)
	if res.Valid() != checker.Valid {
		t.Fatalf("valid history judged %v: %v", res.Valid(), res)
	}
}

func expectBad(t *testing.T, name string, h history.History, typ string) {
	t.Helper()
	res := Check(h)
	if res.Valid() != checker.Invalid {
		t.Errorf("%s: judged %v, want invalid (%v)", name, res.Valid(), res)
		return
	}
	if _, ok := res[typ]; !ok {
		t.Errorf("%s: no %s in %v", name, typ, res)
	}
	fe, _ := res["first-error"].(string)
	if !strings.Contains(fe, typ) {
		t.Errorf("%s: first-error %q does not name %s", name, fe, typ)
	}
}

func TestLostWrite(t *testing.T) {
	// Offset 0 was acknowledged, offset 1 read, offset 0 never read.
	expectBad(t, "lost", build(
		send(0, "1", 0, 1),
		send(0, "1", 1, 2),
		poll(1, map[string]any{"1": pairs(1, 2)}),
		send(0, "1", 2, 3),
		poll(2, map[string]any{"1": pairs(1, 2, 2, 3)}),
	), "lost-write")
}

func TestUnseen(t *testing.T) {
	expectBad(t, "unseen", build(
		send(0, "1", 0, 1),
		send(0, "1", 1, 2),
		poll(1, map[string]any{"1": pairs(0, 1)}),
	), "unseen")
}

func TestInconsistentAndDuplicate(t *testing.T) {
	// Two sends acknowledged at the same offset (an offset reused).
	expectBad(t, "reuse", build(
		send(0, "1", 0, 1),
		send(1, "1", 0, 2),
		poll(2, map[string]any{"1": pairs(0, 1)}),
		poll(3, map[string]any{"1": pairs(0, 2)}),
	), "inconsistent-offsets")
	expectBad(t, "dup", build(
		send(0, "1", 0, 1),
		send(0, "1", 1, 2),
		poll(2, map[string]any{"1": pairs(0, 1, 1, 2, 2, 1)}),
	), "duplicate")
}

func TestNonmonotonicAndSkippingPolls(t *testing.T) {
	base := []row{send(0, "1", 0, 1), send(0, "1", 1, 2), send(0, "1", 2, 3)}
	expectBad(t, "backwards", build(append(base,
		poll(1, map[string]any{"1": pairs(0, 1, 1, 2, 2, 3)}),
		poll(1, map[string]any{"1": pairs(1, 2)}), // went back
	)...), "nonmonotonic-poll")
	expectBad(t, "skip", build(append(base,
		poll(1, map[string]any{"1": pairs(0, 1)}),
		poll(1, map[string]any{"1": pairs(2, 3)}), // skipped offset 1
		poll(2, map[string]any{"1": pairs(0, 1, 1, 2, 2, 3)}),
	)...), "poll-skip")
	expectBad(t, "int-skip", build(append(base,
		poll(1, map[string]any{"1": pairs(0, 1, 2, 3)}),
		poll(2, map[string]any{"1": pairs(0, 1, 1, 2, 2, 3)}),
	)...), "int-poll-skip")
	// An assign that drops a key resets the expectation for it: no error.
	// (Re-assigning a key that stays assigned does not.)
	h := build(append(base,
		poll(1, map[string]any{"1": pairs(0, 1, 1, 2, 2, 3)}),
		row{1, history.OK, "assign", []any{"2"}},
		row{1, history.OK, "assign", []any{"1"}},
		poll(1, map[string]any{"1": pairs(0, 1)}),
	)...)
	if res := Check(h); res.Valid() != checker.Valid {
		t.Errorf("re-read after assign judged %v: %v", res.Valid(), res["first-error"])
	}
}

func TestNonmonotonicSend(t *testing.T) {
	expectBad(t, "send backwards", build(
		send(0, "1", 1, 1),
		send(0, "1", 0, 2),
		poll(1, map[string]any{"1": pairs(0, 2, 1, 1)}),
	), "nonmonotonic-send")
}

func TestAbortedRead(t *testing.T) {
	h := build(
		row{0, history.Fail, "send", []any{"send", "1", []any{0, 7}}},
		send(1, "1", 1, 8),
		poll(2, map[string]any{"1": pairs(0, 7, 1, 8)}),
	)
	expectBad(t, "G1a", h, "G1a")
}

func TestInfoSendThatWasReadIsNotLost(t *testing.T) {
	// An info send (offset unknown) that a poll did read is fine, and one
	// never read is neither lost nor unseen.
	h := build(
		row{0, history.Info, "send", []any{"send", "1", []any{nil, 1}}},
		send(1, "1", 1, 2),
		row{3, history.Info, "send", []any{"send", "1", []any{nil, 9}}},
		poll(2, map[string]any{"1": pairs(0, 1, 1, 2)}),
	)
	if res := Check(h); res.Valid() != checker.Valid {
		t.Errorf("judged %v: %v", res.Valid(), res["first-error"])
	}
}

func TestEmptyPollOfUnwrittenKeyCrashesLikeJepsen(t *testing.T) {
	h := build(
		send(0, "1", 0, 1),
		poll(1, map[string]any{"1": pairs(0, 1), "2": []any{}}),
	)
	if res := Check(h); res.Valid() != checker.Unknown {
		t.Errorf("judged %v, want unknown: %v", res.Valid(), res)
	}
}
