// RPCs, sends and replies, and the errors they carry.

package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"
)

func (n *Node) deliverReply(inReplyTo int, msg Message) {
	n.rpcMu.Lock()
	ch, ok := n.pending[inReplyTo]
	delete(n.pending, inReplyTo)
	n.rpcMu.Unlock()
	if !ok {
		n.Logger.Debug("dropping reply nobody waits for (late or unknown)", "src", msg.Src, "in_reply_to", inReplyTo)
		return
	}
	ch <- msg // buffered for exactly this one message; never blocks
}

// RPC sends body (which must marshal to a JSON object; msg_id is added) to
// dest and waits for the reply. It returns the reply message, or:
//   - a *maelstrom.RPCError (wrapped) if the reply is {"type":"error"},
//     whatever the code — code 0 (timeout) is an error too;
//   - an error wrapping ctx.Err() if ctx ends first. If ctx has no
//     deadline, RPCTimeout applies (context.DeadlineExceeded).
//
// Either way the pending entry is gone when RPC returns; a reply that
// arrives afterwards is dropped. RPC is safe to call from any goroutine,
// but refuses the context of an in-order handler (Node.InOrder).
func (n *Node) RPC(ctx context.Context, dest string, body any) (Message, error) {
	if ctx.Value(inOrderKey{}) != nil {
		return Message{}, fmt.Errorf("rpc to %s from an in-order handler: waiting there would stall every later message (see Node.InOrder)", dest)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, n.RPCTimeout)
		defer cancel()
	}
	id := int(n.nextMsgID.Add(1))
	raw, err := encodeBody(body, "msg_id", json.RawMessage(strconv.Itoa(id)))
	if err != nil {
		return Message{}, fmt.Errorf("rpc to %s: %w", dest, err)
	}
	var head struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(raw.bytes(), &head) // for error messages only
	typ := head.Type

	ch := make(chan Message, 1)
	n.rpcMu.Lock()
	n.pending[id] = ch
	n.rpcMu.Unlock()
	forget := func() {
		n.rpcMu.Lock()
		delete(n.pending, id)
		n.rpcMu.Unlock()
	}

	if err := n.write(dest, raw); err != nil {
		forget()
		return Message{}, fmt.Errorf("rpc %s to %s: %w", typ, dest, err)
	}
	select {
	case reply := <-ch:
		if err := ReplyError(reply); err != nil {
			return reply, fmt.Errorf("rpc %s to %s: %w", typ, dest, err)
		}
		return reply, nil
	case <-ctx.Done():
		forget()
		return Message{}, fmt.Errorf("rpc %s to %s (msg_id %d): %w", typ, dest, id, ctx.Err())
	}
}

// Send sends body to dest without waiting for anything (no msg_id is
// added, so a well-behaved peer does not answer). Like RPC and Reply, it
// is meant for use after init: before it the node has no id to send from.
func (n *Node) Send(dest string, body any) error {
	raw, err := encodeBody(body, "", nil)
	if err != nil {
		return fmt.Errorf("send to %s: %w", dest, err)
	}
	return n.write(dest, raw)
}

// Reply answers req with body (in_reply_to is added). Handlers usually
// just return the body; Reply is for answering later or from elsewhere.
func (n *Node) Reply(req Message, body any) error {
	var h struct {
		MsgID *int `json:"msg_id"`
	}
	if err := json.Unmarshal(req.Body, &h); err != nil || h.MsgID == nil {
		return fmt.Errorf("reply to %s: request has no msg_id", req.Src)
	}
	return n.reply(req.Src, *h.MsgID, body)
}

func (n *Node) reply(dest string, inReplyTo int, body any) error {
	return n.replyRaw(dest, json.RawMessage(strconv.Itoa(inReplyTo)), body)
}

// replyRaw is reply with in_reply_to as raw JSON, which lets a malformed
// msg_id be echoed as it came.
func (n *Node) replyRaw(dest string, inReplyTo json.RawMessage, body any) error {
	raw, err := encodeBody(body, "in_reply_to", inReplyTo)
	if err != nil {
		return fmt.Errorf("reply to %s: %w", dest, err)
	}
	return n.write(dest, raw)
}

