// Admission and dispatch: routing a parsed line to a reply, a refusal
// or a handler, within the bounds, and init.

package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"
)

func (n *Node) dispatch(line []byte) {
	h, err := parseHeader(line)
	if err != nil {
		if errors.Is(err, errTooDeep) {
			// Too deep for encoding/json, which read it up to there: the
			// sender is still owed an answer if its msg_id is readable.
			var scan envelopeScan
			scan.feed(line)
			if n.answerSalvaged(&scan, "request nested deeper than this node reads") {
				return
			}
		}
		n.Logger.Warn("dropping unusable input line", "reason", err, "line", truncate(line))
		return
	}
	msg := Message{Src: h.src, Dest: h.dest, Body: h.body}
	switch {
	case h.isReply:
		n.deliverReply(h.inReplyTo, msg)
	case h.badMsgID != nil:
		n.Logger.Warn("refusing request", "src", h.src, "code", maelstrom.MalformedRequest, "reason", h.badMsgIDWhy)
		if err := n.replyRaw(h.src, h.badMsgID, errorBody(maelstrom.MalformedRequest, h.badMsgIDWhy)); err != nil {
			n.Logger.Error("send error reply", "err", err)
		}
	case !h.typOK:
		n.refuse(h, maelstrom.MalformedRequest, "body has no string type")
	case h.typ == "init":
		n.handleInit(h, msg)
	default:
		r, ok := n.handlers[h.typ]
		if !ok {
			n.refuse(h, maelstrom.NotSupported, fmt.Sprintf("unsupported message type %q", h.typ))
			return
		}
		n.admit(request{route: r, h: h, msg: msg})
	}
}

// answerSalvaged answers a request the runtime could not decode (why
// says what was wrong) with error 12, if scan found its src and msg_id; it
// reports whether it did.
func (n *Node) answerSalvaged(scan *envelopeScan, why string) bool {
	src, rawID, ok := scan.result()
	if !ok {
		return false
	}
	inReplyTo := rawID
	if id, err := parseMsgID(rawID); err == nil {
		inReplyTo = json.RawMessage(strconv.Itoa(id))
	}
	n.Logger.Warn("refusing request", "src", src, "msg_id", string(inReplyTo), "code", MalformedRequest, "reason", why)
	if err := n.replyRaw(src, inReplyTo, errorBody(MalformedRequest, why)); err != nil {
		n.Logger.Error("send error reply", "err", err)
	}
	return true
}

// admit holds req until init, or starts its handler, or, when the limit
// in the way is reached, refuses it; it never blocks the read loop.
func (n *Node) admit(req request) {
	n.backlogMu.Lock()
	if !n.ready {
		var refused string
		switch {
		case len(n.backlog) >= n.MaxBacklog:
			refused = fmt.Sprintf("not initialised yet and %d requests already wait for init", n.MaxBacklog)
		case n.backlogBySrc[req.h.src] >= n.MaxPerSource:
			refused = fmt.Sprintf("not initialised yet and %d requests from %s already wait for init", n.MaxPerSource, req.h.src)
		default:
			n.backlog = append(n.backlog, req)
			n.backlogBySrc[req.h.src]++
		}
		n.backlogMu.Unlock()
		if refused != "" {
			n.refuseOverLimit(req.h, refused)
		}
		return
	}
	n.backlogMu.Unlock()
	n.start(req)
}

// start runs req's handler in a goroutine of its own if a slot is free
// and its source is within MaxPerSource, or, InOrder, queues it for the
// serving goroutine; it refuses what a bound keeps out.
func (n *Node) start(req request) {
	if n.InOrder {
		if why := n.queue.push(req); why != "" {
			n.refuseOverLimit(req.h, why)
		}
		return
	}
	src := req.h.src
	n.perSrcMu.Lock()
	if n.perSrc[src] >= n.MaxPerSource {
		n.perSrcMu.Unlock()
		n.refuseOverLimit(req.h, fmt.Sprintf("%d requests from %s already in progress", n.MaxPerSource, src))
		return
	}
	select {
	case n.slots <- struct{}{}:
	default:
		n.perSrcMu.Unlock()
		n.refuseOverLimit(req.h, fmt.Sprintf("%d requests already in progress", n.MaxInFlight))
		return
	}
	n.perSrc[src]++
	n.perSrcMu.Unlock()
	n.running.Add(1)
	go func() {
		defer n.running.Done()
		defer func() {
			n.perSrcMu.Lock()
			if n.perSrc[src]--; n.perSrc[src] == 0 {
				delete(n.perSrc, src)
			}
			n.perSrcMu.Unlock()
			<-n.slots
		}()
		n.serve(n.ctx, req)
	}()
}

// serveInOrder serves an in-order node's requests, a source's turn at a
// time (queue.go), until the queue is closed and drained.
func (n *Node) serveInOrder() {
	defer n.running.Done()
	for {
		req, ok := n.queue.pop()
		if !ok {
			return
		}
		n.serve(n.inOrderCtx, req)
	}
}

// inOrderKey marks the context of an in-order handler, for RPC to refuse.
type inOrderKey struct{}

// refuseOverLimit answers a request a limit keeps out with error 11. A
// flood makes many of these, so only the first few and then every
// thousandth are logged.
func (n *Node) refuseOverLimit(h header, reason string) {
	if c := n.refused.Add(1); c <= 10 || c%1000 == 0 {
		n.Logger.Warn("refusing requests over a limit", "refused_so_far", c, "src", h.src, "type", h.typ, "reason", reason)
	}
	if !h.hasMsgID {
		return
	}
	if err := n.sendError(h.src, h.msgID, maelstrom.TemporarilyUnavailable, reason); err != nil {
		n.Logger.Error("send error reply", "err", err)
	}
}

