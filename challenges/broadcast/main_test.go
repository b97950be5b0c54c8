package main

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/glomers/glomers/lib/gossip"
	"github.com/glomers/glomers/lib/node"
	"github.com/glomers/glomers/lib/node/nodetest"
)

// keys returns the body's keys, to hold replies to Maelstrom's closed
// schemas.
func keys(t *testing.T, raw json.RawMessage) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("body %s: %v", raw, err)
	}
	return m
}

func TestTranscriptLeaf(t *testing.T) {
	tr := nodetest.Start(t, newNode(gossip.Latency()))
	tr.Init("n1", "n0", "n1", "n2")

	tr.SendMsg("c1", "n1", map[string]any{"type": "topology", "msg_id": 1,
		"topology": map[string]any{"n0": []string{"n1"}, "n1": []string{"n0", "n2"}, "n2": []string{"n1"}}})
	if out := tr.Next(); out.Type() != "topology_ok" || len(keys(t, out.RawBody)) != 2 {
		t.Fatalf("topology: %s", out.Line)
	}

	// A leaf with the latency preset answers the client with exactly type
	// and in_reply_to, then hands the value to the hub at once.
	tr.SendMsg("c2", "n1", map[string]any{"type": "broadcast", "msg_id": 2, "message": 7})
	out := tr.Next()
	if out.Dest != "c2" || out.Type() != "broadcast_ok" || out.Int("in_reply_to") != 2 || len(keys(t, out.RawBody)) != 2 {
		t.Fatalf("broadcast reply: %s", out.Line)
	}
	out = tr.Next()
	if out.Dest != "n0" || out.Type() != "gossip" || string(keys(t, out.RawBody)["values"]) != "[7]" {
		t.Fatalf("want gossip [7] to the hub n0, got %s", out.Line)
	}
	if _, hasID := out.Body["msg_id"]; hasID {
		t.Errorf("gossip carries a msg_id, so a peer would answer it: %s", out.Line)
	}

	// Gossip from the hub is absorbed silently.
	tr.SendMsg("n0", "n1", map[string]any{"type": "gossip", "seq": 0, "values": []any{8, 9}, "ack": 1})
	tr.Quiet(20 * time.Millisecond)

	tr.SendMsg("c2", "n1", map[string]any{"type": "read", "msg_id": 3})
	out = tr.Next()
	body := keys(t, out.RawBody)
	if out.Type() != "read_ok" || len(body) != 3 || string(body["messages"]) != "[7,8,9]" {
		t.Fatalf("read: %s", out.Line)
	}

	// Junk never stops the node, and peers never get error replies.
	tr.SendMsg("n2", "n1", map[string]any{"type": "gossip", "seq": "x"})
	tr.SendMsg("c2", "n1", map[string]any{"type": "broadcast", "msg_id": 4})
	if out := tr.Next(); out.Type() != "error" || out.Int("code") != node.MalformedRequest {
		t.Fatalf("broadcast without message: %s", out.Line)
	}
	tr.SendMsg("c2", "n1", map[string]any{"type": "cas", "msg_id": 5})
	if out := tr.Next(); out.Type() != "error" || out.Int("code") != node.NotSupported {
		t.Fatalf("unknown type: %s", out.Line)
	}
	tr.SendMsg("c2", "n1", map[string]any{"type": "read", "msg_id": 6})
	if out := tr.Next(); out.Type() != "read_ok" {
		t.Fatalf("node stopped answering: %s", out.Line)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// TestTranscriptAckAtOnce: whatever the preset and whether the node is the
// hub (which holds values for its next flush) or a leaf, a broadcast_ok is
// the node's next message, written before any gossip and long before a
// flush or a peer's answer could come, and a read on the same node that
// follows it includes the value.
func TestTranscriptAckAtOnce(t *testing.T) {
	for _, preset := range []string{"latency", "messages"} {
		for _, self := range []string{"n0", "n1"} {
			t.Run(preset+"/"+self, func(t *testing.T) {
				cfg, err := gossip.Preset(preset)
				if err != nil {
					t.Fatal(err)
				}
				tr := nodetest.Start(t, newNode(cfg))
				tr.Init(self, "n0", "n1", "n2")
				sent := time.Now()
				tr.SendMsg("c2", self, map[string]any{"type": "broadcast", "msg_id": 2, "message": 7})
				out, ok := tr.NextWithin(cfg.FlushInterval / 2)
				if !ok {
					t.Fatal("no answer to the broadcast")
				}
				if out.Dest != "c2" || out.Type() != "broadcast_ok" || out.Int("in_reply_to") != 2 || len(keys(t, out.RawBody)) != 2 {
					t.Fatalf("first message after the broadcast: %s, want its broadcast_ok", out.Line)
				}
				t.Logf("broadcast_ok after %v", time.Since(sent))
				tr.SendMsg("c3", self, map[string]any{"type": "read", "msg_id": 3})
				for {
					out := tr.Next()
					if out.Dest == "c3" {
						if out.Type() != "read_ok" || string(keys(t, out.RawBody)["messages"]) != "[7]" {
							t.Fatalf("read after the broadcast_ok: %s", out.Line)
						}
						break
					}
					if out.Type() != "gossip" {
						t.Fatalf("unexpected %s", out.Line)
					}
				}
				if err := tr.Close(); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// TestReadAfterGossipSeesIt: a read delivered right after a gossip message
// answers with the gossip's values. Maelstrom often delivers them so: the
// read waited behind the gossip in the node's receive queue. Answered in a
// goroutine each, the read's handler often took the state first.
func TestReadAfterGossipSeesIt(t *testing.T) {
	tr := nodetest.Start(t, newNode(gossip.Latency()))
	tr.Init("n1", "n0", "n1", "n2")
	for i := range 300 {
		tr.SendMsg("n0", "n1", map[string]any{"type": "gossip", "seq": i, "values": []any{i}})
		tr.SendMsg("c2", "n1", map[string]any{"type": "read", "msg_id": i + 1})
		out := tr.Next()
		var body struct {
			Messages []int `json:"messages"`
		}
		if err := json.Unmarshal(out.RawBody, &body); err != nil || out.Type() != "read_ok" {
			t.Fatalf("read %d: %s", i+1, out.Line)
		}
		if len(body.Messages) != i+1 || body.Messages[i] != i {
			t.Fatalf("read delivered after gossip [%d] answered %v", i, body.Messages)
		}
	}
}

// TestTranscriptHubFlushes: the timer ticks the hub at the NextTick
// its steps return, so a value given to the hub reaches both leaves in one
// flush, FlushInterval after the node started, and nothing follows while
// the leaves stay silent until the retransmission timeout.
func TestTranscriptHubFlushes(t *testing.T) {
	tr := nodetest.Start(t, newNode(gossip.Latency()))
	tr.Init("n0", "n0", "n1", "n2")
	tr.SendMsg("c2", "n0", map[string]any{"type": "broadcast", "msg_id": 2, "message": 7})
	if out := tr.Next(); out.Type() != "broadcast_ok" {
		t.Fatalf("want broadcast_ok, got %s", out.Line)
	}
	to := map[string]bool{}
	for range 2 {
		out, ok := tr.NextWithin(2 * gossip.Latency().FlushInterval)
		if !ok {
			t.Fatalf("no flush within %v (got %v)", 2*gossip.Latency().FlushInterval, to)
		}
		if out.Type() != "gossip" || string(keys(t, out.RawBody)["values"]) != "[7]" {
			t.Fatalf("want the flush of [7], got %s", out.Line)
		}
		to[out.Dest] = true
	}
	if !to["n1"] || !to["n2"] {
		t.Fatalf("flush went to %v, want n1 and n2", to)
	}
	tr.Quiet(3 * gossip.Latency().FlushInterval)
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestTranscriptSingleNodeReadIsEmptyList(t *testing.T) {
	tr := nodetest.Start(t, newNode(gossip.Messages()))
	tr.Init("n0", "n0")
	tr.SendMsg("c1", "n0", map[string]any{"type": "read", "msg_id": 1})
	if out := tr.Next(); string(keys(t, out.RawBody)["messages"]) != "[]" {
		t.Fatalf("read on an empty node: %s", out.Line)
	}
	tr.SendMsg("c1", "n0", map[string]any{"type": "broadcast", "msg_id": 2, "message": 3})
	tr.Next()
	tr.SendMsg("c1", "n0", map[string]any{"type": "read", "msg_id": 3})
	if out := tr.Next(); string(keys(t, out.RawBody)["messages"]) != "[3]" {
		t.Fatalf("read: %s", out.Line)
	}
	tr.Quiet(50 * time.Millisecond) // a single node never gossips
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPresetFromEnv(t *testing.T) {
	t.Setenv("GOSSIP_PRESET", "")
	if cfg, err := presetFromEnv(); err != nil || cfg != gossip.Latency() {
		t.Errorf("default: %+v, %v", cfg, err)
	}
	t.Setenv("GOSSIP_PRESET", "messages")
	if cfg, err := presetFromEnv(); err != nil || cfg != gossip.Messages() {
		t.Errorf("messages: %+v, %v", cfg, err)
	}
	t.Setenv("GOSSIP_PRESET", "messages-eager") // an alias
	if cfg, err := presetFromEnv(); err != nil || cfg != gossip.Messages() {
		t.Errorf("messages-eager: %+v, %v", cfg, err)
	}
	t.Setenv("GOSSIP_PRESET", "fast")
	if _, err := presetFromEnv(); err == nil {
		t.Error("unknown preset accepted")
	}
}

// Only small integers are stored: anything else is refused with error 12,
// so no client can make a value every read and gossip batch carries.
func TestBroadcastTakesOnlySmallIntegers(t *testing.T) {
	tr := nodetest.Start(t, newNode(gossip.Latency()))
	tr.Init("n0", "n0")
	for i, bad := range []any{"x", 1.5, map[string]any{"a": 1}, []int{1}, nil, json.RawMessage("123456789012345678901234567890")} {
		tr.SendMsg("c1", "n0", map[string]any{"type": "broadcast", "msg_id": i + 1, "message": bad})
		nodetest.WantError(t, tr.Next(), "c1", node.MalformedRequest, i+1)
	}
	tr.SendMsg("c1", "n0", map[string]any{"type": "broadcast", "msg_id": 10, "message": -9223372036854775808})
	nodetest.WantBody(t, tr.Next(), "c1", `{"type":"broadcast_ok","in_reply_to":10}`)
	tr.SendMsg("c1", "n0", map[string]any{"type": "read", "msg_id": 11})
	nodetest.WantBody(t, tr.Next(), "c1", `{"type":"read_ok","messages":[-9223372036854775808],"in_reply_to":11}`)
}

// A read answers from the kept encoding, which follows every value learnt
// since the last read, from clients and from gossip alike.
func TestReadFollowsNewValues(t *testing.T) {
	tr := nodetest.Start(t, newNode(gossip.Latency()))
	tr.Init("n0", "n0", "n1")
	read := func(id int, want string) {
		t.Helper()
		tr.SendMsg("c1", "n0", map[string]any{"type": "read", "msg_id": id})
		for {
			out := tr.Next()
			if out.Dest == "c1" {
				nodetest.WantBody(t, out, "c1", `{"type":"read_ok","messages":`+want+`,"in_reply_to":`+strconv.Itoa(id)+`}`)
				return
			}
		}
	}
	read(1, `[]`)
	read(2, `[]`)
	tr.SendMsg("c1", "n0", map[string]any{"type": "broadcast", "msg_id": 3, "message": 5})
	nodetest.WantBody(t, tr.Next(), "c1", `{"type":"broadcast_ok","in_reply_to":3}`)
	read(4, `[5]`)
	tr.SendMsg("n1", "n0", map[string]any{"type": "gossip", "seq": 0, "values": []any{6, 7}, "ack": 0})
	read(5, `[5,6,7]`)
	read(6, `[5,6,7]`)
}
