// Command kafka is Gossip Glomers challenge 5 (5a–5c), a Kafka-style log
// service: send, poll, commit_offsets and list_committed_offsets. One
// binary, two designs, chosen by the KAFKA_MODE environment variable:
//
//	KAFKA_MODE=owner (default; 5a, 5c)  each key belongs to one node (a hash
//	    of the key over the node list), which assigns offsets and keeps the
//	    log and committed offsets in memory; other nodes forward requests
//	    for it. With one node everything is local.
//	KAFKA_MODE=kv (5b)  nodes are stateless: offsets are reserved by
//	    compare-and-set in lin-kv and every message is its own lin-kv key
//	    (lib/logstore.KVLog).
//
// Both log their cumulative counters (forwards, CAS failures) to stderr
// once a second.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glomers/glomers/lib/kv"
	"github.com/glomers/glomers/lib/logstore"
	"github.com/glomers/glomers/lib/node"
)

// pollLimit bounds the entries returned per key per poll, keeping replies
// (and lines) small; clients simply poll again.
const pollLimit = 100

// kvPollParallelism bounds the lin-kv reads one poll has in flight.
const kvPollParallelism = 32

func main() {
	mode := os.Getenv("KAFKA_MODE")
	var n *node.Node
	switch mode {
	case "", "owner":
		n = ownerNode()
	case "kv":
		n = kvNode()
	default:
		slog.Error("unknown KAFKA_MODE (want owner or kv)", "mode", mode)
		os.Exit(2)
	}
	if err := n.Run(); err != nil {
		slog.Error("kafka node failed", "err", err)
		os.Exit(1)
	}
}

type sendReq struct {
	Key string          `json:"key"`
	Msg json.RawMessage `json:"msg"`
}

type sendOK struct {
	Type   string `json:"type"`
	Offset int64  `json:"offset"`
}

type offsetsReq struct {
	Offsets map[string]int64 `json:"offsets"`
}

type pollOK struct {
	Type string                      `json:"type"`
	Msgs map[string][]logstore.Entry `json:"msgs"`
}

type keysReq struct {
	Keys []string `json:"keys"`
}

type offsetsOK struct {
	Type    string           `json:"type"`
	Offsets map[string]int64 `json:"offsets"`
}

type typeOnly struct {
	Type string `json:"type"`
}

// decodeSend reads a send (or owner_send) body; both key and msg must be
// present, or the request is malformed (12).
func decodeSend(req node.Message) (sendReq, error) {
	var b struct {
		Key *string         `json:"key"`
		Msg json.RawMessage `json:"msg"`
	}
	if err := node.Decode(req, &b); err != nil {
		return sendReq{}, err
	}
	if b.Key == nil || b.Msg == nil {
		return sendReq{}, node.Errorf(node.MalformedRequest, "send needs key and msg")
	}
	return sendReq{Key: *b.Key, Msg: b.Msg}, nil
}

// owner is KAFKA_MODE=owner: each key belongs to one node, which keeps
// its log and committed offset in memory; the others forward to it.
type owner struct {
	n        *node.Node
	mu       sync.Mutex // serialises log, as lib/ types expect; never held across an RPC
	log      *logstore.Log
	forwards atomic.Int64
}

func ownerNode() *node.Node {
	o := &owner{n: node.New(), log: logstore.NewLog()}
	// What clients ask: served here for local keys, forwarded otherwise.
	o.n.Handle("send", o.send)
	o.n.Handle("poll", o.poll)
	o.n.Handle("commit_offsets", o.commitOffsets)
	o.n.Handle("list_committed_offsets", o.listCommitted)
	// What other nodes forward: only from the cluster's nodes.
	o.n.HandlePeer("owner_send", o.ownerSend)
	o.n.HandlePeer("owner_poll", o.ownerPoll)
	o.n.HandlePeer("owner_commit", o.ownerCommit)
	o.n.HandlePeer("owner_list", o.ownerList)
	o.n.Every(time.Second, func(context.Context) {
		o.n.Logger.Info("stats", "mode", "owner", "forwards", o.forwards.Load())
	})
	return o.n
}

// The local operations on the in-memory logs.

func (o *owner) append(key string, msg json.RawMessage) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.log.Append(key, msg)
}

func (o *owner) pollLocal(offsets map[string]int64) map[string][]logstore.Entry {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.log.Poll(offsets, pollLimit)
}

