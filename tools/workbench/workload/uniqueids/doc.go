package uniqueids

import "github.com/glomers/glomers/tools/workbench/workload"

// Doc describes the unique-ids workload's messages.
var Doc = workload.Doc{
	About: "Clients ask any node for an id; every id returned during the test must be distinct, including across partitions.",
	RPCs: []workload.RPC{{
		About:   "return a globally unique id (any JSON value)",
		Request: map[string]any{"type": "generate"},
		Reply:   map[string]any{"type": "generate_ok", "id": "n1-42"},
	}},
}
