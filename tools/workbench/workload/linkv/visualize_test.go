package linkv

import (
	"bytes"
	"strings"
	"testing"

	"github.com/glomers/glomers/tools/workbench/history"
)

// StaleRead is a lin-kv history whose key 0 cannot be linearized (a read
// returns a value overwritten before it began) and whose key 1 can.
func staleRead() history.History {
	return history.History{
		op(history.Invoke, 0, "write", []any{0, 3}, 0),
		op(history.OK, 0, "write", []any{0, 3}, 10),
		op(history.Invoke, 0, "write", []any{0, 4}, 20),
		op(history.OK, 0, "write", []any{0, 4}, 30),
		op(history.Invoke, 1, "read", []any{0, nil}, 40),
		op(history.OK, 1, "read", []any{0, "<b>3</b>"}, 50),
		op(history.Invoke, 1, "read", []any{1, nil}, 60),
		op(history.OK, 1, "read", []any{1, nil}, 70),
	}
}

func TestVisualizeDrawsOnlyTheFailingKeys(t *testing.T) {
	var b bytes.Buffer
	n, err := Visualize(staleRead(), &b)
	if err != nil || n != 1 {
		t.Fatalf("Visualize = %d, %v; want 1 key", n, err)
	}
	page := b.String()
	if !strings.Contains(page, "<script") || !strings.Contains(page, `key 0: write 4`) || strings.Contains(page, "key 1:") {
		t.Errorf("visualisation should show key 0 only:\n%.2000s", page)
	}
	// Values from the history never reach the page unescaped.
	if strings.Contains(page, "<b>3</b>") {
		t.Error("a read value appears unescaped in the page")
	}
	b.Reset()
	if n, err := Visualize(staleRead()[:4], &b); n != 0 || err != nil || b.Len() != 0 {
		t.Errorf("linearizable history: %d keys, %v, %d bytes written", n, err, b.Len())
	}
}

// The page marks the operations the checker names, in a row of their own
// spanning each op's call, and tooltips say which history op each box is.
func TestVisualizeMarksTheOpsThatCannotBeLinearized(t *testing.T) {
	h := staleRead()
	for i := range h {
		h[i].Node = "n1"
	}
	h.Reindex()
	var b bytes.Buffer
	if n, err := Visualize(h, &b); n != 1 || err != nil {
		t.Fatalf("Visualize = %d, %v", n, err)
	}
	page := b.String()
	for _, want := range []string{
		`"Tag":"cannot be linearized"`,
		`"Description":"key 0 op 4: read → `,
		`the register held 4`,
		`"Metadata":"op 4 on n1"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	// Only the refused read is marked, not the writes before it.
	if strings.Count(page, `"Tag":"cannot be linearized"`) != 1 {
		t.Errorf("%d marks, want 1", strings.Count(page, `"Tag":"cannot be linearized"`))
	}
}
