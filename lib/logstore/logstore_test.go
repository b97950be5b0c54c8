package logstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

	"github.com/glomers/glomers/lib/kv"
	"github.com/glomers/glomers/lib/node"
)

func TestLogAppendReadCommit(t *testing.T) {
	l := NewLog()
	for i := 0; i < 3; i++ {
		if o := l.Append("a", json.RawMessage(fmt.Sprint(10+i))); o != int64(i) {
			t.Fatalf("offset %d, want %d", o, i)
		}
	}
	got, _ := json.Marshal(l.Poll(map[string]int64{"a": 1, "b": 0, "c": 7}, 0))
	if string(got) != `{"a":[[1,11],[2,12]]}` {
		t.Errorf("poll = %s (keys with nothing must be left out)", got)
	}
	if es := l.Read("a", 0, 2); len(es) != 2 || es[1].Offset != 1 {
		t.Errorf("limited read = %v", es)
	}
	l.Commit("a", 2)
	l.Commit("a", 1) // never backwards
	if c := l.Committed([]string{"a", "b"}); len(c) != 1 || c["a"] != 2 {
		t.Errorf("committed = %v", c)
	}
}

func TestOwnerIsStableAndSpreads(t *testing.T) {
	nodes := []string{"n0", "n1"}
	count := map[string]int{}
	for i := 0; i < 100; i++ {
		k := fmt.Sprint(i)
		o := Owner(k, nodes)
		if o != Owner(k, []string{"n0", "n1"}) {
			t.Fatal("owner not deterministic")
		}
		count[o]++
	}
	if count["n0"] < 25 || count["n1"] < 25 {
		t.Errorf("keys per owner %v", count)
	}
	split := SplitByOwner([]string{"1", "2", "3", "4"}, nodes)
	total := 0
	for o, ks := range split {
		for _, k := range ks {
			if Owner(k, nodes) != o {
				t.Errorf("key %s filed under %s", k, o)
			}
		}
		total += len(ks)
	}
	if total != 4 {
		t.Errorf("split lost keys: %v", split)
	}
}

// linKV answers read/write/cas like Maelstrom's lin-kv, in-process.
type linKV struct {
	mu sync.Mutex
	m  map[string]json.RawMessage
}

func (s *linKV) RPC(_ context.Context, _ string, body any) (node.Message, error) {
	raw, _ := json.Marshal(body)
	var req struct {
		Type   string          `json:"type"`
		Key    string          `json:"key"`
		Value  json.RawMessage `json:"value"`
		From   json.RawMessage `json:"from"`
		To     json.RawMessage `json:"to"`
		Create bool            `json:"create_if_not_exists"`
	}
	_ = json.Unmarshal(raw, &req)
	s.mu.Lock()
	defer s.mu.Unlock()
	reply := func(b string) (node.Message, error) { return node.Message{Body: json.RawMessage(b)}, nil }
	cur, ok := s.m[req.Key]
	switch req.Type {
	case "read":
		if !ok {
			return node.Message{}, maelstrom.NewRPCError(maelstrom.KeyDoesNotExist, "key does not exist")
		}
		return reply(`{"type":"read_ok","value":` + string(cur) + `}`)
	case "write":
		s.m[req.Key] = req.Value
		return reply(`{"type":"write_ok"}`)
	case "cas":
		switch {
		case !ok && !req.Create:
			return node.Message{}, maelstrom.NewRPCError(maelstrom.KeyDoesNotExist, "key does not exist")
		case ok && compact(cur) != compact(req.From):
			return node.Message{}, maelstrom.NewRPCError(maelstrom.PreconditionFailed, "mismatch")
		}
		s.m[req.Key] = req.To
		return reply(`{"type":"cas_ok"}`)
	}
	return node.Message{}, maelstrom.NewRPCError(maelstrom.NotSupported, req.Type)
}

func compact(b json.RawMessage) string {
	var v any
	_ = json.Unmarshal(b, &v)
	out, _ := json.Marshal(v)
	return string(out)
}

func TestKVLogConcurrentSendsGetDistinctDenseOffsets(t *testing.T) {
	ctx := context.Background()
	l := NewKVLog(kv.New(&linKV{m: map[string]json.RawMessage{}}, kv.LinKV))
	var wg sync.WaitGroup
	offsets := make([]int64, 20)
	for i := range offsets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, err := l.Send(ctx, "k", json.RawMessage(fmt.Sprint(i)))
			if err != nil {
				t.Error(err)
			}
			offsets[i] = o
		}()
	}
	wg.Wait()
	seen := map[int64]bool{}
	for _, o := range offsets {
		if seen[o] || o < 0 || o >= 20 {
			t.Fatalf("offsets %v not a permutation of 0..19", offsets)
		}
		seen[o] = true
	}
	es, err := l.Read(ctx, "k", 5, 0)
	if err != nil || len(es) != 15 || es[0].Offset != 5 {
		t.Errorf("read from 5: %v, %v", es, err)
	}
	if err := l.Commit(ctx, "k", 7); err != nil {
		t.Fatal(err)
	}
	_ = l.Commit(ctx, "k", 3)
	if c, err := l.Committed(ctx, []string{"k", "other"}); err != nil || len(c) != 1 || c["k"] != 7 {
		t.Errorf("committed %v, %v", c, err)
	}
}

func TestKVLogPollStopsAtAReservedButUnwrittenOffset(t *testing.T) {
	ctx := context.Background()
	store := &linKV{m: map[string]json.RawMessage{}}
	l := NewKVLog(kv.New(store, kv.LinKV))
	for i := 0; i < 3; i++ {
		if _, err := l.Send(ctx, "k", json.RawMessage(`"m"`)); err != nil {
			t.Fatal(err)
		}
	}
	delete(store.m, msgKey("k", 1)) // offset 1 reserved, message not yet written
	es, _ := l.Read(ctx, "k", 0, 0)
	if len(es) != 1 {
		t.Errorf("read %d entries past a hole", len(es))
	}
}
