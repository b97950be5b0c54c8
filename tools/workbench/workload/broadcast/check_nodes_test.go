package broadcast

import (
	"strings"
	"testing"

	"github.com/glomers/glomers/tools/workbench/checker"
)

// TestLostValueNamesTheNodes: the first error says where the value went in,
// where it was last seen, which read on which node missed it, and which
// nodes' latest reads have it.
func TestLostValueNamesTheNodes(t *testing.T) {
	b := &hist{}
	onNode := func(node string) { b.h[len(b.h)-1].Node = node; b.h[len(b.h)-2].Node = node }
	// Process p talks to node n<p>.
	b.broadcast(1, 7, 0, 1)
	onNode("n1")
	b.read(1, vals(7), 10, 11)
	onNode("n1")
	b.read(2, vals(7), 12, 13)
	onNode("n2")
	b.read(3, vals(), 20, 21) // n3 never gets it
	onNode("n3")
	b.read(1, vals(), 30, 31) // and n1 drops it
	onNode("n1")
	res := Check(b.h)
	if res.Valid() != checker.Invalid {
		t.Fatalf("valid? = %v", res.Valid())
	}
	fe, _ := res["first-error"].(string)
	for _, want := range []string{
		"value 7 lost",
		"broadcast to n1 at op 0",
		"last seen by the read invoked at op 4 on n2",
		"missing from the read invoked at op 8 (process 1 on n1",
		"the latest read on n2 has it, on n1, n3 misses it",
	} {
		if !strings.Contains(fe, want) {
			t.Errorf("first-error lacks %q:\n%s", want, fe)
		}
	}
}