// refuse answers a request the runtime cannot hand to a handler, or logs
// it when it has no msg_id to answer.
func (n *Node) refuse(h header, code int, text string) {
	if !h.hasMsgID {
		n.Logger.Warn("dropping request without msg_id", "src", h.src, "code", code, "reason", text)
		return
	}
	n.Logger.Warn("refusing request", "src", h.src, "msg_id", h.msgID, "code", code, "reason", text)
	if err := n.sendError(h.src, h.msgID, code, text); err != nil {
		n.Logger.Error("send error reply", "err", err)
	}
}

func (n *Node) serve(ctx context.Context, req request) {
	h, msg := req.h, req.msg
	if req.route.peersOnly && !n.IsMember(h.src) {
		n.refuse(h, maelstrom.NotSupported, fmt.Sprintf("%q is only accepted from the cluster's nodes, not from %q", h.typ, h.src))
		return
	}
	reply, err := func() (reply any, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("handler for %q panicked: %v", h.typ, p)
			}
		}()
		return req.route.handler(ctx, msg)
	}()
	if rt, ok := reply.(replyThen); ok {
		reply = rt.reply
		if rt.after != nil {
			defer rt.after() // once the reply, if any, is written
		}
	}
	if !h.hasMsgID {
		if err != nil {
			n.Logger.Warn("handler failed on request without msg_id", "type", h.typ, "src", h.src, "err", err)
		}
		return
	}
	if err != nil {
		code, text := maelstrom.Crash, err.Error()
		var rpcErr *maelstrom.RPCError
		switch {
		case errors.As(err, &rpcErr):
			code, text = rpcErr.Code, rpcErr.Text
		case errors.Is(err, context.DeadlineExceeded):
			// An RPC the handler depended on timed out: the outcome is
			// unknown, which is what code 0 says.
			code = maelstrom.Timeout
			n.Logger.Warn("handler timed out", "type", h.typ, "src", h.src, "err", err)
		default:
			n.Logger.Warn("handler failed", "type", h.typ, "src", h.src, "err", err)
		}
		if err := n.sendError(h.src, h.msgID, code, text); err != nil {
			n.Logger.Error("send error reply", "type", h.typ, "err", err)
		}
		return
	}
	if reply == nil {
		return
	}
	if err := n.reply(h.src, h.msgID, reply); err != nil {
		n.Logger.Error("send reply", "type", h.typ, "err", err)
	}
}

func (n *Node) handleInit(h header, msg Message) {
	var body maelstrom.InitMessageBody
	if err := json.Unmarshal(h.body, &body); err != nil || body.NodeID == "" {
		n.refuse(h, maelstrom.MalformedRequest, "init needs a string node_id and a node_ids list")
		return
	}
	first := false
	n.initOnce.Do(func() {
		first = true
		// Set the id before reading the next line, so every later
		// message's handler sees it.
		members := make(map[string]bool, len(body.NodeIDs)+1)
		for _, id := range body.NodeIDs {
			members[id] = true
		}
		members[body.NodeID] = true
		n.idMu.Lock()
		n.id, n.nodeIDs, n.members = body.NodeID, body.NodeIDs, members
		n.idMu.Unlock()
	})
	if !first {
		// Maelstrom sends init once; a repeat changes nothing.
		n.Logger.Warn("ignoring repeated init", "node_id", body.NodeID)
		if h.hasMsgID {
			_ = n.reply(h.src, h.msgID, map[string]any{"type": "init_ok"})
		}
		return
	}
	// The hook runs off the read loop so that it may wait for replies;
	// an in-order node's hook may not wait, and runs in order like the
	// rest, so the requests held for init are served before later ones.
	if n.InOrder {
		n.completeInit(n.inOrderCtx, h, body)
		return
	}
	n.running.Add(1)
	go func() {
		defer n.running.Done()
		n.completeInit(n.ctx, h, body)
	}()
}

// completeInit runs the OnInit hook, answers init and releases the
// requests held for it.
func (n *Node) completeInit(ctx context.Context, h header, body maelstrom.InitMessageBody) {
	var err error
	if n.initHook != nil {
		err = n.initHook(ctx)
	}
	// Answer first, then release waiting handlers, so init_ok is the
	// node's first message, as a reader of the transcript expects.
	if h.hasMsgID {
		if err != nil {
			n.Logger.Error("init hook failed", "err", err)
			err = n.sendError(h.src, h.msgID, maelstrom.Crash, fmt.Sprintf("init: %v", err))
		} else {
			n.Logger.Info("initialised", "node_id", body.NodeID, "nodes", len(body.NodeIDs))
			err = n.reply(h.src, h.msgID, map[string]any{"type": "init_ok"})
		}
		if err != nil {
			n.Logger.Error("answer init", "err", err)
		}
	}
	// Requests that arrived are served even if stdin has ended since;
	// only those held for an init that never came are dropped.
	n.backlogMu.Lock()
	held := n.backlog
	n.backlog, n.backlogBySrc, n.ready = nil, nil, true
	n.backlogMu.Unlock()
	for _, req := range held {
		n.start(req)
	}
	for _, t := range n.tickers {
		n.startTicker(t)
	}
}

func (n *Node) startTicker(t ticker) {
	n.running.Add(1)
	go func() {
		defer n.running.Done()
		tick := time.NewTicker(t.interval)
		defer tick.Stop()
		for {
			select {
			case <-n.ctx.Done():
				return
			case <-tick.C:
				t.fn(n.ctx)
			}
		}
	}()
}