func (o *owner) commitLocal(offsets map[string]int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for k, off := range offsets {
		o.log.Commit(k, off)
	}
}

func (o *owner) committedLocal(keys []string) map[string]int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.log.Committed(keys)
}

// forward sends an internal request to a key's owner and decodes its
// reply into out.
func (o *owner) forward(ctx context.Context, dest string, body, out any) error {
	o.forwards.Add(1)
	reply, err := o.n.RPC(ctx, dest, body)
	if err != nil {
		return err
	}
	return json.Unmarshal(reply.Body, out)
}

// eachRemote calls fn for every owner in groups other than this node,
// in parallel, and returns when all have returned.
func eachRemote[T any](self string, groups map[string]T, fn func(owner string, part T)) {
	var wg sync.WaitGroup
	for own, part := range groups {
		if own == self {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(own, part)
		}()
	}
	wg.Wait()
}

// The handlers for clients.

func (o *owner) send(ctx context.Context, req node.Message) (any, error) {
	b, err := decodeSend(req)
	if err != nil {
		return nil, err
	}
	if own := logstore.Owner(b.Key, o.n.NodeIDs()); own != o.n.ID() {
		var out sendOK
		if err := o.forward(ctx, own, map[string]any{"type": "owner_send", "key": b.Key, "msg": b.Msg}, &out); err != nil {
			return nil, err // a timeout stays indefinite: the owner may have appended
		}
		return sendOK{Type: "send_ok", Offset: out.Offset}, nil
	}
	return sendOK{Type: "send_ok", Offset: o.append(b.Key, b.Msg)}, nil
}

