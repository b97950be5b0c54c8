package analysis

import (
	"encoding/json"
	"testing"
	"time"

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

// service-times pairs each client request's delivery with the node's reply
// to it, per request type, and ignores what it cannot pair.
func TestNetServiceTimes(t *testing.T) {
	ev := func(kind network.EventKind, ms int, src, dest, body string) network.Event {
		return network.Event{Kind: kind, Time: time.Duration(ms) * time.Millisecond,
			Msg: network.Message{Src: src, Dest: dest, Body: json.RawMessage(body)}}
	}
	journal := []network.Event{
		ev(network.Send, 0, "c1", "n0", `{"type":"broadcast","msg_id":1,"message":5}`),
		ev(network.Recv, 40, "c1", "n0", `{"type":"broadcast","msg_id":1,"message":5}`),  // waited in the network
		ev(network.Send, 42, "n0", "c1", `{"type":"broadcast_ok","in_reply_to":1}`),      // 2 ms at the node
		ev(network.Recv, 100, "c2", "n1", `{"type":"broadcast","msg_id":1,"message":6}`), // same msg_id, other client
		ev(network.Recv, 101, "c1", "n0", `{"type":"read","msg_id":2}`),
		ev(network.Send, 106, "n0", "c1", `{"type":"read_ok","in_reply_to":2,"messages":[5]}`),
		ev(network.Send, 107, "n0", "c1", `{"type":"read_ok","in_reply_to":2,"messages":[5]}`), // a second reply: not paired
		ev(network.Send, 350, "n1", "c2", `{"type":"broadcast_ok","in_reply_to":1}`),           // held 250 ms
		ev(network.Send, 360, "n1", "c2", `{"type":"error","in_reply_to":99}`),                 // no such request
		ev(network.Recv, 400, "c3", "n2", `{"type":"read"}`),                                   // no msg_id
	}
	st, ok := Net(journal, 3)["service-times"].(map[string]any)
	if !ok {
		t.Fatal("no service-times")
	}
	bc := st["broadcast"].(map[float64]any)
	if bc[0.0] != 2.0 || bc[1.0] != 250.0 {
		t.Errorf("broadcast service times %v, want min 2 and max 250 ms", bc)
	}
	rd := st["read"].(map[float64]any)
	if rd[0.0] != 5.0 || rd[1.0] != 5.0 {
		t.Errorf("read service times %v, want exactly 5 ms", rd)
	}
	if len(st) != 2 {
		t.Errorf("service-times has %d types, want broadcast and read: %v", len(st), st)
	}
}
