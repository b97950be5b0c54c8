package registry

import "testing"

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
	}
	if _, ok := Lookup("nope"); ok {
		t.Error("unknown workload found")
	}
}
