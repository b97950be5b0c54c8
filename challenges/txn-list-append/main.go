// Command txn-list-append is Maelstrom's txn-list-append workload, strict
// serializable, on lib/raft: txn {txn: [["r", k, null] | ["append", k, v],
// ...]} → txn_ok with every read filled in. Each node runs a
// lib/listappend Replica: a transaction that appends is one Raft log
// entry, applied in log order on every node and answered by the node the
// client asked when it applies it; a read-only transaction is served from
// the local state after a ReadIndex (docs/maelstrom-suite.md says why that
// keeps strict serializability). Error 11 means the transaction certainly
// did not happen (no leader, or a read that could not be confirmed).
package main

import (
	"log/slog"
	"os"

	"github.com/glomers/glomers/lib/listappend"
)

func main() {
	if err := listappend.NewNode(nil).Run(); err != nil {
		slog.Error("txn-list-append node failed", "err", err)
		os.Exit(1)
	}
}
