package analysis

import (
	"testing"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/network"
)

func TestNetSplitsClientsAndServers(t *testing.T) {
	ev := func(kind network.EventKind, id int64, src, dest string) network.Event {
		return network.Event{Kind: kind, Msg: network.Message{ID: id, Src: src, Dest: dest}}
	}
	journal := []network.Event{
		ev(network.Send, 0, "c0", "n0"), // client traffic
		ev(network.Send, 1, "n0", "n1"), // server traffic
		ev(network.Recv, 1, "n0", "n1"),
		ev(network.Send, 2, "n0", "lin-kv"), // services count as servers
		ev(network.Recv, 2, "n0", "lin-kv"),
	}
	st := Net(journal, 2)
	if st["valid?"] != checker.Valid {
		t.Error("net stats must always be valid")
	}
	cl := st["clients"].(map[string]any)
	sv := st["servers"].(map[string]any)
	all := st["all"].(map[string]any)
	if cl["send-count"] != 1 || cl["recv-count"] != 0 || cl["msg-count"] != 1 {
		t.Errorf("clients = %v", cl)
	}
	if sv["send-count"] != 2 || sv["recv-count"] != 2 || sv["msg-count"] != 2 {
		t.Errorf("servers = %v", sv)
	}
	if sv["msgs-per-op"] != 1.0 || all["msgs-per-op"] != 1.5 {
		t.Errorf("msgs-per-op servers %v all %v, want 1 and 1.5", sv["msgs-per-op"], all["msgs-per-op"])
	}
	if _, ok := cl["msgs-per-op"]; ok {
		t.Error("clients should not carry msgs-per-op")
	}
	if _, ok := Net(journal, 0)["all"].(map[string]any)["msgs-per-op"]; ok {
		t.Error("msgs-per-op present with zero ops; Maelstrom leaves it out")
	}
}
