package crdt

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Component is one node's share of a PN-counter: the sum of the positive
// deltas it was given (P) and of the magnitudes of the negative ones (N).
// Both only grow, so of two versions of a node's component the one with
// the larger P (and N) is the later, and merging by maximum never loses an
// update, whatever order versions arrive in.
type Component struct {
	Node string `json:"node"`
	P    int64  `json:"p"`
	N    int64  `json:"n"`
}

// PNCounter is the state of a state-based PN-counter: one Component per
// node that has been given a delta. Its value is ΣP − ΣN. The zero value
// is an empty counter, ready to use.
type PNCounter struct {
	components map[string]Component
}

// Add applies a client's delta at node and returns that node's new
// component, the delta-state to disseminate. A zero delta changes
// nothing and returns the component as it was.
func (c *PNCounter) Add(node string, delta int64) Component {
	cur := c.Component(node)
	if delta >= 0 {
		cur.P += delta
	} else {
		cur.N -= delta
	}
	c.set(cur)
	return cur
}

// Merge takes the per-field maximum of the held component and x. It
// reports whether anything changed. Components with negative fields are
// rejected: no node produces them.
func (c *PNCounter) Merge(x Component) (changed bool, err error) {
	if x.Node == "" || x.P < 0 || x.N < 0 {
		return false, fmt.Errorf("pn-counter: invalid component %+v", x)
	}
	cur := c.Component(x.Node)
	next := Component{Node: x.Node, P: max(cur.P, x.P), N: max(cur.N, x.N)}
	if next == cur {
		return false, nil
	}
	c.set(next)
	return true, nil
}

// MergeAll merges every component of other into c.
func (c *PNCounter) MergeAll(other *PNCounter) {
	for _, x := range other.Components() {
		_, _ = c.Merge(x) // other's components are valid by construction
	}
}

// Component returns node's component (zero if it has none).
func (c *PNCounter) Component(node string) Component {
	if x, ok := c.components[node]; ok {
		return x
	}
	return Component{Node: node}
}

// Components lists the components, sorted by node.
func (c *PNCounter) Components() []Component {
	out := make([]Component, 0, len(c.components))
	for _, x := range c.components {
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out
}

// Value is ΣP − ΣN.
func (c *PNCounter) Value() int64 {
	var v int64
	for _, x := range c.components {
		v += x.P - x.N
	}
	return v
}

func (c *PNCounter) set(x Component) {
	if c.components == nil {
		c.components = map[string]Component{}
	}
	c.components[x.Node] = x
}

// decodeComponent reads a component from its JSON text, strictly.
func decodeComponent(text []byte) (Component, error) {
	var x struct {
		Node *string `json:"node"`
		P    *int64  `json:"p"`
		N    *int64  `json:"n"`
	}
	if err := json.Unmarshal(text, &x); err != nil {
		return Component{}, fmt.Errorf("pn-counter component %s: %w", text, err)
	}
	if x.Node == nil || x.P == nil || x.N == nil {
		return Component{}, fmt.Errorf("pn-counter component %s: want node, p and n", text)
	}
	return Component{Node: *x.Node, P: *x.P, N: *x.N}, nil
}
