// Package nodetest runs a node.Node in-process over in-memory pipes so
// tests can drive it like Maelstrom does: write lines to its stdin, read
// the messages it writes to stdout, one at a time, with a timeout instead
// of sleeps. Challenge tests use it to replay transcripts without
// spawning processes.
package nodetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/glomers/glomers/lib/node"
)

// Wait is how long Next waits for a message before failing the test.
// Generous, because it only matters when a test is about to fail.
const Wait = 5 * time.Second

// Output is one message the node wrote. Body numbers are json.Number.
type Output struct {
	Src, Dest string
	Body      map[string]any
	RawBody   json.RawMessage // the body exactly as written
	Line      string
}

// Type is the body's type.
func (o Output) Type() string { s, _ := o.Body["type"].(string); return s }

// Int returns an integer body field, or -1 if it is missing or not an integer.
func (o Output) Int(key string) int {
	num, ok := o.Body[key].(json.Number)
	if !ok {
		return -1
	}
	i, err := strconv.Atoi(string(num))
	if err != nil {
		return -1
	}
	return i
}

// Transcript is a running node with its stdin and stdout in the test's hands.
type Transcript struct {
	t     testing.TB
	N     *node.Node
	stdin *io.PipeWriter
	out   chan Output
	done  chan error
	logs  *lockedBuffer

	closeOnce sync.Once
	runErr    error
}

// Start wires n to pipes and a log buffer and runs it. The node is shut
// down when the test ends, if the test has not closed it already.
func Start(t testing.TB, n *node.Node) *Transcript {
	t.Helper()
	r, w := io.Pipe()
	tr := &Transcript{
		t:     t,
		N:     n,
		stdin: w,
		out:   make(chan Output, 1024),
		done:  make(chan error, 1),
		logs:  &lockedBuffer{},
	}
	n.Stdin = r
	n.Stdout = &outputWriter{tr: tr}
	n.Logger = slog.New(slog.NewTextHandler(tr.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	go func() { tr.done <- n.Run() }()
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

// Send writes one raw line (a newline is added) to the node's stdin.
func (tr *Transcript) Send(line string) {
	tr.t.Helper()
	if _, err := io.WriteString(tr.stdin, line+"\n"); err != nil {
		tr.t.Fatalf("write to node stdin: %v", err)
	}
}

// SendMsg writes the message {src, dest, body} to the node's stdin.
func (tr *Transcript) SendMsg(src, dest string, body any) {
	tr.t.Helper()
	b, err := json.Marshal(map[string]any{"src": src, "dest": dest, "body": body})
	if err != nil {
		tr.t.Fatalf("marshal message: %v", err)
	}
	tr.Send(string(b))
}

// Init sends init from client c0 (msg_id 1) naming id and all nodes, and
// fails the test unless the node answers init_ok.
func (tr *Transcript) Init(id string, nodeIDs ...string) {
	tr.t.Helper()
	tr.SendMsg("c0", id, map[string]any{"type": "init", "msg_id": 1, "node_id": id, "node_ids": nodeIDs})
	out := tr.Next()
	if out.Type() != "init_ok" || out.Int("in_reply_to") != 1 || out.Dest != "c0" || out.Src != id {
		tr.t.Fatalf("want init_ok from %s to c0 in reply to 1, got %s", id, out.Line)
	}
}

// Next returns the node's next message, failing the test after Wait.
func (tr *Transcript) Next() Output {
	tr.t.Helper()
	o, ok := tr.NextWithin(Wait)
	if !ok {
		tr.t.Fatalf("no message from node within %v; node log:\n%s", Wait, tr.Logs())
	}
	return o
}

// NextWithin returns the node's next message if it writes one within d,
// and false otherwise: for tests that expect a node to fall silent, where
// silence is the outcome rather than a failure.
func (tr *Transcript) NextWithin(d time.Duration) (Output, bool) {
	select {
	case o := <-tr.out:
		return o, true
	case <-time.After(d):
		return Output{}, false
	}
}

// Quiet fails the test if the node writes a message within d.
func (tr *Transcript) Quiet(d time.Duration) {
	tr.t.Helper()
	select {
	case o := <-tr.out:
		tr.t.Fatalf("want no message, got %s", o.Line)
	case <-time.After(d):
	}
}

// Close ends the node's stdin and returns what Run returned.
func (tr *Transcript) Close() error {
	tr.closeOnce.Do(func() {
		_ = tr.stdin.Close()
		select {
		case tr.runErr = <-tr.done:
		case <-time.After(Wait + tr.N.ShutdownTimeout):
			tr.runErr = fmt.Errorf("node did not stop within %v of stdin closing", Wait+tr.N.ShutdownTimeout)
		}
	})
	return tr.runErr
}

// WantBody fails unless out goes to dest with exactly the body want (as
// JSON values: key order and number spelling aside).
func WantBody(t testing.TB, out Output, dest, want string) {
	t.Helper()
	var got, exp any
	if err := json.Unmarshal(out.RawBody, &got); err != nil {
		t.Fatalf("body: %v (%s)", err, out.Line)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad expectation %s: %v", want, err)
	}
	if out.Dest != dest || !reflect.DeepEqual(got, exp) {
		t.Fatalf("want to %s body %s, got %s", dest, want, out.Line)
	}
}

// WantError fails unless out goes to dest as an error reply with code to
// msgID that has exactly Maelstrom's error fields (type, code, text,
// in_reply_to).
func WantError(t testing.TB, out Output, dest string, code, msgID int) {
	t.Helper()
	_, hasText := out.Body["text"]
	if out.Dest != dest || out.Type() != "error" || out.Int("code") != code || out.Int("in_reply_to") != msgID ||
		!hasText || len(out.Body) != 4 {
		t.Fatalf("want to %s error %d in reply to %d, got %s", dest, code, msgID, out.Line)
	}
}

// Logs is everything the node has logged so far.
func (tr *Transcript) Logs() string { return tr.logs.String() }

// outputWriter turns each Write (the node writes one whole line per call)
// into an Output. Lines that are not messages are kept with a nil Body so
// tests can see them.
type outputWriter struct{ tr *Transcript }

func (w *outputWriter) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimSuffix(p, []byte{'\n'}), []byte{'\n'}) {
		o := Output{Line: string(line)}
		var env struct {
			Src, Dest string
			Body      json.RawMessage
		}
		if json.Unmarshal(line, &env) == nil {
			o.Src, o.Dest, o.RawBody = env.Src, env.Dest, env.Body
			dec := json.NewDecoder(bytes.NewReader(env.Body))
			dec.UseNumber()
			_ = dec.Decode(&o.Body)
		}
		w.tr.out <- o
	}
	return len(p), nil
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
