package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/glomers/glomers/lib/node"
	"github.com/glomers/glomers/lib/node/nodetest"
	"github.com/glomers/glomers/lib/txn"
)

// replicateEvery is the store's flush interval: how often replication
// goes out while a peer lacks entries.
var replicateEvery = txn.DefaultConfig.FlushEvery

// n0 of a two-node cluster; the test plays the client and the peer n1.
func TestTranscript(t *testing.T) {
	tr := nodetest.Start(t, newNode())
	tr.Init("n0", "n0", "n1")
	msgID := 1
	txn := func(mops string) nodetest.Output {
		t.Helper()
		msgID++
		tr.Send(`{"src":"c1","dest":"n0","body":{"type":"txn","msg_id":` + itoa(msgID) + `,"txn":` + mops + `}}`)
		return tr.Next()
	}

	// Reads are filled in (null for a key never written, the txn's own
	// write once it has made one); writes come back unchanged. The reply
	// does not wait for the peer.
	out := txn(`[["r",1,null],["w",1,6],["r",1,null],["w",2,7],["w",2,8],["r",2,null],["r",3,null]]`)
	nodetest.WantBody(t, out, "c1", `{"type":"txn_ok","txn":[["r",1,null],["w",1,6],["r",1,6],["w",2,7],["w",2,8],["r",2,8],["r",3,null]],"in_reply_to":2}`)

	// Within a tick the committed write set (final values only) goes to
	// the peer, fire-and-forget (no msg_id), and again on the next tick
	// while the peer has not acknowledged it.
	const replicate = `{"type":"txn_replicate","origin":"n0","entries":[{"seq":1,"ts":{"t":1,"n":"n0"},"w":[{"k":1,"v":6},{"k":2,"v":8}]}]}`
	start := time.Now()
	nodetest.WantBody(t, tr.Next(), "n1", replicate)
	nodetest.WantBody(t, tr.Next(), "n1", replicate)
	if waited := time.Since(start); waited > 10*replicateEvery {
		t.Errorf("two replication rounds took %v, interval is %v", waited, replicateEvery)
	}

	// Once n1 acknowledges, the resending stops: within a few ticks comes
	// a stretch longer than a tick with no replication message. (Ticks
	// already under way when the ack lands may still resend.)
	tr.SendMsg("n1", "n0", map[string]any{"type": "txn_replicate_ack", "origin": "n0", "upto": 1})
	for resent := 0; ; resent++ {
		out, ok := tr.NextWithin(replicateEvery + replicateEvery/5)
		if !ok {
			break
		}
		if resent == 5 {
			t.Fatalf("still resending %d ticks after the peer acknowledged", resent)
		}
		nodetest.WantBody(t, out, "n1", replicate)
	}

	// The peer's write sets are applied and acknowledged (a gap-free
	// prefix); a write with an older stamp than the one a key holds loses,
	// and a redelivered entry changes nothing.
	tr.SendMsg("n1", "n0", map[string]any{"type": "txn_replicate", "origin": "n1", "entries": []any{
		map[string]any{"seq": 1, "ts": map[string]any{"t": 5, "n": "n1"}, "w": []any{map[string]any{"k": 1, "v": 60}, map[string]any{"k": 3, "v": 90}}},
	}})
	nodetest.WantBody(t, tr.Next(), "n1", `{"type":"txn_replicate_ack","origin":"n1","upto":1}`)
	tr.SendMsg("n1", "n0", map[string]any{"type": "txn_replicate", "origin": "n1", "entries": []any{
		map[string]any{"seq": 1, "ts": map[string]any{"t": 5, "n": "n1"}, "w": []any{map[string]any{"k": 1, "v": 60}, map[string]any{"k": 3, "v": 90}}},
		map[string]any{"seq": 2, "ts": map[string]any{"t": 4, "n": "n1"}, "w": []any{map[string]any{"k": 1, "v": 61}, map[string]any{"k": 2, "v": 80}}},
	}})
	nodetest.WantBody(t, tr.Next(), "n1", `{"type":"txn_replicate_ack","origin":"n1","upto":2}`)
	out = txn(`[["r",1,null],["r",2,null],["r",3,null]]`)
	nodetest.WantBody(t, out, "c1", `{"type":"txn_ok","txn":[["r",1,60],["r",2,80],["r",3,90]],"in_reply_to":`+itoa(msgID)+`}`)
	tr.Quiet(2 * replicateEvery) // read-only txns and applied peer writes are not sent on

	// A txn after the peer's writes is stamped after them (t > 5), so it
	// wins wherever both are applied.
	out = txn(`[["w",3,91]]`)
	nodetest.WantBody(t, out, "c1", `{"type":"txn_ok","txn":[["w",3,91]],"in_reply_to":`+itoa(msgID)+`}`)
	out = tr.Next()
	var rep struct {
		Entries []struct {
			TS struct{ T int }
		}
	}
	if err := json.Unmarshal(out.RawBody, &rep); err != nil || len(rep.Entries) != 1 || rep.Entries[0].TS.T <= 5 {
		t.Fatalf("want one entry stamped after t=5, got %s", out.Line)
	}
	nodetest.WantBody(t, out, "n1", `{"type":"txn_replicate","origin":"n0","entries":[{"seq":2,"ts":{"t":`+itoa(rep.Entries[0].TS.T)+`,"n":"n0"},"w":[{"k":3,"v":91}]}]}`)
	tr.SendMsg("n1", "n0", map[string]any{"type": "txn_replicate_ack", "origin": "n0", "upto": 2})

	// Maelstrom's error codes for what the node cannot serve; replication
	// ticks may interleave until the ack above lands, so skip them.
	next := func() nodetest.Output {
		t.Helper()
		for {
			if out := tr.Next(); out.Dest != "n1" {
				return out
			}
		}
	}
	tr.SendMsg("c1", "n0", map[string]any{"type": "read", "msg_id": 100, "key": 1})
	nodetest.WantError(t, next(), "c1", node.NotSupported, 100)
	for i, bad := range []string{
		`{"type":"txn","msg_id":101}`,                         // no txn
		`{"type":"txn","msg_id":102,"txn":"r"}`,               // not a list
		`{"type":"txn","msg_id":103,"txn":[["x",1,null]]}`,    // unknown f
		`{"type":"txn","msg_id":104,"txn":[["w",1,null]]}`,    // write without a value
		`{"type":"txn","msg_id":105,"txn":[["r","k",null]]}`,  // key not an integer
		`{"type":"txn","msg_id":106,"txn":[["r",1]]}`,         // not a triple
		`{"type":"txn","msg_id":107,"txn":[["w",1,2],["w"]]}`, // a bad mop anywhere refuses the whole txn
		`{"msg_id":108,"txn":[]}`,                             // no type
	} {
		tr.Send(`{"src":"c1","dest":"n0","body":` + bad + `}`)
		nodetest.WantError(t, next(), "c1", node.MalformedRequest, 101+i)
	}
	tr.Send(`{"src":"c1","dest":"n0","body":{"type":"txn","msg_id":109,`)

	// Still serving, and the refused txns wrote nothing (key 1 is not 2).
	tr.SendMsg("c1", "n0", map[string]any{"type": "txn", "msg_id": 110, "txn": []any{[]any{"r", 1, nil}, []any{"r", 3, nil}}})
	nodetest.WantBody(t, next(), "c1", `{"type":"txn_ok","txn":[["r",1,60],["r",3,91]],"in_reply_to":110}`)
	if err := tr.Close(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// A node alone has no one to replicate to and sends only replies.
func TestTranscriptSingleNode(t *testing.T) {
	tr := nodetest.Start(t, newNode())
	tr.Init("n0", "n0")
	tr.SendMsg("c1", "n0", map[string]any{"type": "txn", "msg_id": 2, "txn": []any{[]any{"w", 1, 1}, []any{"r", 1, nil}, []any{"r", 2, nil}}})
	nodetest.WantBody(t, tr.Next(), "c1", `{"type":"txn_ok","txn":[["w",1,1],["r",1,1],["r",2,null]],"in_reply_to":2}`)
	tr.Quiet(2 * replicateEvery)
	tr.SendMsg("c1", "n0", map[string]any{"type": "txn", "msg_id": 3, "txn": []any{}})
	nodetest.WantBody(t, tr.Next(), "c1", `{"type":"txn_ok","txn":[],"in_reply_to":3}`)
	if err := tr.Close(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// Hostile replication: a client must not be able to replicate, and no
// stamp, however large, may cost an acknowledged write (a stamp of 2^64-1
// once wrapped the clock to 0, so the next write lost to older values).
func TestHostileReplication(t *testing.T) {
	tr := nodetest.Start(t, newNode())
	tr.Init("n0", "n0", "n1")
	entries := func(t uint64) []any {
		return []any{map[string]any{"seq": 1, "ts": map[string]any{"t": t, "n": "n1"}, "w": []any{map[string]any{"k": 1, "v": 666}}}}
	}
	// From a client: refused, with or without a msg_id, and not applied.
	tr.SendMsg("c5", "n0", map[string]any{"type": "txn_replicate", "msg_id": 7, "origin": "c5", "entries": entries(1)})
	nodetest.WantError(t, tr.Next(), "c5", node.NotSupported, 7)
	tr.SendMsg("c5", "n0", map[string]any{"type": "txn_replicate", "origin": "n1", "entries": entries(1)})
	tr.SendMsg("c5", "n0", map[string]any{"type": "txn_replicate_ack", "origin": "n0", "upto": 1})
	tr.Quiet(quiet)

	msgID := 10
	txn := func(mops string) nodetest.Output {
		t.Helper()
		msgID++
		tr.Send(`{"src":"c1","dest":"n0","body":{"type":"txn","msg_id":` + itoa(msgID) + `,"txn":` + mops + `}}`)
		for {
			if out := tr.Next(); out.Dest == "c1" {
				return out
			}
		}
	}
	nodetest.WantBody(t, txn(`[["r",1,null]]`), "c1", `{"type":"txn_ok","txn":[["r",1,null]],"in_reply_to":11}`)

	// From a member, a stamp over the limit (MaxUint64, MaxInt64) is
	// refused whole, and later writes win.
	for i, huge := range []string{"18446744073709551615", "9223372036854775807"} {
		tr.Send(`{"src":"n1","dest":"n0","body":{"type":"txn_replicate","origin":"n1","entries":[{"seq":1,"ts":{"t":` + huge + `,"n":"n1"},"w":[{"k":1,"v":666}]}]}}`)
		// Handlers run concurrently: let this one finish before the write.
		// (Replication of the earlier write may go to n1 meanwhile.)
		for range 3 {
			out, ok := tr.NextWithin(quiet)
			if !ok {
				break
			}
			if out.Type() == "txn_replicate_ack" {
				t.Errorf("stamp %s accepted: %s", huge, out.Line)
			}
		}
		v := itoa(5 + i)
		nodetest.WantBody(t, txn(`[["w",1,`+v+`]]`), "c1", `{"type":"txn_ok","txn":[["w",1,`+v+`]],"in_reply_to":`+itoa(msgID)+`}`)
		nodetest.WantBody(t, txn(`[["r",1,null]]`), "c1", `{"type":"txn_ok","txn":[["r",1,`+v+`]],"in_reply_to":`+itoa(msgID)+`}`)
	}
}

const quiet = 100 * time.Millisecond

// A txn delivered after a replicate message reads what it carried: the
// node serves messages in arrival order (node.InOrder).
func TestTxnAfterReplicateSeesIt(t *testing.T) {
	tr := nodetest.Start(t, newNode())
	tr.Init("n0", "n0", "n1")
	for i := 1; i <= 20; i++ {
		tr.Send(`{"src":"n1","dest":"n0","body":{"type":"txn_replicate","origin":"n1","entries":[{"seq":` + itoa(i) +
			`,"ts":{"t":` + itoa(i) + `,"n":"n1"},"w":[{"k":1,"v":` + itoa(i) + `}]}]}}` + "\n" +
			`{"src":"c1","dest":"n0","body":{"type":"txn","msg_id":` + itoa(i) + `,"txn":[["r",1,null]]}}`)
		for {
			out := tr.Next()
			if out.Dest == "c1" {
				nodetest.WantBody(t, out, "c1", `{"type":"txn_ok","txn":[["r",1,`+itoa(i)+`]],"in_reply_to":`+itoa(i)+`}`)
				break
			}
		}
	}
}
