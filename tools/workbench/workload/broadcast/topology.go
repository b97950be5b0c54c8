package broadcast

import (
	"fmt"
	"math"
)

// Topologies lists the --topology names Maelstrom accepts.
var Topologies = []string{"grid", "line", "total", "tree", "tree2", "tree3", "tree4"}

// Topology builds the neighbour map Maelstrom sends in topology messages,
// for nodes in --node-count order. An empty name means grid, Maelstrom's
// default.
func Topology(name string, nodes []string) (map[string][]string, error) {
	switch name {
	case "", "grid":
		return grid(nodes), nil
	case "line":
		return line(nodes), nil
	case "total":
		return total(nodes), nil
	case "tree", "tree2":
		return tree(2, nodes), nil
	case "tree3":
		return tree(3, nodes), nil
	case "tree4":
		return tree(4, nodes), nil
	}
	return nil, fmt.Errorf("unknown topology %q (known: %v)", name, Topologies)
}

// grid lays the nodes out row by row in a square of side ceil(√N); each
// lists the cells below, above, right and left of it, in that order, that
// hold a node.
func grid(nodes []string) map[string][]string {
	n := len(nodes)
	side := int(math.Ceil(math.Sqrt(float64(n))))
	at := func(i, j int) (string, bool) {
		if i < 0 || j < 0 || j >= side {
			return "", false
		}
		idx := i*side + j
		if idx >= n {
			return "", false
		}
		return nodes[idx], true
	}
	topo := map[string][]string{}
	for idx, node := range nodes {
		i, j := idx/side, idx%side
		neighbours := []string{}
		for _, c := range [][2]int{{i + 1, j}, {i - 1, j}, {i, j + 1}, {i, j - 1}} {
			if nb, ok := at(c[0], c[1]); ok {
				neighbours = append(neighbours, nb)
			}
		}
		topo[node] = neighbours
	}
	return topo
}

// line links each node to the one before and the one after it. Maelstrom
// gives fewer than two nodes an empty map.
func line(nodes []string) map[string][]string {
	topo := map[string][]string{}
	n := len(nodes)
	if n < 2 {
		return topo
	}
	topo[nodes[0]] = []string{nodes[1]}
	topo[nodes[n-1]] = []string{nodes[n-2]}
	for i := 1; i < n-1; i++ {
		topo[nodes[i]] = []string{nodes[i-1], nodes[i+1]}
	}
	return topo
}

// total links every node to every other, in node order.
func total(nodes []string) map[string][]string {
	topo := map[string][]string{}
	for _, node := range nodes {
		others := []string{}
		for _, o := range nodes {
			if o != node {
				others = append(others, o)
			}
		}
		topo[node] = others
	}
	return topo
}

// tree cuts the nodes into tiers of 1, b, b², … nodes; the k-th node of a
// tier has the k-th run of b consecutive nodes of the next tier as
// children. A node lists its parent first, then its children.
func tree(b int, nodes []string) map[string][]string {
	topo := map[string][]string{}
	if len(nodes) == 0 {
		return topo
	}
	var tiers [][]string
	for start, size := 0, 1; start < len(nodes); start, size = start+size, size*b {
		tiers = append(tiers, nodes[start:min(len(nodes), start+size)])
	}
	for _, node := range nodes {
		topo[node] = []string{}
	}
	for t := 0; t+1 < len(tiers); t++ {
		for k, parent := range tiers[t] {
			lo := k * b
			if lo >= len(tiers[t+1]) {
				break
			}
			for _, child := range tiers[t+1][lo:min(len(tiers[t+1]), lo+b)] {
				topo[parent] = append(topo[parent], child)
				// The parent goes first in the child's list; children are
				// added later, when their own tier is the parent tier.
				topo[child] = append([]string{parent}, topo[child]...)
			}
		}
	}
	return topo
}
