// Package kv is a typed client for Maelstrom's built-in services: the
// key/value stores lin-kv (linearizable), seq-kv (sequentially consistent)
// and lww-kv (last-write-wins, never converges), and the timestamp oracle
// lin-tso. It talks through lib/node's RPC, so calls have deadlines that
// never leak, and error replies come back as *maelstrom.RPCError with
// Maelstrom's codes (see IsKeyMissing, IsPreconditionFailed).
//
// Values are arbitrary JSON. Read returns them raw so that a value can be
// handed back as a CAS "from" exactly as the service sent it (the service
// compares JSON values; a float64 round trip could change a large number).
package kv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

	"github.com/glomers/glomers/lib/node"
)

// Service names, as registered in Maelstrom's network.
const (
	LinKV  = "lin-kv"
	SeqKV  = "seq-kv"
	LWWKV  = "lww-kv"
	LinTSO = "lin-tso"
)

// Caller sends an RPC and waits for its reply; *node.Node is one. The
// reply error for a {"type":"error"} body must be a *maelstrom.RPCError
// somewhere in the chain.
type Caller interface {
	RPC(ctx context.Context, dest string, body any) (node.Message, error)
}

// KV is a client of one key/value service. It is safe for concurrent use.
type KV struct {
	caller  Caller
	service string
}

// New returns a client of service (LinKV, SeqKV or LWWKV).
func New(c Caller, service string) *KV { return &KV{caller: c, service: service} }

// IsKeyMissing reports whether err is the service's key-does-not-exist (20).
func IsKeyMissing(err error) bool { return maelstrom.ErrorCode(err) == maelstrom.KeyDoesNotExist }

// IsPreconditionFailed reports whether err is a failed CAS comparison (22).
func IsPreconditionFailed(err error) bool {
	return maelstrom.ErrorCode(err) == maelstrom.PreconditionFailed
}

type readRequest struct {
	Type string `json:"type"`
	Key  string `json:"key"`
}

type writeRequest struct {
	Type  string `json:"type"`
	Key   string `json:"key"`
	Value any    `json:"value"`
}

type casRequest struct {
	Type   string `json:"type"`
	Key    string `json:"key"`
	From   any    `json:"from"`
	To     any    `json:"to"`
	Create bool   `json:"create_if_not_exists,omitempty"`
}

