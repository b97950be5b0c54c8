package broadcast

import (
	"fmt"
	"reflect"
	"testing"
)

func nodeIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("n%d", i)
	}
	return ids
}

func mustTopology(t *testing.T, name string, n int) map[string][]string {
	t.Helper()
	topo, err := Topology(name, nodeIDs(n))
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

func TestGrid25(t *testing.T) {
	topo := mustTopology(t, "grid", 25)
	// 5×5: n0 is the top-left corner, n12 the centre, n24 the last corner.
	want := map[string][]string{
		"n0":  {"n5", "n1"},
		"n12": {"n17", "n7", "n13", "n11"},
		"n4":  {"n9", "n3"},
		"n20": {"n15", "n21"},
		"n24": {"n19", "n23"},
		"n5":  {"n10", "n0", "n6"},
	}
	for node, nbs := range want {
		if !reflect.DeepEqual(topo[node], nbs) {
			t.Errorf("grid %s = %v, want %v", node, topo[node], nbs)
		}
	}
	if len(topo) != 25 {
		t.Errorf("grid has %d entries", len(topo))
	}
	if got := mustTopology(t, "", 25); !reflect.DeepEqual(got, topo) {
		t.Error("empty topology name is not grid")
	}
}

func TestGridPartialLastRow(t *testing.T) {
	// 5 nodes: side 3, rows [n0 n1 n2] [n3 n4].
	want := map[string][]string{
		"n0": {"n3", "n1"},
		"n1": {"n4", "n2", "n0"},
		"n2": {"n1"},
		"n3": {"n0", "n4"},
		"n4": {"n1", "n3"},
	}
	if got := mustTopology(t, "grid", 5); !reflect.DeepEqual(got, want) {
		t.Errorf("grid 5 = %v, want %v", got, want)
	}
	if got := mustTopology(t, "grid", 1); !reflect.DeepEqual(got, map[string][]string{"n0": {}}) {
		t.Errorf("grid 1 = %v", got)
	}
}

func TestLine(t *testing.T) {
	want := map[string][]string{"n0": {"n1"}, "n1": {"n0", "n2"}, "n2": {"n1", "n3"}, "n3": {"n2"}}
	if got := mustTopology(t, "line", 4); !reflect.DeepEqual(got, want) {
		t.Errorf("line 4 = %v", got)
	}
	if got := mustTopology(t, "line", 1); len(got) != 0 {
		t.Errorf("line 1 = %v, want empty map", got)
	}
	if got := mustTopology(t, "line", 2); !reflect.DeepEqual(got, map[string][]string{"n0": {"n1"}, "n1": {"n0"}}) {
		t.Errorf("line 2 = %v", got)
	}
}

func TestTotal(t *testing.T) {
	want := map[string][]string{"n0": {"n1", "n2"}, "n1": {"n0", "n2"}, "n2": {"n0", "n1"}}
	if got := mustTopology(t, "total", 3); !reflect.DeepEqual(got, want) {
		t.Errorf("total 3 = %v", got)
	}
}

func TestTree4Tiers(t *testing.T) {
	topo := mustTopology(t, "tree4", 25)
	// Tiers: [n0] [n1…n4] [n5…n20] [n21…n24].
	want := map[string][]string{
		"n0":  {"n1", "n2", "n3", "n4"},
		"n1":  {"n0", "n5", "n6", "n7", "n8"},
		"n4":  {"n0", "n17", "n18", "n19", "n20"},
		"n5":  {"n1", "n21", "n22", "n23", "n24"},
		"n6":  {"n1"},
		"n20": {"n4"},
		"n21": {"n5"},
		"n24": {"n5"},
	}
	for node, nbs := range want {
		if !reflect.DeepEqual(topo[node], nbs) {
			t.Errorf("tree4 %s = %v, want %v", node, topo[node], nbs)
		}
	}
	if len(topo) != 25 {
		t.Errorf("tree4 has %d entries", len(topo))
	}
}

func TestTree2AndTree3(t *testing.T) {
	want2 := map[string][]string{
		"n0": {"n1", "n2"},
		"n1": {"n0", "n3", "n4"},
		"n2": {"n0", "n5"},
		"n3": {"n1"}, "n4": {"n1"}, "n5": {"n2"},
	}
	for _, name := range []string{"tree", "tree2"} {
		if got := mustTopology(t, name, 6); !reflect.DeepEqual(got, want2) {
			t.Errorf("%s 6 = %v", name, got)
		}
	}
	want3 := map[string][]string{
		"n0": {"n1", "n2", "n3"},
		"n1": {"n0", "n4"},
		"n2": {"n0"}, "n3": {"n0"}, "n4": {"n1"},
	}
	if got := mustTopology(t, "tree3", 5); !reflect.DeepEqual(got, want3) {
		t.Errorf("tree3 5 = %v", got)
	}
	if got := mustTopology(t, "tree3", 1); !reflect.DeepEqual(got, map[string][]string{"n0": {}}) {
		t.Errorf("tree3 1 = %v", got)
	}
}

func TestUnknownTopology(t *testing.T) {
	if _, err := Topology("ring", nodeIDs(3)); err == nil {
		t.Error("ring accepted")
	}
}

// Every topology Maelstrom offers is symmetric and connected; a broken
// builder usually breaks one of the two.
func TestTopologiesSymmetricAndConnected(t *testing.T) {
	for _, name := range Topologies {
		for _, n := range []int{2, 3, 5, 10, 25} {
			topo := mustTopology(t, name, n)
			for a, nbs := range topo {
				for _, b := range nbs {
					if !contains(topo[b], a) {
						t.Errorf("%s/%d: %s lists %s but not the other way", name, n, a, b)
					}
				}
			}
			seen := map[string]bool{"n0": true}
			queue := []string{"n0"}
			for len(queue) > 0 {
				x := queue[0]
				queue = queue[1:]
				for _, y := range topo[x] {
					if !seen[y] {
						seen[y] = true
						queue = append(queue, y)
					}
				}
			}
			if len(seen) != n {
				t.Errorf("%s/%d: only %d nodes reachable", name, n, len(seen))
			}
		}
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