func (o *owner) poll(ctx context.Context, req node.Message) (any, error) {
	var b offsetsReq
	if err := node.Decode(req, &b); err != nil {
		return nil, err
	}
	groups := splitOffsets(b.Offsets, o.n.NodeIDs())
	msgs := o.pollLocal(groups[o.n.ID()])
	var mu sync.Mutex // guards msgs against the parallel forwards
	eachRemote(o.n.ID(), groups, func(own string, offs map[string]int64) {
		var out pollOK
		if err := o.forward(ctx, own, map[string]any{"type": "owner_poll", "offsets": offs}, &out); err != nil {
			// Polls may return fewer keys; these come next time.
			o.n.Logger.Warn("poll forward failed", "owner", own, "err", err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for k, es := range out.Msgs {
			msgs[k] = es
		}
	})
	return pollOK{Type: "poll_ok", Msgs: msgs}, nil
}

func (o *owner) commitOffsets(ctx context.Context, req node.Message) (any, error) {
	var b offsetsReq
	if err := node.Decode(req, &b); err != nil {
		return nil, err
	}
	groups := splitOffsets(b.Offsets, o.n.NodeIDs())
	o.commitLocal(groups[o.n.ID()])
	var mu sync.Mutex // guards firstErr
	var firstErr error
	eachRemote(o.n.ID(), groups, func(own string, offs map[string]int64) {
		var out typeOnly
		err := o.forward(ctx, own, map[string]any{"type": "owner_commit", "offsets": offs}, &out)
		mu.Lock()
		defer mu.Unlock()
		if err != nil && firstErr == nil {
			firstErr = err
		}
	})
	if firstErr != nil {
		return nil, fmt.Errorf("commit at owner: %w", firstErr)
	}
	return typeOnly{Type: "commit_offsets_ok"}, nil
}

func (o *owner) listCommitted(ctx context.Context, req node.Message) (any, error) {
	var b keysReq
	if err := node.Decode(req, &b); err != nil {
		return nil, err
	}
	groups := logstore.SplitByOwner(b.Keys, o.n.NodeIDs())
	offsets := o.committedLocal(groups[o.n.ID()])
	var mu sync.Mutex // guards offsets
	eachRemote(o.n.ID(), groups, func(own string, keys []string) {
		var part offsetsOK
		if err := o.forward(ctx, own, map[string]any{"type": "owner_list", "keys": keys}, &part); err != nil {
			// Missing keys may be omitted; the client then starts at 0.
			o.n.Logger.Warn("list forward failed", "owner", own, "err", err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for k, off := range part.Offsets {
			offsets[k] = off
		}
	})
	return offsetsOK{Type: "list_committed_offsets_ok", Offsets: offsets}, nil
}

// The handlers for requests forwarded by other nodes: this node owns the
// keys (the sender routed them here).

func (o *owner) ownerSend(_ context.Context, req node.Message) (any, error) {
	b, err := decodeSend(req)
	if err != nil {
		return nil, err
	}
	return sendOK{Type: "send_ok", Offset: o.append(b.Key, b.Msg)}, nil
}

func (o *owner) ownerPoll(_ context.Context, req node.Message) (any, error) {
	var b offsetsReq
	if err := node.Decode(req, &b); err != nil {
		return nil, err
	}
	return pollOK{Type: "poll_ok", Msgs: o.pollLocal(b.Offsets)}, nil
}

func (o *owner) ownerCommit(_ context.Context, req node.Message) (any, error) {
	var b offsetsReq
	if err := node.Decode(req, &b); err != nil {
		return nil, err
	}
	o.commitLocal(b.Offsets)
	return typeOnly{Type: "commit_offsets_ok"}, nil
}

func (o *owner) ownerList(_ context.Context, req node.Message) (any, error) {
	var b keysReq
	if err := node.Decode(req, &b); err != nil {
		return nil, err
	}
	return offsetsOK{Type: "list_committed_offsets_ok", Offsets: o.committedLocal(b.Keys)}, nil
}

// splitOffsets groups a key → offset map by owner.
func splitOffsets(offsets map[string]int64, nodes []string) map[string]map[string]int64 {
	out := map[string]map[string]int64{}
	for k, o := range offsets {
		owner := logstore.Owner(k, nodes)
		if out[owner] == nil {
			out[owner] = map[string]int64{}
		}
		out[owner][k] = o
	}
	return out
}

// kvServer is KAFKA_MODE=kv: everything lives in lin-kv, so any node
// serves any request and nodes keep nothing.
type kvServer struct {
	n   *node.Node
	log *logstore.KVLog
}

func kvNode() *node.Node {
	n := node.New()
	s := &kvServer{n: n, log: logstore.NewKVLog(kv.New(n, kv.LinKV))}
	n.Handle("send", s.send)
	n.Handle("poll", s.poll)
	n.Handle("commit_offsets", s.commitOffsets)
	n.Handle("list_committed_offsets", s.listCommitted)
	n.Every(time.Second, func(context.Context) {
		n.Logger.Info("stats", "mode", "kv", "cas_failures", s.log.CASFailures.Load())
	})
	return n
}

func (s *kvServer) send(ctx context.Context, req node.Message) (any, error) {
	b, err := decodeSend(req)
	if err != nil {
		return nil, err
	}
	o, err := s.log.Send(ctx, b.Key, b.Msg)
	if err != nil {
		return nil, err
	}
	return sendOK{Type: "send_ok", Offset: o}, nil
}

// poll reads keys in parallel: a final poll asks for every key from
// offset 0, hundreds of keys, and one read at a time would outlast the
// client's timeout.
func (s *kvServer) poll(ctx context.Context, req node.Message) (any, error) {
	var b offsetsReq
	if err := node.Decode(req, &b); err != nil {
		return nil, err
	}
	msgs := map[string][]logstore.Entry{}
	var mu sync.Mutex // guards msgs and firstErr
	var firstErr error
	sem := make(chan struct{}, kvPollParallelism)
	var wg sync.WaitGroup
	for k, from := range b.Offsets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			es, err := s.log.Read(ctx, k, from, pollLimit)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil && firstErr == nil:
				firstErr = err
			case err == nil && len(es) > 0:
				msgs[k] = es
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return pollOK{Type: "poll_ok", Msgs: msgs}, nil
}

func (s *kvServer) commitOffsets(ctx context.Context, req node.Message) (any, error) {
	var b offsetsReq
	if err := node.Decode(req, &b); err != nil {
		return nil, err
	}
	for k, o := range b.Offsets {
		if err := s.log.Commit(ctx, k, o); err != nil {
			return nil, err
		}
	}
	return typeOnly{Type: "commit_offsets_ok"}, nil
}

func (s *kvServer) listCommitted(ctx context.Context, req node.Message) (any, error) {
	var b keysReq
	if err := node.Decode(req, &b); err != nil {
		return nil, err
	}
	offs, err := s.log.Committed(ctx, b.Keys)
	if err != nil {
		return nil, err
	}
	return offsetsOK{Type: "list_committed_offsets_ok", Offsets: offs}, nil
}
