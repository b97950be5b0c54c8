package counter

import "github.com/glomers/glomers/tools/workbench/workload"

// Doc describes the g-counter and pn-counter workloads' messages (pn-counter
// also sends negative deltas).
var Doc = workload.Doc{
	About: "Clients add integer deltas at any node and read the total; after the test every node's read must equal the sum of acknowledged adds (plus any subset of the unacknowledged ones).",
	RPCs: []workload.RPC{
		{
			About:   "add delta to the counter (g-counter: 0…4; pn-counter: -5…4)",
			Request: map[string]any{"type": "add", "delta": 3},
			Reply:   map[string]any{"type": "add_ok"},
		},
		{
			About:   "the counter's current total, an integer",
			Request: map[string]any{"type": "read"},
			Reply:   map[string]any{"type": "read_ok", "value": 42},
		},
	},
}
