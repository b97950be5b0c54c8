package workload

// Doc describes a workload's messages for people writing nodes in any
// language: `workbench doc` prints it. Each workload package keeps its Doc
// next to its client, and the cli's tests drive every client against a fake
// node that answers with these examples, so a Doc that drifts from what the
// client sends or accepts fails the build.
type Doc struct {
	About string // what the node must do, in a sentence or two
	RPCs  []RPC
}

// RPC is one request a workload sends and the reply it accepts.
type RPC struct {
	About string
	// Request and Reply are example bodies. Their keys are exactly the
	// request's keys and the reply's required keys (besides msg_id and
	// in_reply_to, which every request and reply carries).
	Request map[string]any
	Reply   map[string]any
	// Errors lists the error codes a node may answer with meaningfully.
	Errors []int
	// Setup marks RPCs sent once before the test, not by the generator.
	Setup bool
}