// Read returns key's value as raw JSON. A missing key is an error for
// which IsKeyMissing is true.
func (kv *KV) Read(ctx context.Context, key string) (json.RawMessage, error) {
	reply, err := kv.caller.RPC(ctx, kv.service, readRequest{Type: "read", Key: key})
	if err != nil {
		return nil, fmt.Errorf("%s read %q: %w", kv.service, key, err)
	}
	var body struct {
		Type  string          `json:"type"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(reply.Body, &body); err != nil || body.Type != "read_ok" || body.Value == nil {
		return nil, fmt.Errorf("%s read %q: unexpected reply %s", kv.service, key, reply.Body)
	}
	return body.Value, nil
}

// ReadInto reads key and unmarshals its value into v.
func (kv *KV) ReadInto(ctx context.Context, key string, v any) error {
	raw, err := kv.Read(ctx, key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s read %q: decode %s: %w", kv.service, key, raw, err)
	}
	return nil
}

// ReadInt reads key as an integer.
func (kv *KV) ReadInt(ctx context.Context, key string) (int, error) {
	var i int
	err := kv.ReadInto(ctx, key, &i)
	return i, err
}

// Write sets key to value, creating it if needed.
func (kv *KV) Write(ctx context.Context, key string, value any) error {
	if _, err := kv.caller.RPC(ctx, kv.service, writeRequest{Type: "write", Key: key, Value: value}); err != nil {
		return fmt.Errorf("%s write %q: %w", kv.service, key, err)
	}
	return nil
}

// CAS sets key to to if its value is from. It fails with
// precondition-failed (22) if the value differs and key-does-not-exist
// (20) if the key is missing, unless createIfMissing, in which case a
// missing key is created with value to. lww-kv ignores createIfMissing.
func (kv *KV) CAS(ctx context.Context, key string, from, to any, createIfMissing bool) error {
	req := casRequest{Type: "cas", Key: key, From: from, To: to, Create: createIfMissing}
	if _, err := kv.caller.RPC(ctx, kv.service, req); err != nil {
		return fmt.Errorf("%s cas %q: %w", kv.service, key, err)
	}
	return nil
}

// ErrCannotCreate is returned by Update when the key is missing and the
// service will not create it through CAS (lww-kv).
var ErrCannotCreate = errors.New("service does not create keys through cas")

// Update applies fn to key's value with a read–CAS loop: fn gets the
// current value (nil and exists=false if the key is missing) and returns
// the value to store; if another writer got in between, Update reads again
// and retries, until it succeeds, fn fails, or ctx ends. It returns the
// value it stored, as JSON.
//
// Errors other than a lost race end the loop and are returned as they
// are, including timeouts: after a CAS timed out its effect is unknown,
// and retrying could apply fn twice, so the caller must decide.
// On seq-kv the read may be stale; the CAS still checks against the
// newest state, so Update is correct there, merely slower under contention.
func (kv *KV) Update(ctx context.Context, key string, fn func(old json.RawMessage, exists bool) (any, error)) (json.RawMessage, error) {
	for attempt := 1; ; attempt++ {
		old, err := kv.Read(ctx, key)
		exists := err == nil
		if err != nil && !IsKeyMissing(err) {
			return nil, err
		}
		next, err := fn(old, exists)
		if err != nil {
			return nil, fmt.Errorf("%s update %q: %w", kv.service, key, err)
		}
		encoded, err := json.Marshal(next)
		if err != nil {
			return nil, fmt.Errorf("%s update %q: marshal new value: %w", kv.service, key, err)
		}
		if exists {
			err = kv.CAS(ctx, key, old, json.RawMessage(encoded), false)
		} else {
			err = kv.CAS(ctx, key, nil, json.RawMessage(encoded), true)
			if IsKeyMissing(err) {
				return nil, fmt.Errorf("%s update %q: %w", kv.service, key, ErrCannotCreate)
			}
		}
		switch {
		case err == nil:
			return encoded, nil
		case IsPreconditionFailed(err) || IsKeyMissing(err):
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s update %q: gave up after %d attempts: %w", kv.service, key, attempt, ctx.Err())
			}
		default:
			return nil, err
		}
	}
}

// UpdateAs is Update with the value decoded into T (T's zero value when
// the key is missing).
func UpdateAs[T any](ctx context.Context, kv *KV, key string, fn func(old T, exists bool) (T, error)) (T, error) {
	var result T
	raw, err := kv.Update(ctx, key, func(raw json.RawMessage, exists bool) (any, error) {
		var old T
		if exists {
			if err := json.Unmarshal(raw, &old); err != nil {
				return nil, fmt.Errorf("decode %s: %w", raw, err)
			}
		}
		return fn(old, exists)
	})
	if err != nil {
		return result, err
	}
	if err := json.Unmarshal(raw, &result); err != nil {
		return result, fmt.Errorf("%s update %q: decode stored value: %w", kv.service, key, err)
	}
	return result, nil
}

// TSO is a client of lin-tso, which hands out strictly increasing
// timestamps 0, 1, 2, … across all callers.
type TSO struct{ caller Caller }

// NewTSO returns a client of lin-tso.
func NewTSO(c Caller) *TSO { return &TSO{caller: c} }

// Timestamp returns a timestamp greater than every one handed out before.
func (t *TSO) Timestamp(ctx context.Context) (int64, error) {
	reply, err := t.caller.RPC(ctx, LinTSO, map[string]string{"type": "ts"})
	if err != nil {
		return 0, fmt.Errorf("lin-tso ts: %w", err)
	}
	var body struct {
		Type string `json:"type"`
		TS   *int64 `json:"ts"`
	}
	if err := json.Unmarshal(reply.Body, &body); err != nil || body.Type != "ts_ok" || body.TS == nil {
		return 0, fmt.Errorf("lin-tso ts: unexpected reply %s", reply.Body)
	}
	return *body.TS, nil
}
