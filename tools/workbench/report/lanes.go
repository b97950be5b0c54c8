package report

import (
	"sort"
	"strconv"
	"strings"
)

// laneOrder puts each client just left of the node it talks to (so a
// client's requests are short arrows, even among 25 nodes and 75
// clients), server nodes in natural order (n2 before n10), and services on
// the right.
func laneOrder(msgs []*diagramMessage) []string {
	home := map[string]string{} // client -> the first node it talked to
	seen := map[string]bool{}
	var clients, nodes, others []string
	for _, m := range msgs {
		for _, id := range []string{m.src, m.dest} {
			if seen[id] {
				continue
			}
			seen[id] = true
			switch laneGroup(id) {
			case 0:
				clients = append(clients, id)
			case 1:
				nodes = append(nodes, id)
			default:
				others = append(others, id)
			}
		}
		switch {
		case laneGroup(m.src) == 0 && laneGroup(m.dest) == 1 && home[m.src] == "":
			home[m.src] = m.dest
		case laneGroup(m.dest) == 0 && laneGroup(m.src) == 1 && home[m.dest] == "":
			home[m.dest] = m.src
		}
	}
	for _, g := range [][]string{clients, nodes, others} {
		sort.Slice(g, func(i, j int) bool { return naturalLess(g[i], g[j]) })
	}
	byNode := map[string][]string{}
	var lanes []string
	for _, c := range clients {
		if h := home[c]; h != "" {
			byNode[h] = append(byNode[h], c)
		} else {
			lanes = append(lanes, c) // never spoke to a node: far left
		}
	}
	for _, n := range nodes {
		lanes = append(lanes, byNode[n]...)
		lanes = append(lanes, n)
	}
	return append(lanes, others...)
}

// laneGroup: 0 clients, 1 server nodes, 2 services and anything else.
// Maelstrom decides "is a client" by the leading c alone.
func laneGroup(id string) int {
	switch {
	case isNumbered(id, 'c'):
		return 0
	case isNumbered(id, 'n'):
		return 1
	}
	return 2
}

func isNumbered(id string, prefix byte) bool {
	if len(id) < 2 || id[0] != prefix {
		return false
	}
	_, err := strconv.Atoi(id[1:])
	return err == nil
}

// naturalLess orders ids by their prefix, then by their number.
func naturalLess(a, b string) bool {
	pa, na := splitNumber(a)
	pb, nb := splitNumber(b)
	if pa != pb || na < 0 || nb < 0 {
		if pa == pb {
			return a < b
		}
		return pa < pb
	}
	return na < nb
}

func splitNumber(s string) (string, int) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	n, err := strconv.Atoi(s[i:])
	if err != nil {
		return s, -1
	}
	return s[:i], n
}

func laneColour(id string) string {
	switch laneGroup(id) {
	case 0:
		return "#7a869a"
	case 1:
		return "#2b3a55"
	}
	return "#7b4fb0"
}

// Message colours: errors, client RPCs, service calls, node-to-node.
const (
	errorColour   = "#e0245e"
	clientColour  = "#2f7ed8"
	serviceColour = "#7b4fb0"
	peerColour    = "#1b8a5a"
)

var messageColours = []string{errorColour, clientColour, serviceColour, peerColour}

func arrowID(colour string) string { return "arrow-" + strings.TrimPrefix(colour, "#") }

// messageColour tells traffic apart: client RPCs, node-to-node traffic,
// service calls, and errors.
func messageColour(m *diagramMessage) string {
	switch {
	case m.typ == "error":
		return errorColour
	case laneGroup(m.src) == 0 || laneGroup(m.dest) == 0:
		return clientColour
	case laneGroup(m.src) == 2 || laneGroup(m.dest) == 2:
		return serviceColour
	}
	return peerColour
}
