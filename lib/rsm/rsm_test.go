package rsm

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

	"github.com/glomers/glomers/lib/node"
	"github.com/glomers/glomers/lib/node/nodetest"
	"github.com/glomers/glomers/lib/raft"
)

// journal is a test state machine: Apply appends the command to a list
// and answers with its position; Query returns the list.
type journal struct {
	cmds []string
}

func (j *journal) Apply(cmd json.RawMessage) (any, error) {
	if string(cmd) == `"fail"` {
		return nil, node.Errorf(maelstrom.PreconditionFailed, "asked to fail")
	}
	j.cmds = append(j.cmds, string(cmd))
	return map[string]any{"type": "apply_ok", "n": len(j.cmds)}, nil
}

func (j *journal) Query(json.RawMessage) (any, error) {
	return map[string]any{"type": "query_ok", "cmds": j.cmds}, nil
}

func fastRaft(id string, peers []string) raft.Config {
	c := raft.DefaultConfig(id, peers)
	c.ElectionTimeout, c.HeartbeatInterval = 30*time.Millisecond, 10*time.Millisecond
	return c
}

// newTestNode serves "apply" with Submit and "query" with Read.
func newTestNode(j *journal, opts Options) (*node.Node, *Server) {
	n := node.New()
	srv := New(n, j, opts)
	n.Handle("apply", func(_ context.Context, req node.Message) (any, error) {
		var b struct {
			Cmd json.RawMessage `json:"cmd"`
		}
		if err := node.Decode(req, &b); err != nil {
			return nil, err
		}
		srv.Submit(req, b.Cmd)
		return nil, nil
	})
	n.Handle("query", func(_ context.Context, req node.Message) (any, error) {
		srv.Read(req, nil)
		return nil, nil
	})
	return n, srv
}

func TestSingleNodeAppliesAndReads(t *testing.T) {
	j := &journal{}
	n, _ := newTestNode(j, Options{Raft: fastRaft})
	tr := nodetest.Start(t, n)
	tr.Init("n0", "n0")
	// Sent before any leader exists: held until this node wins, then
	// answered, not failed with 11.
	tr.SendMsg("c1", "n0", map[string]any{"type": "apply", "msg_id": 2, "cmd": "a"})
	nodetest.WantBody(t, tr.Next(), "c1", `{"type":"apply_ok","n":1,"in_reply_to":2}`)
	tr.SendMsg("c1", "n0", map[string]any{"type": "apply", "msg_id": 3, "cmd": "fail"})
	nodetest.WantError(t, tr.Next(), "c1", maelstrom.PreconditionFailed, 3)
	tr.SendMsg("c1", "n0", map[string]any{"type": "query", "msg_id": 4})
	nodetest.WantBody(t, tr.Next(), "c1", `{"type":"query_ok","cmds":["\"a\""],"in_reply_to":4}`)
}

// A follower forwards a client's update to the leader it knows and passes
// the leader's answer back; reads are forwarded with the follower's term.
func TestFollowerForwards(t *testing.T) {
	j := &journal{}
	n, _ := newTestNode(j, Options{})
	tr := nodetest.Start(t, n)
	tr.Init("n1", "n0", "n1", "n2")
	// n0 leads term 1 (a heartbeat); n1 acknowledges.
	tr.SendMsg("n0", "n1", raft.Message{Type: raft.MessageType, Kind: raft.KindAppend, Term: 1})
	if out := tr.Next(); out.Dest != "n0" || out.Type() != raft.MessageType || out.Body["kind"] != string(raft.KindAppendResp) {
		t.Fatalf("want an append_resp to n0, got %s", out.Line)
	}
	tr.SendMsg("c1", "n1", map[string]any{"type": "apply", "msg_id": 5, "cmd": "x"})
	out := tr.Next()
	if out.Dest != "n0" || out.Type() != ForwardType || out.Body["client"] != "c1" || out.Int("msg_id_of_client") != 5 {
		t.Fatalf("want the update forwarded to n0, got %s", out.Line)
	}
	if _, ok := out.Body["msg_id"]; ok {
		t.Errorf("forward carries a msg_id: %s", out.Line)
	}
	id := out.Int("id")
	tr.SendMsg("n0", "n1", map[string]any{"type": AnswerType, "id": id, "body": map[string]any{"type": "apply_ok", "n": 1}})
	nodetest.WantBody(t, tr.Next(), "c1", `{"type":"apply_ok","n":1,"in_reply_to":5}`)
	// A definite failure comes back with its code.
	tr.SendMsg("c1", "n1", map[string]any{"type": "apply", "msg_id": 6, "cmd": "y"})
	id = tr.Next().Int("id")
	tr.SendMsg("n0", "n1", map[string]any{"type": AnswerType, "id": id, "code": 22, "text": "no"})
	nodetest.WantError(t, tr.Next(), "c1", 22, 6)

	tr.SendMsg("c1", "n1", map[string]any{"type": "query", "msg_id": 7})
	out = tr.Next()
	if out.Dest != "n0" || out.Type() != ForwardType || out.Body["read"] != true || out.Int("term") != 1 {
		t.Fatalf("want the read forwarded with term 1, got %s", out.Line)
	}
	// An answer nobody waits for (or from a client) is ignored.
	tr.SendMsg("n0", "n1", map[string]any{"type": AnswerType, "id": 999, "body": map[string]any{"type": "x"}})
	tr.SendMsg("c9", "n1", map[string]any{"type": AnswerType, "msg_id": 8, "id": out.Int("id")})
	nodetest.WantError(t, tr.Next(), "c9", maelstrom.NotSupported, 8)
	tr.Quiet(20 * time.Millisecond)
	if len(j.cmds) != 0 {
		t.Errorf("a follower applied %v before anything committed", j.cmds)
	}
}

