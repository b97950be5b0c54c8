package logstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/glomers/glomers/lib/kv"
)

// KVLog keeps the logs in a linearizable key/value store (lin-kv), so any
// node can serve any request and nodes hold no state. Per log key k:
//
//	next/k     the next offset to hand out, advanced by compare-and-set
//	msg/k/<o>  the message at offset o
//	commit/k   the committed offset, only ever raised
//
// A send first reserves an offset, then writes the message, so for a
// moment an offset can be reserved but empty; polls stop at the first
// empty offset rather than skip it, which keeps every poll a gap-free run
// of the log.
type KVLog struct {
	store *kv.KV
	// CASFailures counts compare-and-sets that lost a race and had to be
	// retried, the cost this design pays under contention.
	CASFailures atomic.Int64
}

// NewKVLog returns a log kept in store.
func NewKVLog(store *kv.KV) *KVLog { return &KVLog{store: store} }

func nextKey(k string) string         { return "next/" + k }
func msgKey(k string, o int64) string { return "msg/" + k + "/" + strconv.FormatInt(o, 10) }
func commitKey(k string) string       { return "commit/" + k }

// Send appends msg to key's log and returns its offset.
func (l *KVLog) Send(ctx context.Context, key string, msg json.RawMessage) (int64, error) {
	attempts := 0
	next, err := kv.UpdateAs(ctx, l.store, nextKey(key), func(old int64, _ bool) (int64, error) {
		attempts++
		return old + 1, nil
	})
	l.CASFailures.Add(int64(max(attempts-1, 0)))
	if err != nil {
		return 0, fmt.Errorf("send %q: reserve offset: %w", key, err)
	}
	offset := next - 1
	if err := l.store.Write(ctx, msgKey(key, offset), msg); err != nil {
		return 0, fmt.Errorf("send %q: write offset %d: %w", key, offset, err)
	}
	return offset, nil
}

// Read returns up to limit consecutive entries of key from offset from,
// stopping at the first offset without a message.
func (l *KVLog) Read(ctx context.Context, key string, from int64, limit int) ([]Entry, error) {
	var out []Entry
	for o := max(from, 0); limit <= 0 || len(out) < limit; o++ {
		raw, err := l.store.Read(ctx, msgKey(key, o))
		if kv.IsKeyMissing(err) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("poll %q at %d: %w", key, o, err)
		}
		out = append(out, Entry{Offset: o, Msg: raw})
	}
	return out, nil
}

// Commit raises key's committed offset to offset (never lowers it).
func (l *KVLog) Commit(ctx context.Context, key string, offset int64) error {
	for {
		cur, err := l.store.ReadInt(ctx, commitKey(key))
		exists := err == nil
		if err != nil && !kv.IsKeyMissing(err) {
			return fmt.Errorf("commit %q: %w", key, err)
		}
		if exists && int64(cur) >= offset {
			return nil
		}
		var from any
		if exists {
			from = cur
		}
		err = l.store.CAS(ctx, commitKey(key), from, offset, !exists)
		switch {
		case err == nil:
			return nil
		case kv.IsPreconditionFailed(err):
			l.CASFailures.Add(1)
		default:
			return fmt.Errorf("commit %q: %w", key, err)
		}
	}
}

// Committed returns the committed offset of each key that has one.
func (l *KVLog) Committed(ctx context.Context, keys []string) (map[string]int64, error) {
	out := map[string]int64{}
	for _, k := range keys {
		o, err := l.store.ReadInt(ctx, commitKey(k))
		if kv.IsKeyMissing(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list committed %q: %w", k, err)
		}
		out[k] = int64(o)
	}
	return out, nil
}
