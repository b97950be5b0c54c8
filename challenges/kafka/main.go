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

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

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
		return sendReq{}, node.Errorf(maelstrom.MalformedRequest, "send needs key and msg")
	}
	return sendReq{Key: *b.Key, Msg: b.Msg}, nil
}

// ownerNode serves keys it owns from memory and forwards the rest.
func ownerNode() *node.Node {
	n := node.New()
	log := logstore.NewLog()
	var forwards atomic.Int64
	owner := func(k string) string { return logstore.Owner(k, n.NodeIDs()) }

	// forward sends an internal request to a key's owner and decodes its
	// reply into out.
	forward := func(ctx context.Context, dest string, body, out any) error {
		forwards.Add(1)
		reply, err := n.RPC(ctx, dest, body)
		if err != nil {
			return err
		}
		return json.Unmarshal(reply.Body, out)
	}

	sendLocal := func(_ context.Context, req node.Message) (any, error) {
		b, err := decodeSend(req)
		if err != nil {
			return nil, err
		}
		return sendOK{Type: "send_ok", Offset: log.Append(b.Key, b.Msg)}, nil
	}
	n.Handle("owner_send", sendLocal)
	n.Handle("send", func(ctx context.Context, req node.Message) (any, error) {
		b, err := decodeSend(req)
		if err != nil {
			return nil, err
		}
		if o := owner(b.Key); o != n.ID() {
			var out sendOK
			if err := forward(ctx, o, map[string]any{"type": "owner_send", "key": b.Key, "msg": b.Msg}, &out); err != nil {
				return nil, err // a timeout stays indefinite: the owner may have appended
			}
			return sendOK{Type: "send_ok", Offset: out.Offset}, nil
		}
		return sendLocal(ctx, req)
	})

	n.Handle("owner_poll", func(_ context.Context, req node.Message) (any, error) {
		var b offsetsReq
		if err := node.Decode(req, &b); err != nil {
			return nil, err
		}
		return pollOK{Type: "poll_ok", Msgs: log.Poll(b.Offsets, pollLimit)}, nil
	})
	n.Handle("poll", func(ctx context.Context, req node.Message) (any, error) {
		var b offsetsReq
		if err := node.Decode(req, &b); err != nil {
			return nil, err
		}
		groups := splitOffsets(b.Offsets, n.NodeIDs())
		msgs := log.Poll(groups[n.ID()], pollLimit)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for o, offs := range groups {
			if o == n.ID() {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				var out pollOK
				if err := forward(ctx, o, map[string]any{"type": "owner_poll", "offsets": offs}, &out); err != nil {
					// Polls may return fewer keys; these come next time.
					n.Logger.Warn("poll forward failed", "owner", o, "err", err)
					return
				}
				mu.Lock()
				for k, es := range out.Msgs {
					msgs[k] = es
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		return pollOK{Type: "poll_ok", Msgs: msgs}, nil
	})

	n.Handle("owner_commit", func(_ context.Context, req node.Message) (any, error) {
		var b offsetsReq
		if err := node.Decode(req, &b); err != nil {
			return nil, err
		}
		for k, o := range b.Offsets {
			log.Commit(k, o)
		}
		return typeOnly{Type: "commit_offsets_ok"}, nil
	})
	n.Handle("commit_offsets", func(ctx context.Context, req node.Message) (any, error) {
		var b offsetsReq
		if err := node.Decode(req, &b); err != nil {
			return nil, err
		}
		groups := splitOffsets(b.Offsets, n.NodeIDs())
		for k, o := range groups[n.ID()] {
			log.Commit(k, o)
		}
		errs := make(chan error, len(groups))
		for o, offs := range groups {
			if o == n.ID() {
				continue
			}
			go func() {
				var out typeOnly
				errs <- forward(ctx, o, map[string]any{"type": "owner_commit", "offsets": offs}, &out)
			}()
		}
		for o := range groups {
			if o == n.ID() {
				continue
			}
			if err := <-errs; err != nil {
				return nil, fmt.Errorf("commit at owner: %w", err)
			}
		}
		return typeOnly{Type: "commit_offsets_ok"}, nil
	})

	n.Handle("owner_list", func(_ context.Context, req node.Message) (any, error) {
		var b keysReq
		if err := node.Decode(req, &b); err != nil {
			return nil, err
		}
		return offsetsOK{Type: "list_committed_offsets_ok", Offsets: log.Committed(b.Keys)}, nil
	})
	n.Handle("list_committed_offsets", func(ctx context.Context, req node.Message) (any, error) {
		var b keysReq
		if err := node.Decode(req, &b); err != nil {
			return nil, err
		}
		groups := logstore.SplitByOwner(b.Keys, n.NodeIDs())
		out := log.Committed(groups[n.ID()])
		for o, keys := range groups {
			if o == n.ID() {
				continue
			}
			var part offsetsOK
			if err := forward(ctx, o, map[string]any{"type": "owner_list", "keys": keys}, &part); err != nil {
				// Missing keys may be omitted; the client then starts at 0.
				n.Logger.Warn("list forward failed", "owner", o, "err", err)
				continue
			}
			for k, off := range part.Offsets {
				out[k] = off
			}
		}
		return offsetsOK{Type: "list_committed_offsets_ok", Offsets: out}, nil
	})

	n.Every(time.Second, func(context.Context) {
		n.Logger.Info("stats", "mode", "owner", "forwards", forwards.Load())
	})
	return n
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

// kvNode keeps everything in lin-kv; any node serves any request.
func kvNode() *node.Node {
	n := node.New()
	l := logstore.NewKVLog(kv.New(n, kv.LinKV))
	n.Handle("send", func(ctx context.Context, req node.Message) (any, error) {
		b, err := decodeSend(req)
		if err != nil {
			return nil, err
		}
		o, err := l.Send(ctx, b.Key, b.Msg)
		if err != nil {
			return nil, err
		}
		return sendOK{Type: "send_ok", Offset: o}, nil
	})
	n.Handle("poll", func(ctx context.Context, req node.Message) (any, error) {
		var b offsetsReq
		if err := node.Decode(req, &b); err != nil {
			return nil, err
		}
		// Keys are read in parallel: a final poll asks for every key from
		// offset 0, hundreds of keys, and one read at a time would outlast
		// the client's timeout.
		msgs := map[string][]logstore.Entry{}
		var mu sync.Mutex
		var firstErr error
		sem := make(chan struct{}, kvPollParallelism)
		var wg sync.WaitGroup
		for k, from := range b.Offsets {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				es, err := l.Read(ctx, k, from, pollLimit)
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
	})
	n.Handle("commit_offsets", func(ctx context.Context, req node.Message) (any, error) {
		var b offsetsReq
		if err := node.Decode(req, &b); err != nil {
			return nil, err
		}
		for k, o := range b.Offsets {
			if err := l.Commit(ctx, k, o); err != nil {
				return nil, err
			}
		}
		return typeOnly{Type: "commit_offsets_ok"}, nil
	})
	n.Handle("list_committed_offsets", func(ctx context.Context, req node.Message) (any, error) {
		var b keysReq
		if err := node.Decode(req, &b); err != nil {
			return nil, err
		}
		offs, err := l.Committed(ctx, b.Keys)
		if err != nil {
			return nil, err
		}
		return offsetsOK{Type: "list_committed_offsets_ok", Offsets: offs}, nil
	})
	n.Every(time.Second, func(context.Context) {
		n.Logger.Info("stats", "mode", "kv", "cas_failures", l.CASFailures.Load())
	})
	return n
}
