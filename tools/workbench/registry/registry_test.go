package registry

import (
	"os"
	"strings"
	"testing"
)

// Every registered workload must be runnable: named as registered, with a
// generator, a client and a checker.
func TestWorkloadsAreComplete(t *testing.T) {
	for _, name := range Names() {
		w, ok := Lookup(name)
		if !ok || w == nil {
			t.Fatalf("%s listed but not found", name)
		}
		if w.Name != name {
			t.Errorf("%s registered under the name %q", w.Name, name)
		}
		if w.NewGenerator == nil || w.NewClient == nil || w.Check == nil {
			t.Errorf("%s lacks a generator, client or checker", name)
		}
		if w.Doc.About == "" || len(w.Doc.RPCs) == 0 {
			t.Errorf("%s has no Doc", name)
		}
	}
	if _, ok := Lookup("nope"); ok {
		t.Error("unknown workload found")
	}
}

// Every workload's strict checks are in docs/verdicts.md's table, each
// with its fixture, which exists under tools/fixtures.
func TestStrictChecksAreDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/verdicts.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 7 {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[2]), "`")
		name, _, _ = strings.Cut(name, "` (")
		rows[name] = line
	}
	n := 0
	for _, name := range Names() {
		w, _ := Lookup(name)
		for _, c := range w.Strict {
			n++
			row, ok := rows[c.Name]
			if !ok {
				t.Errorf("%s: strict check %q is not in docs/verdicts.md", name, c.Name)
				continue
			}
			if c.Fixture == "" || !strings.Contains(row, "`"+c.Fixture+"`") {
				t.Errorf("%s: strict check %q: fixture %q not in its row: %s", name, c.Name, c.Fixture, row)
			}
			if c.Defect == "" || c.Maelstrom == "" {
				t.Errorf("%s: strict check %q lacks its defect or Maelstrom's view", name, c.Name)
			}
			if st, err := os.Stat("../../fixtures/" + c.Fixture); err != nil || !st.IsDir() {
				t.Errorf("%s: strict check %q: no fixture tools/fixtures/%s (%v)", name, c.Name, c.Fixture, err)
			}
		}
	}
	if n == 0 {
		t.Error("no workload has strict checks")
	}
}
