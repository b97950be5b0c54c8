package gset

import "github.com/glomers/glomers/tools/workbench/workload"

// Doc describes the g-set workload's messages.
var Doc = workload.Doc{
	About: "A grow-only set: every element added at any node must eventually appear in every node's reads; elements are integers 0, 1, 2, … and a read returns the whole set.",
	RPCs: []workload.RPC{
		{
			About:   "add an element to the set",
			Request: map[string]any{"type": "add", "element": 7},
			Reply:   map[string]any{"type": "add_ok"},
		},
		{
			About:   "every element this node holds, in any order (the key is value, not elements)",
			Request: map[string]any{"type": "read"},
			Reply:   map[string]any{"type": "read_ok", "value": []any{1, 7, 8}},
		},
	},
}
