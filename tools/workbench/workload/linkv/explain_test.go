package linkv

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
)

// on is op with the node the client talked to.
func on(node string, o history.Op) history.Op {
	o.Node = node
	return o
}

const ms = int64(1e6)

// stuckEntry is the non-linearizable entry of key 0 in res.
func stuckEntry(t *testing.T, res checker.Result) map[string]any {
	t.Helper()
	nl, ok := res["non-linearizable"].(map[int64]any)
	if !ok {
		t.Fatalf("non-linearizable = %#v", res["non-linearizable"])
	}
	e, ok := nl[0].(map[string]any)
	if !ok {
		t.Fatalf("non-linearizable has no key 0: %#v", nl)
	}
	return e
}

func firstPath(t *testing.T, e map[string]any) map[string]any {
	t.Helper()
	paths := e["final-paths"].([]any)
	if len(paths) == 0 {
		t.Fatalf("no final paths: %#v", e)
	}
	return paths[0].(map[string]any)
}

// The stale read of the issue: write 1, write 2 completes, then a read
// returns 1. The checker names that read, who ran it where and when, and
// what it should have returned.
func TestStaleReadIsNamedWithTheValueItShouldHaveRead(t *testing.T) {
	h := history.History{
		on("n0", op(history.Invoke, 0, "write", []any{0, 1}, 0)),
		on("n0", op(history.OK, 0, "write", []any{0, 1}, 10*ms)),
		on("n0", op(history.Invoke, 0, "write", []any{0, 2}, 20*ms)),
		on("n0", op(history.OK, 0, "write", []any{0, 2}, 30*ms)),
		on("n1", op(history.Invoke, 1, "read", []any{0, nil}, 1204*ms)),
		on("n1", op(history.OK, 1, "read", []any{0, 1}, 1206*ms)),
		on("n0", op(history.Invoke, 0, "read", []any{0, nil}, 1300*ms)),
		on("n0", op(history.OK, 0, "read", []any{0, 2}, 1310*ms)),
	}
	h.Reindex()
	res := Check(h)
	if res.Valid() != checker.Invalid {
		t.Fatalf("stale read judged %v", res.Valid())
	}
	want := "key 0 cannot be linearized: the read at op 4 (process 1 on n1, 1.204–1.206 s) returned 1, " +
		"but the register held 2 (written by op 2) after the longest linearizable prefix found (2 of the key's 4 ops)"
	if got := res["first-error"]; got != want {
		t.Errorf("first-error\n got %v\nwant %s", got, want)
	}
	e := stuckEntry(t, res)
	if e["linearized-count"] != 2 || e["op-count"] != 4 {
		t.Errorf("counts: %#v", e)
	}
	p := firstPath(t, e)
	if p["value"] != json.Number("2") || p["written-by"] != 2 {
		t.Errorf("path value %v written by %v, want 2 by op 2", p["value"], p["written-by"])
	}
	stuck := p["cannot-follow"].([]any)
	if len(stuck) != 1 {
		t.Fatalf("cannot-follow = %#v", stuck)
	}
	s := stuck[0].(map[string]any)
	for k, want := range map[string]any{
		"index": 4, "process": 1, "node": "n1", "f": "read", "expected": json.Number("2"),
		"invoke-time": 1204 * ms, "complete-time": 1206 * ms,
	} {
		if s[k] != want {
			t.Errorf("cannot-follow[0][%s] = %#v, want %#v", k, s[k], want)
		}
	}
	if v, _ := s["value"].([]any); len(v) != 2 || v[1] != 1 {
		t.Errorf("cannot-follow[0] value = %#v, want the read's [0 1]", s["value"])
	}
	tail := p["prefix-tail"].([]any)
	if len(tail) != 2 || tail[1].(map[string]any)["index"] != 2 || tail[1].(map[string]any)["value-after"] != json.Number("2") {
		t.Errorf("prefix-tail = %#v", tail)
	}
}

