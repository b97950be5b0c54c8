package kv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

	"github.com/glomers/glomers/lib/node"
	"github.com/glomers/glomers/lib/node/nodetest"
)

// fakeService plays lin-kv, lww-kv (ignoreCreate) and lin-tso in memory.
// Requests go through JSON both ways, as on the wire.
type fakeService struct {
	mu           sync.Mutex
	data         map[string]any
	ts           int64
	ignoreCreate bool
	calls        int
	// beforeCAS, if set, runs (unlocked) before each CAS is applied: it
	// plays a concurrent writer.
	beforeCAS func(f *fakeService)
	// fail, if set, replaces the reply for the n-th call (1-based).
	fail map[int]error
}

func newFake() *fakeService { return &fakeService{data: map[string]any{}} }

// set stores v as the service would hold it after a JSON round trip.
func (f *fakeService) set(key string, v any) {
	b, _ := json.Marshal(v)
	var decoded any
	_ = json.Unmarshal(b, &decoded)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.data[key] = decoded
}

func (f *fakeService) RPC(ctx context.Context, dest string, body any) (node.Message, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return node.Message{}, err
	}
	var req map[string]any
	if err := json.Unmarshal(raw, &req); err != nil {
		return node.Message{}, err
	}
	if req["type"] == "cas" && f.beforeCAS != nil {
		f.beforeCAS(f)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if err := f.fail[f.calls]; err != nil {
		return node.Message{}, err
	}
	key, _ := req["key"].(string)
	reply := func(v map[string]any) (node.Message, error) {
		b, _ := json.Marshal(v)
		return node.Message{Src: dest, Body: b}, nil
	}
	rpcErr := func(code int, text string) (node.Message, error) {
		return node.Message{}, fmt.Errorf("rpc to %s: %w", dest, maelstrom.NewRPCError(code, text))
	}
	switch req["type"] {
	case "ts":
		ts := f.ts
		f.ts++
		return reply(map[string]any{"type": "ts_ok", "ts": ts})
	case "read":
		v, ok := f.data[key]
		if !ok {
			return rpcErr(maelstrom.KeyDoesNotExist, "key does not exist")
		}
		return reply(map[string]any{"type": "read_ok", "value": v})
	case "write":
		f.data[key] = req["value"]
		return reply(map[string]any{"type": "write_ok"})
	case "cas":
		v, ok := f.data[key]
		switch {
		case !ok && req["create_if_not_exists"] == true && !f.ignoreCreate:
			f.data[key] = req["to"]
		case !ok:
			return rpcErr(maelstrom.KeyDoesNotExist, "key does not exist")
		case !reflect.DeepEqual(v, req["from"]):
			return rpcErr(maelstrom.PreconditionFailed, fmt.Sprintf("expected %v, had %v", req["from"], v))
		default:
			f.data[key] = req["to"]
		}
		return reply(map[string]any{"type": "cas_ok"})
	}
	return node.Message{}, fmt.Errorf("fake: unknown request %s", raw)
}

func TestReadWriteCAS(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	store := New(f, LinKV)

	if _, err := store.Read(ctx, "x"); !IsKeyMissing(err) {
		t.Fatalf("read of missing key: want key-does-not-exist, got %v", err)
	}
	if err := store.CAS(ctx, "x", 1, 2, false); !IsKeyMissing(err) {
		t.Fatalf("cas on missing key: want key-does-not-exist, got %v", err)
	}
	if err := store.Write(ctx, "x", 5); err != nil {
		t.Fatal(err)
	}
	if v, err := store.ReadInt(ctx, "x"); err != nil || v != 5 {
		t.Fatalf("ReadInt = %d, %v; want 5", v, err)
	}
	err := store.CAS(ctx, "x", 4, 6, false)
	if !IsPreconditionFailed(err) || IsKeyMissing(err) {
		t.Fatalf("cas with wrong from: want precondition-failed, got %v", err)
	}
	if err := store.CAS(ctx, "x", 5, 6, false); err != nil {
		t.Fatal(err)
	}
	if err := store.CAS(ctx, "y", nil, []int{1}, true); err != nil {
		t.Fatalf("cas create: %v", err)
	}
	var got []int
	if err := store.ReadInto(ctx, "y", &got); err != nil || !reflect.DeepEqual(got, []int{1}) {
		t.Fatalf("ReadInto = %v, %v", got, err)
	}
	if _, err := store.ReadInt(ctx, "y"); err == nil {
		t.Fatal("ReadInt of a list succeeded")
	}
	if err := store.Write(ctx, "z", func() {}); err == nil {
		t.Fatal("Write of an unencodable value succeeded")
	}
}

