// Package client is Maelstrom's synchronous RPC client on the simulated
// network: each client is a network member c<k> (one counter per run, never
// reused), numbers its requests msg_id 1, 2, 3…, and waits for the reply
// whose in_reply_to matches, skipping late replies to requests it has
// already given up on.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glomers/glomers/tools/workbench/network"
)

// DefaultTimeout is Maelstrom's default RPC timeout.
const DefaultTimeout = 5 * time.Second

// Pool opens clients on one network and hands out their ids.
type Pool struct {
	net     *network.Network
	timeout time.Duration
	next    atomic.Int64
}

// NewPool makes a pool whose clients use timeout when Call is given 0
// (0 here means DefaultTimeout).
func NewPool(net *network.Network, timeout time.Duration) *Pool {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Pool{net: net, timeout: timeout}
}

// Open registers a new client c<k> on the network.
func (p *Pool) Open() *Conn {
	id := "c" + strconv.FormatInt(p.next.Add(1)-1, 10)
	return &Conn{id: id, net: p.net, inbox: p.net.Join(id), timeout: p.timeout}
}

// Conn is one client (what a workload calls through, workload.Conn). Calls are serialised:
// one outstanding request at a time, as in Maelstrom.
type Conn struct {
	id      string
	net     *network.Network
	inbox   *network.Inbox
	timeout time.Duration

	mu        sync.Mutex // one call at a time
	lastMsgID int64
	closed    atomic.Bool
}

// ID is the client's network id.
func (c *Conn) ID() string { return c.id }

// Close takes the client off the network. Replies that arrive later are
// dropped by the network.
func (c *Conn) Close() {
	if c.closed.CompareAndSwap(false, true) {
		c.net.Leave(c.id)
	}
}

// Call sends body to dest with a fresh msg_id and waits for the matching
// reply: the reply with json.Number numbers; an error reply with an
// *RPCError; ErrTimeout when none came within timeout (0: the pool's).
func (c *Conn) Call(ctx context.Context, dest string, body map[string]any, timeout time.Duration) (map[string]any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return nil, fmt.Errorf("client %s is closed", c.id)
	}
	if timeout <= 0 {
		timeout = c.timeout
	}
	c.lastMsgID++
	msgID := c.lastMsgID
	req := make(map[string]any, len(body)+1)
	for k, v := range body {
		req[k] = v
	}
	req["msg_id"] = msgID
	raw, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("client %s: encode %v request: %w", c.id, body["type"], err)
	}
	if _, err := c.net.Send(c.id, dest, raw); err != nil {
		return nil, fmt.Errorf("client %s: %w", c.id, err)
	}

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		msg, err := c.inbox.Recv(ctx)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return nil, ErrTimeout
			}
			return nil, fmt.Errorf("client %s waiting for reply from %s: %w", c.id, dest, err)
		}
		reply, irt, ok := decodeReply(msg.Body)
		if !ok || irt != msgID {
			// A late reply to an abandoned request, or junk without
			// in_reply_to: Maelstrom's client skips it.
			continue
		}
		if t, _ := reply["type"].(string); t == "error" {
			return reply, replyError(reply)
		}
		return reply, nil
	}
}

// decodeReply parses a reply body with numbers as json.Number and reads its
// in_reply_to.
func decodeReply(body json.RawMessage) (map[string]any, int64, bool) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil || m == nil {
		return nil, 0, false
	}
	n, ok := m["in_reply_to"].(json.Number)
	if !ok {
		return nil, 0, false
	}
	irt, err := n.Int64()
	if err != nil {
		return nil, 0, false
	}
	return m, irt, true
}

// replyError turns an error body into an *RPCError. A missing or
// non-integer code becomes -1, which Maelstrom's registry does not know,
// so the op is indefinite.
func replyError(reply map[string]any) *RPCError {
	code := -1
	if n, ok := reply["code"].(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			code = int(i)
		}
	}
	text, _ := reply["text"].(string)
	return &RPCError{Code: code, Text: text}
}
