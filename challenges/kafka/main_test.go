package main

import (
	"encoding/json"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/lib/kv"
	"github.com/glomers/glomers/lib/kv/kvtest"
	"github.com/glomers/glomers/lib/logstore"
	"github.com/glomers/glomers/lib/node"
	"github.com/glomers/glomers/lib/node/nodetest"
)

// One node owns every key (5a): the whole log lives in its memory and it
// never sends anything but replies.
func TestTranscriptOwnerSingleNode(t *testing.T) {
	tr := nodetest.Start(t, ownerNode())
	tr.Init("n0", "n0")
	ask := func(body map[string]any) nodetest.Output {
		t.Helper()
		tr.SendMsg("c1", "n0", body)
		out := tr.Next()
		if out.Dest != "c1" {
			t.Fatalf("single node sent to %s: %s", out.Dest, out.Line)
		}
		return out
	}

	// Offsets are dense from 0 per key; messages come back as sent.
	nodetest.WantBody(t, ask(send(2, "1", json.RawMessage(`10`))), "c1", `{"type":"send_ok","offset":0,"in_reply_to":2}`)
	nodetest.WantBody(t, ask(send(3, "1", json.RawMessage(`{"b":[1,2.5],"a":null}`))), "c1", `{"type":"send_ok","offset":1,"in_reply_to":3}`)
	nodetest.WantBody(t, ask(send(4, "2", json.RawMessage(`20`))), "c1", `{"type":"send_ok","offset":0,"in_reply_to":4}`)

	// Keys with nothing at or after the offset are left out.
	nodetest.WantBody(t, ask(poll(5, map[string]int{"1": 0, "2": 0, "3": 0})), "c1",
		`{"type":"poll_ok","msgs":{"1":[[0,10],[1,{"a":null,"b":[1,2.5]}]],"2":[[0,20]]},"in_reply_to":5}`)
	nodetest.WantBody(t, ask(poll(6, map[string]int{"1": 1, "2": 1})), "c1", `{"type":"poll_ok","msgs":{"1":[[1,{"a":null,"b":[1,2.5]}]]},"in_reply_to":6}`)
	nodetest.WantBody(t, ask(poll(7, map[string]int{})), "c1", `{"type":"poll_ok","msgs":{},"in_reply_to":7}`)

	// Committed offsets never move back; keys never committed are omitted.
	nodetest.WantBody(t, ask(commit(8, map[string]int{"1": 1, "2": 0})), "c1", `{"type":"commit_offsets_ok","in_reply_to":8}`)
	nodetest.WantBody(t, ask(commit(9, map[string]int{"1": 0})), "c1", `{"type":"commit_offsets_ok","in_reply_to":9}`)
	nodetest.WantBody(t, ask(list(10, "1", "2", "3")), "c1", `{"type":"list_committed_offsets_ok","offsets":{"1":1,"2":0},"in_reply_to":10}`)

	nodetest.WantError(t, ask(map[string]any{"type": "fetch_committed_offsets", "msg_id": 11, "keys": []string{"1"}}), "c1", node.NotSupported, 11)
	for i, bad := range []map[string]any{
		{"type": "send", "msg_id": 12, "key": "1"},                                    // no msg
		{"type": "send", "msg_id": 13, "key": 1, "msg": 5},                            // key not a string
		{"type": "poll", "msg_id": 14, "offsets": []int{0}},                           // offsets not a map
		{"type": "commit_offsets", "msg_id": 15, "offsets": map[string]any{"1": "x"}}, // offset not an integer
		{"type": "list_committed_offsets", "msg_id": 16, "keys": "1"},                 // keys not a list
		{"msg_id": 17, "key": "1", "msg": 5},                                          // no type
		{"type": "send", "msg_id": 18, "msg": 5},                                      // no key
	} {
		nodetest.WantError(t, ask(bad), "c1", node.MalformedRequest, 12+i)
	}
	tr.Send(`{"src":"c1","dest":"n0","body":{"type":"send","msg_id":19,`)
	tr.Quiet(20 * time.Millisecond)

	// Still serving, and the refused sends appended nothing (not even
	// under the empty key a send without one would have gone to).
	nodetest.WantBody(t, ask(send(20, "1", json.RawMessage(`12`))), "c1", `{"type":"send_ok","offset":2,"in_reply_to":20}`)
	nodetest.WantBody(t, ask(poll(21, map[string]int{"": 0})), "c1", `{"type":"poll_ok","msgs":{},"in_reply_to":21}`)
	if err := tr.Close(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// With two nodes (5c) each key has one owner; the other node forwards
// requests for it and relays the owner's answer. The test carries the
// nodes' messages to each other.
func TestTranscriptOwnerForwards(t *testing.T) {
	nodes := []string{"n0", "n1"}
	n0 := ownerNode()
	n0.RPCTimeout = 200 * time.Millisecond // for the unanswered forward below
	tr0, tr1 := nodetest.Start(t, n0), nodetest.Start(t, ownerNode())
	tr0.Init("n0", nodes...)
	tr1.Init("n1", nodes...)
	local, remote := ownedKey(t, "n0", nodes), ownedKey(t, "n1", nodes)

	// A key n0 owns is served on the spot.
	tr0.SendMsg("c1", "n0", send(2, local, json.RawMessage(`1`)))
	nodetest.WantBody(t, tr0.Next(), "c1", `{"type":"send_ok","offset":0,"in_reply_to":2}`)

	// A key n1 owns goes to n1, and n1's offset comes back to the client.
	tr0.SendMsg("c1", "n0", send(3, remote, json.RawMessage(`"x"`)))
	fwd := carry(t, tr0, tr1, "n1")
	wantFields(t, fwd, "owner_send", "key", "msg", "msg_id", "type")
	if fwd.Body["key"] != remote || string(rawField(t, fwd, "msg")) != `"x"` {
		t.Fatalf("forwarded send carries the wrong key or msg: %s", fwd.Line)
	}
	carry(t, tr1, tr0, "n0")
	nodetest.WantBody(t, tr0.Next(), "c1", `{"type":"send_ok","offset":0,"in_reply_to":3}`)

	// Sent through n1 directly, the same key continues at offset 1.
	tr1.SendMsg("c2", "n1", send(4, remote, json.RawMessage(`"y"`)))
	nodetest.WantBody(t, tr1.Next(), "c2", `{"type":"send_ok","offset":1,"in_reply_to":4}`)

	// A poll over both keys asks n1 only for n1's key and merges.
	tr0.SendMsg("c1", "n0", poll(5, map[string]int{local: 0, remote: 0}))
	fwd = carry(t, tr0, tr1, "n1")
	wantFields(t, fwd, "owner_poll", "msg_id", "offsets", "type")
	carry(t, tr1, tr0, "n0")
	nodetest.WantBody(t, tr0.Next(), "c1", `{"type":"poll_ok","msgs":{"`+local+`":[[0,1]],"`+remote+`":[[0,"x"],[1,"y"]]},"in_reply_to":5}`)

	// Commits through n1 reach n0 for n0's key; listing through n0 asks n1.
	tr1.SendMsg("c2", "n1", commit(6, map[string]int{local: 0, remote: 1}))
	fwd = carry(t, tr1, tr0, "n0")
	wantFields(t, fwd, "owner_commit", "msg_id", "offsets", "type")
	carry(t, tr0, tr1, "n1")
	nodetest.WantBody(t, tr1.Next(), "c2", `{"type":"commit_offsets_ok","in_reply_to":6}`)
	tr0.SendMsg("c1", "n0", list(7, local, remote))
	fwd = carry(t, tr0, tr1, "n1")
	wantFields(t, fwd, "owner_list", "keys", "msg_id", "type")
	carry(t, tr1, tr0, "n0")
	nodetest.WantBody(t, tr0.Next(), "c1", `{"type":"list_committed_offsets_ok","offsets":{"`+local+`":0,"`+remote+`":1},"in_reply_to":7}`)

	// The owner never answers: n1 may have appended, so the client hears
	// timeout (0, indefinite), not a definite failure.
	tr0.SendMsg("c1", "n0", send(8, remote, json.RawMessage(`"lost"`)))
	if fwd := tr0.Next(); fwd.Dest != "n1" || fwd.Type() != "owner_send" {
		t.Fatalf("want owner_send to n1, got %s", fwd.Line)
	}
	nodetest.WantError(t, tr0.Next(), "c1", node.Timeout, 8)

	// Forwarding nodes refuse what they cannot serve, and keep going.
	tr0.SendMsg("c1", "n0", map[string]any{"type": "owner_bogus", "msg_id": 9})
	nodetest.WantError(t, tr0.Next(), "c1", node.NotSupported, 9)
	tr0.SendMsg("c1", "n0", map[string]any{"type": "send", "msg_id": 10, "key": remote})
	nodetest.WantError(t, tr0.Next(), "c1", node.MalformedRequest, 10) // refused before forwarding
	tr0.SendMsg("c1", "n0", send(11, local, json.RawMessage(`2`)))
	nodetest.WantBody(t, tr0.Next(), "c1", `{"type":"send_ok","offset":1,"in_reply_to":11}`)

	// The owner_* requests are for the cluster's nodes only: a client
	// cannot append, commit or read behind the routing.
	for i, typ := range []string{"owner_send", "owner_poll", "owner_commit", "owner_list"} {
		tr0.SendMsg("c1", "n0", map[string]any{"type": typ, "msg_id": 20 + i, "key": local, "msg": 666,
			"offsets": map[string]any{local: 5}, "keys": []string{local}})
		nodetest.WantError(t, tr0.Next(), "c1", node.NotSupported, 20+i)
	}
	tr0.SendMsg("c1", "n0", map[string]any{"type": "poll", "msg_id": 30, "offsets": map[string]any{local: 0}})
	if out := tr0.Next(); strings.Contains(out.Line, "666") {
		t.Fatalf("a client's owner_send was appended: %s", out.Line)
	}

	for _, tr := range []*nodetest.Transcript{tr0, tr1} {
		if err := tr.Close(); err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
}

// KAFKA_MODE=kv (5b): the node keeps nothing itself; the test plays
// lin-kv, and seeds it with what another node would have written.
func TestTranscriptKV(t *testing.T) {
	tr := nodetest.Start(t, kvNode())
	tr.Init("n0", "n0", "n1")
	store := kvtest.New(t, kv.LinKV)

	out := store.RoundTrip(tr, "c1", "n0", send(2, "7", json.RawMessage(`70`)))
	nodetest.WantBody(t, out, "c1", `{"type":"send_ok","offset":0,"in_reply_to":2}`)
	store.WantCalls("read next/7", "cas next/7 null 1 create", "write msg/7/0 70")
	out = store.RoundTrip(tr, "c1", "n0", send(3, "7", json.RawMessage(`71`)))
	nodetest.WantBody(t, out, "c1", `{"type":"send_ok","offset":1,"in_reply_to":3}`)
	store.WantCalls("read next/7", "cas next/7 1 2", "write msg/7/1 71")

	// Another node reserves offset 2 between this node's read and its
	// CAS: the CAS fails with 22 and the node takes the next offset.
	store.BeforeCAS = func(key string) {
		store.Data["next/7"] = json.RawMessage(`3`)
		store.Data["msg/7/2"] = json.RawMessage(`72`)
		store.BeforeCAS = nil
	}
	out = store.RoundTrip(tr, "c1", "n0", send(4, "7", json.RawMessage(`73`)))
	nodetest.WantBody(t, out, "c1", `{"type":"send_ok","offset":3,"in_reply_to":4}`)
	store.WantCalls("read next/7", "cas next/7 2 3", "read next/7", "cas next/7 3 4", "write msg/7/3 73")

	// Polls read the log out of lin-kv, the other node's message included.
	out = store.RoundTrip(tr, "c1", "n0", poll(5, map[string]int{"7": 1, "8": 0}))
	nodetest.WantBody(t, out, "c1", `{"type":"poll_ok","msgs":{"7":[[1,71],[2,72],[3,73]]},"in_reply_to":5}`)
	store.WantCallSet("read msg/7/1", "read msg/7/2", "read msg/7/3", "read msg/7/4", "read msg/8/0")

	out = store.RoundTrip(tr, "c1", "n0", commit(6, map[string]int{"7": 2}))
	nodetest.WantBody(t, out, "c1", `{"type":"commit_offsets_ok","in_reply_to":6}`)
	store.WantCalls("read commit/7", "cas commit/7 null 2 create")
	out = store.RoundTrip(tr, "c1", "n0", commit(7, map[string]int{"7": 1}))
	nodetest.WantBody(t, out, "c1", `{"type":"commit_offsets_ok","in_reply_to":7}`)
	store.WantCalls("read commit/7") // already past 1: nothing to write
	out = store.RoundTrip(tr, "c1", "n0", list(8, "7", "8"))
	nodetest.WantBody(t, out, "c1", `{"type":"list_committed_offsets_ok","offsets":{"7":2},"in_reply_to":8}`)
	store.WantCalls("read commit/7", "read commit/8")

	out = store.RoundTrip(tr, "c1", "n0", map[string]any{"type": "owner_send", "msg_id": 9, "key": "7", "msg": 1})
	nodetest.WantError(t, out, "c1", node.NotSupported, 9)
	out = store.RoundTrip(tr, "c1", "n0", map[string]any{"type": "poll", "msg_id": 10, "offsets": map[string]any{"7": "zero"}})
	nodetest.WantError(t, out, "c1", node.MalformedRequest, 10)
	out = store.RoundTrip(tr, "c1", "n0", map[string]any{"type": "send", "msg_id": 11, "key": "7"})
	nodetest.WantError(t, out, "c1", node.MalformedRequest, 11)
	store.WantCalls()
	tr.Send(`{"src":"c1","dest":"n0","body":{"type":"poll","msg_id":12,`)
	tr.Quiet(20 * time.Millisecond)

	out = store.RoundTrip(tr, "c1", "n0", send(13, "7", json.RawMessage(`74`)))
	nodetest.WantBody(t, out, "c1", `{"type":"send_ok","offset":4,"in_reply_to":13}`)
	if err := tr.Close(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func send(msgID int, key string, msg json.RawMessage) map[string]any {
	return map[string]any{"type": "send", "msg_id": msgID, "key": key, "msg": msg}
}

func poll(msgID int, offsets map[string]int) map[string]any {
	return map[string]any{"type": "poll", "msg_id": msgID, "offsets": offsets}
}

func commit(msgID int, offsets map[string]int) map[string]any {
	return map[string]any{"type": "commit_offsets", "msg_id": msgID, "offsets": offsets}
}

func list(msgID int, keys ...string) map[string]any {
	return map[string]any{"type": "list_committed_offsets", "msg_id": msgID, "keys": keys}
}

// ownedKey is a key (as Maelstrom writes them: a stringified integer)
// that owner owns among nodes.
func ownedKey(t *testing.T, owner string, nodes []string) string {
	t.Helper()
	for i := range 100 {
		if k := strconv.Itoa(i); logstore.Owner(k, nodes) == owner {
			return k
		}
	}
	t.Fatalf("no key among 0..99 belongs to %s", owner)
	return ""
}

// carry takes from's next message, which must go to dest, and delivers
// it to the node behind to, as the network would.
func carry(t *testing.T, from, to *nodetest.Transcript, dest string) nodetest.Output {
	t.Helper()
	out := from.Next()
	if out.Dest != dest {
		t.Fatalf("want a message to %s, got %s", dest, out.Line)
	}
	to.Send(out.Line)
	return out
}

// wantFields fails unless out has type typ and exactly the given keys.
func wantFields(t *testing.T, out nodetest.Output, typ string, keys ...string) {
	t.Helper()
	var got []string
	for k := range out.Body {
		got = append(got, k)
	}
	sort.Strings(got)
	if out.Type() != typ || !reflect.DeepEqual(got, keys) {
		t.Fatalf("want %s with fields %v, got %s", typ, keys, out.Line)
	}
}

func rawField(t *testing.T, out nodetest.Output, key string) json.RawMessage {
	t.Helper()
	var body map[string]json.RawMessage
	if err := json.Unmarshal(out.RawBody, &body); err != nil {
		t.Fatalf("body: %v (%s)", err, out.Line)
	}
	return body[key]
}