func TestUpdateRetriesLostRaces(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	f.set("count", 10)
	races := 3
	f.beforeCAS = func(f *fakeService) {
		if races > 0 {
			races--
			f.mu.Lock()
			f.data["count"] = f.data["count"].(float64) + 100 // someone else's increment
			f.mu.Unlock()
		}
	}
	store := New(f, SeqKV)
	var attempts int
	got, err := UpdateAs(ctx, store, "count", func(old int, exists bool) (int, error) {
		attempts++
		if !exists {
			t.Fatal("existing key reported missing")
		}
		return old + 1, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != 311 || attempts != 4 {
		t.Fatalf("Update = %d after %d attempts; want 311 after 4", got, attempts)
	}
	if v, _ := store.ReadInt(ctx, "count"); v != 311 {
		t.Fatalf("stored %d, want 311", v)
	}
}

func TestUpdateCreatesMissingKey(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	store := New(f, LinKV)
	got, err := UpdateAs(ctx, store, "log", func(old []string, exists bool) ([]string, error) {
		if exists || old != nil {
			t.Fatalf("missing key: exists=%v old=%v", exists, old)
		}
		return append(old, "a"), nil
	})
	if err != nil || !reflect.DeepEqual(got, []string{"a"}) {
		t.Fatalf("Update = %v, %v", got, err)
	}
	// Someone creates it between our read and our create: we retry on
	// the existing value.
	f2 := newFake()
	f2.beforeCAS = func(f *fakeService) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if _, ok := f.data["k"]; !ok {
			f.data["k"] = "theirs"
		}
	}
	raw, err := New(f2, LinKV).Update(ctx, "k", func(old json.RawMessage, exists bool) (any, error) {
		if !exists {
			return "mine", nil
		}
		var s string
		_ = json.Unmarshal(old, &s)
		return s + "+mine", nil
	})
	if err != nil || string(raw) != `"theirs+mine"` {
		t.Fatalf("Update after racing create = %s, %v", raw, err)
	}
}

func TestUpdateOnLWWCannotCreate(t *testing.T) {
	f := newFake()
	f.ignoreCreate = true
	_, err := New(f, LWWKV).Update(context.Background(), "k", func(json.RawMessage, bool) (any, error) { return 1, nil })
	if !errors.Is(err, ErrCannotCreate) {
		t.Fatalf("want ErrCannotCreate, got %v", err)
	}
}

func TestUpdateStopsOnOtherErrors(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	f.set("k", 1)
	// Call 2 is the CAS: it times out, so its effect is unknown.
	f.fail = map[int]error{2: fmt.Errorf("rpc cas: %w", context.DeadlineExceeded)}
	_, err := New(f, LinKV).Update(ctx, "k", func(json.RawMessage, bool) (any, error) { return 2, nil })
	if !errors.Is(err, context.DeadlineExceeded) || f.calls != 2 {
		t.Fatalf("want the timeout returned without retry, got %v after %d calls", err, f.calls)
	}
	boom := errors.New("boom")
	_, err = New(f, LinKV).Update(ctx, "k", func(json.RawMessage, bool) (any, error) { return nil, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("fn's error lost: %v", err)
	}
}

func TestUpdateGivesUpWhenContextEnds(t *testing.T) {
	f := newFake()
	f.set("k", 0)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	f.beforeCAS = func(f *fakeService) { // always loses the race
		n++
		if n == 5 {
			cancel()
		}
		f.mu.Lock()
		f.data["k"] = float64(n)
		f.mu.Unlock()
	}
	_, err := New(f, LinKV).Update(ctx, "k", func(json.RawMessage, bool) (any, error) { return -1, nil })
	if !errors.Is(err, context.Canceled) || n != 5 {
		t.Fatalf("want context.Canceled after 5 attempts, got %v after %d", err, n)
	}
}

func TestTSO(t *testing.T) {
	tso := NewTSO(newFake())
	for want := int64(0); want < 3; want++ {
		if got, err := tso.Timestamp(context.Background()); err != nil || got != want {
			t.Fatalf("Timestamp = %d, %v; want %d", got, err, want)
		}
	}
}

// TestWireFormat runs the client on a real node against a transcript, to
// pin the exact messages sent to the services and the handling of their
// replies (including an error reply with code 0).
func TestWireFormat(t *testing.T) {
	n := node.New()
	store := New(n, LinKV)
	tso := NewTSO(n)
	n.Handle("go", func(ctx context.Context, req node.Message) (any, error) {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		v, err := store.ReadInt(ctx, "k")
		if err != nil {
			return nil, err
		}
		if err := store.CAS(ctx, "k", v, v+1, true); err != nil {
			return nil, err
		}
		ts, err := tso.Timestamp(ctx)
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "go_ok", "v": v, "ts": ts}, nil
	})
	tr := nodetest.Start(t, n)
	tr.Init("n0", "n0")

	tr.SendMsg("c1", "n0", map[string]any{"type": "go", "msg_id": 1})
	read := tr.Next()
	if read.Dest != "lin-kv" || read.Type() != "read" || read.Body["key"] != "k" || len(read.Body) != 3 {
		t.Fatalf("read request: %s", read.Line)
	}
	tr.SendMsg("lin-kv", "n0", map[string]any{"type": "read_ok", "value": 41, "in_reply_to": read.Int("msg_id")})
	cas := tr.Next()
	if cas.Type() != "cas" || cas.Int("from") != 41 || cas.Int("to") != 42 || cas.Body["create_if_not_exists"] != true {
		t.Fatalf("cas request: %s", cas.Line)
	}
	tr.SendMsg("lin-kv", "n0", map[string]any{"type": "cas_ok", "in_reply_to": cas.Int("msg_id")})
	ts := tr.Next()
	if ts.Dest != "lin-tso" || ts.Type() != "ts" {
		t.Fatalf("ts request: %s", ts.Line)
	}
	tr.SendMsg("lin-tso", "n0", map[string]any{"type": "ts_ok", "ts": 7, "in_reply_to": ts.Int("msg_id")})
	if out := tr.Next(); out.Type() != "go_ok" || out.Int("v") != 41 || out.Int("ts") != 7 {
		t.Fatalf("handler reply: %s", out.Line)
	}

	// A timeout error reply (code 0) must surface as an error, which the
	// handler passes back to its client with the same code.
	tr.SendMsg("c1", "n0", map[string]any{"type": "go", "msg_id": 2})
	read = tr.Next()
	tr.SendMsg("lin-kv", "n0", map[string]any{"type": "error", "code": 0, "text": "timeout", "in_reply_to": read.Int("msg_id")})
	if out := tr.Next(); out.Type() != "error" || out.Int("code") != 0 || out.Int("in_reply_to") != 2 {
		t.Fatalf("code-0 error reply not treated as error: %s", out.Line)
	}
}