func TestLinearizableHistoryNamesNothing(t *testing.T) {
	h := history.History{
		op(history.Invoke, 0, "write", []any{0, 1}, 0),
		op(history.OK, 0, "write", []any{0, 1}, 10),
		op(history.Invoke, 0, "write", []any{0, 2}, 20),
		op(history.Invoke, 1, "read", []any{0, nil}, 25),
		op(history.OK, 1, "read", []any{0, 1}, 28), // concurrent with the write of 2
		op(history.OK, 0, "write", []any{0, 2}, 30),
		op(history.Invoke, 1, "read", []any{0, nil}, 40),
		op(history.OK, 1, "read", []any{0, 2}, 50),
	}
	h.Reindex()
	res := Check(h)
	if res.Valid() != checker.Valid {
		t.Fatalf("judged %v: %v", res.Valid(), res)
	}
	if _, ok := res["first-error"]; ok {
		t.Errorf("first-error %v", res["first-error"])
	}
	if _, ok := res["non-linearizable"]; ok {
		t.Errorf("non-linearizable %v", res["non-linearizable"])
	}
}

// A CAS acknowledged ok whose from did not hold is named as such.
func TestRefusedCASIsNamed(t *testing.T) {
	h := history.History{
		op(history.Invoke, 0, "write", []any{0, 1}, 0),
		op(history.OK, 0, "write", []any{0, 1}, 10),
		op(history.Invoke, 2, "cas", []any{0, []any{3, 4}}, 20),
		op(history.OK, 2, "cas", []any{0, []any{3, 4}}, 30),
	}
	h.Reindex()
	line, _ := Check(h)["first-error"].(string)
	if !strings.Contains(line, "the cas 3 → 4 at op 2 (process 2, 0.000–0.000 s) succeeded, but the register held 1 (written by op 0)") {
		t.Errorf("first-error = %q", line)
	}
}

// Concurrent writes leave two orders that linearize as far; porcupine
// keeps one of them, and the line names the value each order leaves and
// the write that put it there, the one porcupine found first.
func TestConcurrentWritesNameEveryValueTheRegisterCouldHold(t *testing.T) {
	h := history.History{
		op(history.Invoke, 0, "write", []any{0, 3}, 0),
		op(history.Invoke, 1, "write", []any{0, 4}, 1),
		op(history.OK, 0, "write", []any{0, 3}, 10),
		op(history.OK, 1, "write", []any{0, 4}, 11),
		op(history.Invoke, 2, "read", []any{0, nil}, 20),
		op(history.OK, 2, "read", []any{0, 1}, 30),
	}
	h.Reindex()
	res := Check(h)
	line, _ := res["first-error"].(string)
	if !strings.Contains(line, "the read at op 4 (process 2, 0.000–0.000 s) returned 1, but the register held 3 (written by op 0) or 4 (written by op 1) after") &&
		!strings.Contains(line, "the read at op 4 (process 2, 0.000–0.000 s) returned 1, but the register held 4 (written by op 1) or 3 (written by op 0) after") {
		t.Errorf("first-error = %q", line)
	}
	e := stuckEntry(t, res)
	if v := e["values"].([]any); len(v) != 2 {
		t.Errorf("values = %v, want 3 and 4", v)
	}
	if p := firstPath(t, e); p["linearized-count"] != 2 {
		t.Errorf("path %#v, want both writes linearized", p)
	}
}

// When not even the first op linearizes, the empty prefix is where it
// stops and the register still holds its initial null.
func TestNothingLinearizes(t *testing.T) {
	h := history.History{
		op(history.Invoke, 0, "read", []any{0, nil}, 0),
		op(history.OK, 0, "read", []any{0, 2}, 10),
	}
	h.Reindex()
	line, _ := Check(h)["first-error"].(string)
	if !strings.Contains(line, "the read at op 0 (process 0, 0.000–0.000 s) returned 2, but the register held null (initial) after the longest linearizable prefix found (0 of the key's 1 ops)") {
		t.Errorf("first-error = %q", line)
	}
}

