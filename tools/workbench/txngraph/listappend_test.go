package txngraph

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
)

// la parses "a 1 5, r 1 [5 6], r 2 nil" into a list-append txn value.
func la(t *testing.T, s string) []any {
	t.Helper()
	var out []any
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		f := strings.SplitN(part, " ", 3)
		k, _ := strconv.ParseInt(f[1], 10, 64)
		switch {
		case f[0] == "a":
			v, _ := strconv.ParseInt(f[2], 10, 64)
			out = append(out, []any{"append", k, v})
		case f[2] == "nil":
			out = append(out, []any{"r", k, nil})
		default:
			list := []any{}
			for _, e := range strings.Fields(strings.Trim(f[2], "[]")) {
				v, _ := strconv.ParseInt(e, 10, 64)
				list = append(list, v)
			}
			out = append(out, []any{"r", k, list})
		}
	}
	return out
}

func laHist(t *testing.T, evs ...ev) history.History {
	var h history.History
	for i, e := range evs {
		h = append(h, history.Op{Index: i, Type: e.typ, Process: e.p, F: "txn", Value: la(t, e.mops), Time: int64(i)})
	}
	return h
}

func laSerial(t *testing.T, txns ...[2]string) history.History {
	var evs []ev
	for i, x := range txns {
		evs = append(evs, ev{i, history.Invoke, x[1]}, ev{i, history.Type(x[0]), x[1]})
	}
	return laHist(t, evs...)
}

func expectLA(t *testing.T, h history.History, model string, valid bool, want ...string) {
	t.Helper()
	r := CheckListAppend(h, []string{model})
	if r.Valid() != checker.Of(valid) {
		t.Fatalf("%s: valid? %v, want %v: %v", model, r.Valid(), valid, r)
	}
	if !valid {
		got := types(r)
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Fatalf("%s: anomaly-types %v lack %s: %v", model, got, w, r)
			}
		}
	}
}

func TestListAppendCleanHistory(t *testing.T) {
	h := laSerial(t,
		[2]string{"ok", "a 1 1, r 1 [1]"},
		[2]string{"ok", "r 1 [1], a 1 2"},
		[2]string{"fail", "a 1 9"},
		[2]string{"ok", "r 1 [1 2], r 2 nil"},
	)
	for _, m := range Models() {
		expectLA(t, h, m, true)
	}
}

func TestListAppendAnomalies(t *testing.T) {
	expectLA(t, laSerial(t, [2]string{"fail", "a 1 1"}, [2]string{"ok", "a 2 1"}, [2]string{"ok", "r 1 [1], r 2 [1]"}),
		"read-committed", false, G1a)
	expectLA(t, laSerial(t, [2]string{"ok", "a 1 1, a 1 2"}, [2]string{"ok", "r 1 [1]"}, [2]string{"ok", "r 1 [1 2]"}),
		"read-committed", false, G1b)
	expectLA(t, laSerial(t, [2]string{"ok", "a 1 1"}, [2]string{"ok", "r 1 [1 7]"}),
		"read-uncommitted", false, GarbageRead)
	expectLA(t, laSerial(t, [2]string{"ok", "a 1 1"}, [2]string{"ok", "a 1 2"}, [2]string{"ok", "r 1 [1 2]"}, [2]string{"ok", "r 1 [2 1]"}),
		"read-committed", false, IncompatibleOrder)
	expectLA(t, laSerial(t, [2]string{"ok", "a 1 1"}, [2]string{"ok", "r 1 [1 1]"}),
		"read-uncommitted", false, DuplicateElements)
	expectLA(t, laSerial(t, [2]string{"ok", "a 1 1"}, [2]string{"ok", "a 1 2, r 1 [1]"}),
		"serializable", false, Internal)
	// G1c: each saw the other's append.
	expectLA(t, laHist(t,
		ev{0, history.Invoke, "a 1 1, r 2 nil"}, ev{1, history.Invoke, "a 2 1, r 1 nil"},
		ev{0, history.OK, "a 1 1, r 2 [1]"}, ev{1, history.OK, "a 2 1, r 1 [1]"}),
		"read-committed", false, G1c)
	// G0: appends to two keys in opposite orders.
	expectLA(t, laHist(t,
		ev{0, history.Invoke, "a 1 1, a 2 2"}, ev{1, history.Invoke, "a 1 2, a 2 1"},
		ev{0, history.OK, "a 1 1, a 2 2"}, ev{1, history.OK, "a 1 2, a 2 1"},
		ev{2, history.Invoke, "r 1 nil, r 2 nil"}, ev{2, history.OK, "r 1 [1 2], r 2 [1 2]"}),
		"read-uncommitted", false, G0)
	// Write skew: serializable fails, snapshot isolation does not.
	skew := laHist(t,
		ev{0, history.Invoke, "r 1 nil, a 2 1"}, ev{1, history.Invoke, "r 2 nil, a 1 1"},
		ev{0, history.OK, "r 1 nil, a 2 1"}, ev{1, history.OK, "r 2 nil, a 1 1"},
		ev{2, history.Invoke, "r 1 nil, r 2 nil"}, ev{2, history.OK, "r 1 [1], r 2 [1]"})
	expectLA(t, skew, "snapshot-isolation", true)
	expectLA(t, skew, "serializable", false, G2Item)
}