// sendError writes an error reply. It does not use RPCError's own
// MarshalJSON, which drops code 0.
func (n *Node) sendError(dest string, inReplyTo, code int, text string) error {
	return n.reply(dest, inReplyTo, errorBody(code, text))
}

// errorBody is an error reply's body, encoded directly: a flood is
// refused one error at a time, so each must cost little.
func errorBody(code int, text string) Encoded {
	b := make([]byte, 0, len(text)+40)
	b = append(b, `{"type":"error","code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `,"text":`...)
	b = appendJSONString(b, text)
	return append(b, '}')
}

// Decode unmarshals req's body into v. On failure it returns a
// *maelstrom.RPCError with code 12 (malformed-request), so a handler can
// return it as is.
func Decode(req Message, v any) error {
	if err := json.Unmarshal(req.Body, v); err != nil {
		return maelstrom.NewRPCError(maelstrom.MalformedRequest, fmt.Sprintf("decode %s body: %v", req.Type(), err))
	}
	return nil
}

// Errorf builds an error reply with a Maelstrom code (maelstrom.KeyDoesNotExist, …).
func Errorf(code int, format string, args ...any) *maelstrom.RPCError {
	return maelstrom.NewRPCError(code, fmt.Sprintf(format, args...))
}

// ReplyError returns the *maelstrom.RPCError carried by a {"type":"error"}
// reply, or nil for any other reply. Unlike Message.RPCError in the
// library, code 0 (timeout) counts as an error; an error body without a
// code is reported as 13 (crash).
func ReplyError(reply Message) error {
	var body struct {
		Type string `json:"type"`
		Code *int   `json:"code"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(reply.Body, &body); err != nil {
		return maelstrom.NewRPCError(maelstrom.Crash, fmt.Sprintf("unreadable reply: %v", err))
	}
	if body.Type != "error" {
		return nil
	}
	if body.Code == nil {
		return maelstrom.NewRPCError(maelstrom.Crash, "error reply without code: "+body.Text)
	}
	return maelstrom.NewRPCError(*body.Code, body.Text)
}

// RPCError is an error reply's code and text: the Maelstrom library's
// type, so errors.As finds it whichever package made it.
type RPCError = maelstrom.RPCError

// Maelstrom's error codes (doc/protocol.md), so that a challenge names
// them without importing the Maelstrom library. Codes 0, 11 and 14 are
// indefinite or retryable: the request may or may not have taken effect
// (0), or certainly did not (11, 14).
const (
	Timeout                = maelstrom.Timeout                // 0
	NodeNotFound           = 1                                // Maelstrom defines it; the library does not
	NotSupported           = maelstrom.NotSupported           // 10
	TemporarilyUnavailable = maelstrom.TemporarilyUnavailable // 11
	MalformedRequest       = maelstrom.MalformedRequest       // 12
	Crash                  = maelstrom.Crash                  // 13
	Abort                  = maelstrom.Abort                  // 14
	KeyDoesNotExist        = maelstrom.KeyDoesNotExist        // 20
	KeyAlreadyExists       = maelstrom.KeyAlreadyExists       // 21
	PreconditionFailed     = maelstrom.PreconditionFailed     // 22
	TxnConflict            = maelstrom.TxnConflict            // 30
)

// ErrorCode returns the code of the *RPCError in err's chain, or -1 if
// there is none.
func ErrorCode(err error) int {
	var rpcErr *RPCError
	if errors.As(err, &rpcErr) {
		return rpcErr.Code
	}
	return -1
}

// ReplyThen is a handler's reply with work to do once the reply is
// written: the handler's step produced both the client's answer and
// messages to other nodes, and the answer should not wait behind them.
// The runtime writes reply (if the request has a msg_id and reply is not
// nil) and then calls after (always, so a request without a msg_id
// still has its step's messages sent).
//
//	out := s.step(…)
//	return node.ReplyThen(broadcastOK, func() { s.send(out) }), nil
func ReplyThen(reply any, after func()) any {
	return replyThen{reply: reply, after: after}
}

type replyThen struct {
	reply any
	after func()
}
