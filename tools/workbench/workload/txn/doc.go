package txn

import "github.com/glomers/glomers/tools/workbench/workload"

// Doc describes the txn-rw-register and txn-list-append workloads'
// messages (list-append sends ["append", k, v] where rw-register sends
// ["w", k, v], and its reads return lists).
var Doc = workload.Doc{
	About: "Transactions of micro-ops [f, key, value] applied atomically; the reply repeats the transaction with each read's value filled in. Checked against --consistency-models.",
	RPCs: []workload.RPC{{
		About:   "run the micro-ops; reads (value null in the request) return the key's value, writes come back unchanged; error 30 aborts the transaction",
		Request: map[string]any{"type": "txn", "txn": []any{[]any{"r", 1, nil}, []any{"w", 1, 6}}},
		Reply:   map[string]any{"type": "txn_ok", "txn": []any{[]any{"r", 1, 3}, []any{"w", 1, 6}}},
		Errors:  []int{30},
	}},
}
