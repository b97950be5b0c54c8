package echo

import "github.com/glomers/glomers/tools/workbench/workload"

// Doc describes the echo workload's messages.
var Doc = workload.Doc{
	About: "Clients send echo requests; the node answers each with echo_ok carrying the same echo value.",
	RPCs: []workload.RPC{{
		About:   "echo the payload back",
		Request: map[string]any{"type": "echo", "echo": "Please echo 35"},
		Reply:   map[string]any{"type": "echo_ok", "echo": "Please echo 35"},
	}},
}
