// Package node is the runtime every challenge binary runs on: it reads
// Maelstrom messages from stdin, dispatches requests to handlers, routes
// replies to waiting RPCs and writes messages to stdout. It reuses the
// Maelstrom Go library's types (maelstrom.Message, maelstrom.RPCError and
// its error-code constants) but not its event loop, because that loop
// exits on an unknown message type or a line over 64 KiB, its SyncRPC
// leaks a callback (and a goroutine) whenever a reply never comes, and it
// treats an error reply with code 0 as success.
//
// # Usage
//
//	n := node.New()
//	n.Handle("echo", func(ctx context.Context, req node.Message) (any, error) {
//		var body struct{ Echo json.RawMessage `json:"echo"` }
//		if err := node.Decode(req, &body); err != nil {
//			return nil, err // replies error 12 malformed-request
//		}
//		return map[string]any{"type": "echo_ok", "echo": body.Echo}, nil
//	})
//	n.OnInit(func(ctx context.Context) error { /* n.ID(), n.NodeIDs() are set */ return nil })
//	n.Every(100*time.Millisecond, func(ctx context.Context) { /* gossip tick */ })
//	if err := n.Run(); err != nil { ... }
//
// Inside a handler or a tick, call another node or a service with
//
//	reply, err := n.RPC(ctx, "lin-kv", map[string]any{"type": "read", "key": "k"})
//
// which returns the reply message, or an error: *maelstrom.RPCError for a
// {"type":"error"} reply (whatever its code, 0 included), or one wrapping
// context.DeadlineExceeded when no reply came in time. Fire-and-forget
// messages go out with n.Send(dest, body).
//
// # Concurrency rule
//
// Every request runs its handler in a goroutine of its own, as in the
// Maelstrom library, so a handler may block on RPCs without stalling the
// node (a serial loop would deadlock two nodes that call each other).
// Handlers therefore run concurrently with each other and with Every
// ticks: keep protocol state in a plain type (lib/gossip, lib/idgen, …)
// guarded by one mutex in the challenge's wiring, and never hold that
// mutex across an RPC (a Stepper is that mutex for a protocol whose steps
// return a Ready, with the timer that calls its Tick). The order in which
// consecutive messages reach their handlers is not guaranteed. Requests
// that arrive before init are held (without a goroutine each) until init
// and the OnInit hook have completed, so ID and NodeIDs are always set
// inside a handler.
//
// A node whose handlers never wait (no RPC: gossip, broadcast) sets
// InOrder instead: one goroutine serves the requests one at a time, and
// the read loop reads ahead of it into a queue per source (queue.go).
// Each source's requests are served in the order they arrived, and
// sources take turns: while the node keeps up, that is arrival order, so
// a message's effect is visible to every later message (a read delivered
// after a gossip message answers with the gossip's values; with a
// goroutine each, the read's handler may take the state's mutex first and
// answer without them). When one source floods, the others still get a
// turn per round instead of waiting behind everything it sent. Init and
// the OnInit hook run on the read loop, before any request is served. It
// is also cheaper: no goroutine per message, which matters when 25 nodes
// share two cores. RPC refuses a context from an in-order handler, since
// waiting there would stall every later message (and two nodes waiting on
// each other would deadlock until the timeout).
//
// # Bounds
//
// What one message can cost is bounded, so a flood cannot grow the node
// without limit. At most MaxInFlight handlers run (or, InOrder, wait to
// be served) at once, at most MaxPerSource of them from one source, and
// at most MaxBacklog requests (MaxPerSource from one source) wait for
// init; an in-order node's waiting requests hold at most MaxQueuedBytes.
// A request beyond a limit is answered at once with error 11
// (temporarily-unavailable: it was not processed, so the sender may
// retry) or, without a msg_id, logged and dropped, as a lost message
// would be. Replies to RPCs never count against the limits: they are
// routed by the read loop itself, so handlers waiting on RPCs always get
// their answers. A handler whose reply is large and shared (a read of
// every value) returns it as Encoded bytes, kept from one read to the
// next, so that a read costs a copy rather than an encoding.
//
// Inter-node message types are registered with HandlePeer: the runtime
// serves them only from the cluster's own nodes (init's node_ids) and
// refuses them from anyone else (clients, services) with error 10, so a
// client cannot inject replication or gossip.
//
// # Errors and replies
//
// A handler returns the reply body (any value that marshals to a JSON
// object, or Encoded; the runtime adds in_reply_to) or an error. An
// *RPCError anywhere in the error chain (Errorf makes one, with the codes
// this package names: MalformedRequest, KeyDoesNotExist, …) becomes an
// error reply with its code; an error wrapping context.DeadlineExceeded
// becomes code 0 (timeout); any other error becomes code 13 (crash). A
// nil body with a nil error sends nothing, which is what gossip and other
// fire-and-forget handlers want. A request without msg_id is never
// answered. A handler whose step also produced messages for other nodes
// returns ReplyThen(body, send): the reply goes out first, then send
// runs. A handler may also answer later, or more than once, with n.Reply.
//
// Input the runtime cannot use never stops the node: a line that is not
// a JSON object with a string src and an object body is logged and
// skipped (there is no one to answer). A line longer than MaxLineBytes is
// not held but streamed past a scanner (salvage.go), and so is one
// nested deeper than encoding/json reads; either is answered with error
// 12 when it is a whole object whose src and msg_id the scanner finds.
// A body without a usable type is
// answered with error 12 (malformed-request) if it has a msg_id; a type
// without a handler with error 10 (not-supported). A msg_id that is not
// a JSON integer in int64's range (1.5, 2.0, 1e30, "9", null, 2^63) is
// answered with error 12 saying why, its in_reply_to echoing the msg_id
// as sent (null if that is over 64 bytes) so the sender can match it.
// Messages carrying in_reply_to are replies: they go to the RPC waiting
// for them, or, if none is waiting any more, are logged and dropped; one
// whose in_reply_to is not an integer is logged and skipped.
//
// # Shutdown
//
// When stdin ends, the node cancels the context given to handlers, ticks
// and RPCs (no reply can arrive any more), waits up to ShutdownTimeout for
// them to return, and Run returns nil.
package node
