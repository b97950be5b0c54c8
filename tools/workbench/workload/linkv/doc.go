package linkv

import "github.com/glomers/glomers/tools/workbench/workload"

// Doc describes the lin-kv workload's messages.
var Doc = workload.Doc{
	About: "A linearizable key-value store: every history of reads, writes and compare-and-sets must be linearizable.",
	RPCs: []workload.RPC{
		{
			About:   "the key's current value; error 20 if it has none",
			Request: map[string]any{"type": "read", "key": 3},
			Reply:   map[string]any{"type": "read_ok", "value": 4},
			Errors:  []int{20},
		},
		{
			About:   "set the key's value",
			Request: map[string]any{"type": "write", "key": 3, "value": 4},
			Reply:   map[string]any{"type": "write_ok"},
		},
		{
			About:   "set the key to `to` if its value is `from`; error 22 if it is not, 20 if the key has no value",
			Request: map[string]any{"type": "cas", "key": 3, "from": 4, "to": 1},
			Reply:   map[string]any{"type": "cas_ok"},
			Errors:  []int{20, 22},
		},
	},
}