// Many refused ops at once: the result shows maxStuck of them and counts
// them all.
func TestRefusedOpsAreBounded(t *testing.T) {
	h := history.History{
		op(history.Invoke, 0, "write", []any{0, 1}, 0),
		op(history.OK, 0, "write", []any{0, 1}, 10),
	}
	for p := 1; p <= maxStuck+2; p++ {
		h = append(h, op(history.Invoke, p, "read", []any{0, nil}, 20+int64(p)))
	}
	for p := 1; p <= maxStuck+2; p++ {
		h = append(h, op(history.OK, p, "read", []any{0, 2}, 40+int64(p)))
	}
	h.Reindex()
	p := firstPath(t, stuckEntry(t, Check(h)))
	if n := len(p["cannot-follow"].([]any)); n != maxStuck || p["cannot-follow-count"] != maxStuck+2 {
		t.Errorf("cannot-follow shows %d of %v", n, p["cannot-follow-count"])
	}
	// The first named is the first to complete.
	if i := p["cannot-follow"].([]any)[0].(map[string]any)["index"]; i != 2 {
		t.Errorf("first refused op %v, want op 2", i)
	}
}

// randomHistory is a short single-key history of three processes whose
// reads return random values, so that many are not linearizable.
func randomHistory(rng *rand.Rand) history.History {
	var h history.History
	open := map[int]history.Op{}
	t := int64(0)
	for len(h) < 24 {
		t += int64(1 + rng.IntN(5))
		p := rng.IntN(3)
		if inv, ok := open[p]; ok {
			c := inv
			c.Time = t
			c.Type = history.OK
			switch {
			case inv.F == "read":
				c.Value = []any{0, rng.IntN(3)}
			case inv.F == "cas" && rng.IntN(3) == 0:
				c.Type = history.Info
			}
			h = append(h, c)
			delete(open, p)
			continue
		}
		var inv history.Op
		switch rng.IntN(3) {
		case 0:
			inv = op(history.Invoke, p, "read", []any{0, nil}, t)
		case 1:
			inv = op(history.Invoke, p, "write", []any{0, rng.IntN(3)}, t)
		default:
			inv = op(history.Invoke, p, "cas", []any{0, []any{rng.IntN(3), rng.IntN(3)}}, t)
		}
		open[p] = inv
		h = append(h, inv)
	}
	h.Reindex()
	return h
}

// Whatever the history, a key that cannot be linearized is explained: a
// prefix that replays, a value, and an op named in the line that the
// register refuses there.
func TestEveryFailureIsExplained(t *testing.T) {
	rng := rand.New(rand.NewPCG(24, 7))
	invalid := 0
	for i := 0; i < 400; i++ {
		h := randomHistory(rng)
		res := Check(h)
		if res.Valid() != checker.Invalid {
			continue
		}
		invalid++
		line, _ := res["first-error"].(string)
		if !strings.Contains(line, "but the register held") {
			t.Fatalf("history %d: first-error %q\n%v", i, line, h)
		}
		e := stuckEntry(t, res)
		p := firstPath(t, e)
		if v := e["values"].([]any); len(v) == 0 || v[0] != p["value"] {
			t.Errorf("history %d: values %v do not start with the found prefix's %v", i, v, p["value"])
		}
		named := p["cannot-follow"].([]any)[0].(map[string]any)["index"].(int)
		if !strings.Contains(line, fmt.Sprintf(" at op %d ", named)) {
			t.Errorf("history %d: line %q does not name op %d", i, line, named)
		}
	}
	t.Logf("%d of 400 not linearizable", invalid)
	if invalid < 50 {
		t.Errorf("only %d of 400 random histories were not linearizable; the test shows little", invalid)
	}
}
