package kafka

import "github.com/glomers/glomers/tools/workbench/workload"

// Doc describes the kafka workload's messages.
var Doc = workload.Doc{
	About: "Append-only logs by key: sends get increasing offsets, polls return messages from an offset on, and committed offsets are stored per key. No acknowledged message may be lost or reordered.",
	RPCs: []workload.RPC{
		{
			About:   "append msg to the key's log; the reply names its offset",
			Request: map[string]any{"type": "send", "key": "9", "msg": 4},
			Reply:   map[string]any{"type": "send_ok", "offset": 1000},
		},
		{
			About:   "messages from each given offset on, as [offset, msg] pairs",
			Request: map[string]any{"type": "poll", "offsets": map[string]any{"9": 1000}},
			Reply:   map[string]any{"type": "poll_ok", "msgs": map[string]any{"9": []any{[]any{1000, 4}, []any{1001, 5}}}},
		},
		{
			About:   "record that a consumer has processed each key's log up to the offset",
			Request: map[string]any{"type": "commit_offsets", "offsets": map[string]any{"9": 1000}},
			Reply:   map[string]any{"type": "commit_offsets_ok"},
		},
		{
			About:   "the committed offset of each given key (keys never committed may be left out)",
			Request: map[string]any{"type": "list_committed_offsets", "keys": []any{"9"}},
			Reply:   map[string]any{"type": "list_committed_offsets_ok", "offsets": map[string]any{"9": 1000}},
		},
	},
}