// A follower that knows no leader holds the request for LeaderWait, then
// answers 11: nothing was proposed anywhere.
func TestNoLeaderAnswers11AfterWaiting(t *testing.T) {
	n, _ := newTestNode(&journal{}, Options{LeaderWait: 50 * time.Millisecond})
	tr := nodetest.Start(t, n)
	tr.Init("n1", "n0", "n1", "n2")
	start := time.Now()
	tr.SendMsg("c1", "n1", map[string]any{"type": "apply", "msg_id": 2, "cmd": "x"})
	for {
		out := tr.Next()
		if out.Dest == "c1" {
			nodetest.WantError(t, out, "c1", maelstrom.TemporarilyUnavailable, 2)
			break
		}
		// Its own pre-votes may go out meanwhile; nobody answers them.
		if out.Type() != raft.MessageType {
			t.Fatalf("unexpected %s", out.Line)
		}
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("answered 11 after %v, before LeaderWait", d)
	}
}

// An entry applied twice (a duplicated forward, say) changes the state
// once and answers both times with the first answer.
func TestDuplicateRequestAppliedOnce(t *testing.T) {
	j := &journal{}
	s := &Server{sm: j, opts: Options{}.withDefaults(), sessions: map[string]*session{}, proposals: map[uint64]proposal{}}
	data, _ := json.Marshal(entry{Client: "c1", MsgID: 4, Cmd: json.RawMessage(`"x"`)})
	var answers []string
	for i := uint64(1); i <= 2; i++ {
		s.proposals[i] = proposal{term: 1, answer: func(body any, err error) {
			answers = append(answers, fmt.Sprintf("%s %v", body, err))
		}}
		s.apply(raft.Entry{Term: 1, Index: i, Data: data})
	}
	if len(j.cmds) != 1 {
		t.Fatalf("applied %d times: %v", len(j.cmds), j.cmds)
	}
	if len(answers) != 2 || answers[0] != answers[1] || !strings.Contains(answers[0], `"n":1`) {
		t.Fatalf("answers %q, want the first answer twice", answers)
	}
	// An entry of another term at a proposal's index: the proposal lost.
	var lost error
	s.proposals[3] = proposal{term: 1, answer: func(_ any, err error) { lost = err }}
	s.apply(raft.Entry{Term: 2, Index: 3})
	if re, ok := lost.(*maelstrom.RPCError); !ok || re.Code != maelstrom.TemporarilyUnavailable {
		t.Fatalf("lost proposal answered %v, want error 11", lost)
	}
}

// Requests without a msg_id are each applied: nothing identifies a retry.
func TestRequestsWithoutMsgIDAreNotDeduplicated(t *testing.T) {
	j := &journal{}
	n, _ := newTestNode(j, Options{Raft: fastRaft})
	tr := nodetest.Start(t, n)
	tr.Init("n0", "n0")
	tr.SendMsg("c1", "n0", map[string]any{"type": "apply", "cmd": "a"})
	tr.SendMsg("c1", "n0", map[string]any{"type": "apply", "cmd": "b"})
	tr.SendMsg("c1", "n0", map[string]any{"type": "query", "msg_id": 9})
	nodetest.WantBody(t, tr.Next(), "c1", `{"type":"query_ok","cmds":["\"a\"","\"b\""],"in_reply_to":9}`)
}
