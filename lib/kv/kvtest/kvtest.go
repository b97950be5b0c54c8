// Package kvtest is a fake of Maelstrom's key/value services (lin-kv,
// seq-kv, lww-kv) for transcript tests of nodes that use them: the test
// drives a node through lib/node/nodetest and the fake answers every
// service call the node makes, against one current state, recording each
// call so the test can assert exactly what the node asked.
//
// One current state is a valid lin-kv and a valid seq-kv (one that never
// serves stale reads); tests that need another node's writes seed Data or
// use BeforeCAS.
package kvtest

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

	"github.com/glomers/glomers/lib/node/nodetest"
)

// Service answers a node's read, write and cas calls (cas with
// create_if_not_exists) the way Maelstrom's kv services do, with error 20
// for a missing key and 22 for a failed comparison.
type Service struct {
	t    testing.TB
	name string

	// Data is the current state, by key: the JSON each value was written as.
	Data map[string]json.RawMessage
	// Drop holds the call types (read, write, cas) to apply but leave
	// unanswered, as if the reply were lost.
	Drop map[string]bool
	// BeforeCAS, if set, runs before a cas is evaluated: a concurrent
	// writer slipping in between the node's read and its cas.
	BeforeCAS func(key string)

	calls []string // one line per call since the last WantCalls
}

// New returns an empty service registered as name (e.g. kv.LinKV).
func New(t testing.TB, name string) *Service {
	return &Service{t: t, name: name, Data: map[string]json.RawMessage{}, Drop: map[string]bool{}}
}

// RoundTrip sends body from client to the node nodeID and answers the
// node's calls to this service until it replies to client; it returns that
// reply. A message to anyone else fails the test.
func (s *Service) RoundTrip(tr *nodetest.Transcript, client, nodeID string, body map[string]any) nodetest.Output {
	s.t.Helper()
	tr.SendMsg(client, nodeID, body)
	for {
		out := tr.Next()
		switch out.Dest {
		case client:
			return out
		case s.name:
			if out.Src != nodeID {
				s.t.Fatalf("service call from %q, want %q: %s", out.Src, nodeID, out.Line)
			}
			s.Serve(tr, out)
		default:
			s.t.Fatalf("message to neither %s nor %s: %s", client, s.name, out.Line)
		}
	}
}

// fields are the body fields each call may carry: the ones the service reads.
var fields = map[string]string{
	"read":  " key msg_id type ",
	"write": " key msg_id type value ",
	"cas":   " create_if_not_exists from key msg_id to type ",
}

// Serve answers one service call, failing the test unless it carries only
// the fields the service reads, a string key and a msg_id. It records the
// call as "read K", "write K V" or "cas K FROM TO[ create]", values as the
// node spelled them.
func (s *Service) Serve(tr *nodetest.Transcript, out nodetest.Output) {
	s.t.Helper()
	var req map[string]json.RawMessage
	if err := json.Unmarshal(out.RawBody, &req); err != nil {
		s.t.Fatalf("service call body: %v (%s)", err, out.Line)
	}
	allowed, known := fields[out.Type()]
	if !known {
		s.t.Fatalf("unknown service call: %s", out.Line)
	}
	for k := range req {
		if !strings.Contains(allowed, " "+k+" ") {
			s.t.Fatalf("unexpected field %q in %s call: %s", k, out.Type(), out.Line)
		}
	}
	var key string
	if err := json.Unmarshal(req["key"], &key); err != nil || out.Int("msg_id") < 0 {
		s.t.Fatalf("service call needs a string key and a msg_id: %s", out.Line)
	}
	reply := map[string]any{"in_reply_to": out.Int("msg_id")}
	fail := func(code int, text string) {
		reply["type"], reply["code"], reply["text"] = "error", code, text
	}
	switch out.Type() {
	case "read":
		s.calls = append(s.calls, "read "+key)
		if cur, ok := s.Data[key]; ok {
			reply["type"], reply["value"] = "read_ok", cur
		} else {
			fail(maelstrom.KeyDoesNotExist, "key does not exist")
		}
	case "write":
		s.calls = append(s.calls, "write "+key+" "+string(req["value"]))
		s.Data[key] = req["value"]
		reply["type"] = "write_ok"
	case "cas":
		var create bool
		_ = json.Unmarshal(req["create_if_not_exists"], &create)
		call := "cas " + key + " " + string(req["from"]) + " " + string(req["to"])
		if create {
			call += " create"
		}
		s.calls = append(s.calls, call)
		if s.BeforeCAS != nil {
			s.BeforeCAS(key)
		}
		cur, exists := s.Data[key]
		switch {
		case !exists && create:
			s.Data[key] = req["to"]
			reply["type"] = "cas_ok"
		case !exists:
			fail(maelstrom.KeyDoesNotExist, "key does not exist")
		case !sameJSON(cur, req["from"]):
			fail(maelstrom.PreconditionFailed, "expected "+string(req["from"])+", had "+string(cur))
		default:
			s.Data[key] = req["to"]
			reply["type"] = "cas_ok"
		}
	}
	if s.Drop[out.Type()] {
		return
	}
	tr.SendMsg(s.name, out.Src, reply)
}

// WantCalls fails unless the service calls since the last check are
// exactly these, in order.
func (s *Service) WantCalls(want ...string) {
	s.t.Helper()
	if strings.Join(s.calls, "\n") != strings.Join(want, "\n") {
		s.t.Fatalf("service calls:\n  %s\nwant:\n  %s", strings.Join(s.calls, "\n  "), strings.Join(want, "\n  "))
	}
	s.calls = nil
}

// WantCallSet is WantCalls for calls made in parallel, in any order.
func (s *Service) WantCallSet(want ...string) {
	s.t.Helper()
	sort.Strings(s.calls)
	want = append([]string(nil), want...)
	sort.Strings(want)
	s.WantCalls(want...)
}

// sameJSON reports whether a and b are the same JSON value (Maelstrom
// compares decoded values, not spellings).
func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
