package broadcast

import "github.com/glomers/glomers/tools/workbench/workload"

// Doc describes the broadcast workload's messages.
var Doc = workload.Doc{
	About: "Every value broadcast to any node must eventually appear in every node's reads; values are integers 0, 1, 2, … and a read returns all values the node has seen.",
	RPCs: []workload.RPC{
		{
			About:   "the suggested neighbours of each node (--topology); sent once to every node before the test",
			Request: map[string]any{"type": "topology", "topology": map[string]any{"n0": []any{"n1"}, "n1": []any{"n0"}}},
			Reply:   map[string]any{"type": "topology_ok"},
			Setup:   true,
		},
		{
			About:   "store a value and spread it to the other nodes",
			Request: map[string]any{"type": "broadcast", "message": 7},
			Reply:   map[string]any{"type": "broadcast_ok"},
		},
		{
			About:   "every value this node has seen, in any order",
			Request: map[string]any{"type": "read"},
			Reply:   map[string]any{"type": "read_ok", "messages": []any{1, 7, 8}},
		},
	},
}
