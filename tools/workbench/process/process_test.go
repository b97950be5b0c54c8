package process

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/network"
)

func TestParseEnvelope(t *testing.T) {
	for _, tc := range []struct {
		line, err string
	}{
		{`{"src":"n0","dest":"c1","body":{"type":"echo_ok","in_reply_to":1}}`, ""},
		{`{"id":3,"src":"n0","dest":"n1","body":{"type":"x"}}`, ""},
		{`{"src":"n0","dest":"n1","body":null}`, ""},
		{`{"src":"n0","dest":"n1","body":[1,2]}`, "body is not a JSON object"},
		{`{"src":"n0","dest":"n1","body":"hi"}`, "body is not a JSON object"},
		{`this is not JSON`, "not well-formed JSON"},
		// Jackson stops after the first value; the rest of the line is
		// ignored, not an error.
		{`{"src":"n0","dest":"n1","body":{}} trailing`, ""},
		{`{"src":"n0","dest":"n1","body":{}}{"src":"n0"}`, ""},
		{`[1,2]`, "not well-formed JSON"},
		{`{"src":"n0","dest":"n1"}`, `missing required key "body"`},
		{`{"dest":"n1","body":{}}`, `missing required key "src"`},
		{`{"src":1,"dest":"n1","body":{}}`, "src is not a string"},
		{`{"src":null,"dest":"n1","body":{}}`, "not null"},
		{`{"src":"n0","dest":"n1","body":{},"extra":true}`, `unexpected top-level key "extra"`},
		{`{"id":"x","src":"n0","dest":"n1","body":{}}`, "id is not an integer"},
		{`{"id":1.5,"src":"n0","dest":"n1","body":{}}`, "id is not an integer"},
	} {
		_, _, _, err := ParseEnvelope([]byte(tc.line))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tc.line, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want one containing %q", tc.line, err, tc.err)
		}
	}
}

func TestAppendDelivery(t *testing.T) {
	got := string(AppendDelivery(nil, network.Message{ID: 7, Src: "c1", Dest: "n0", Body: []byte(`{"type":"echo","echo":"hi \"x\""}`)}))
	want := `{"id":7,"src":"c1","dest":"n0","body":{"type":"echo","echo":"hi \"x\""}}` + "\n"
	if got != want {
		t.Errorf("got %s want %s", got, want)
	}
}

func TestRing(t *testing.T) {
	r := ring{size: 3}
	for _, s := range []string{"a", "b", "c", "d", "e"} {
		r.add(s)
	}
	if got := strings.Join(r.lines(), ""); got != "cde" {
		t.Errorf("ring kept %q, want the last three cde", got)
	}
}

func TestNullBodyBecomesEmptyObject(t *testing.T) {
	_, _, body, err := ParseEnvelope([]byte(`{"src":"n0","dest":"n1","body":null}`))
	if err != nil || string(body) != "{}" {
		t.Errorf("body %s, err %v; want {} as Maelstrom's keywordize turns nil into {}", body, err)
	}
}

// runShell starts a "node" that is a shell script printing lines, with c0
// registered to receive them, and returns what c0 got within a short wait.
func runShell(t *testing.T, script string) (got []string, errs []string) {
	t.Helper()
	net := network.New(network.Config{})
	c0 := net.Join("c0")
	n, err := Start(Config{ID: "n0", Bin: "/bin/sh", Args: []string{"-c", script}, Net: net})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	for {
		msg, err := c0.Recv(ctx)
		if err != nil {
			break
		}
		got = append(got, string(msg.Body))
	}
	n.Stop()
	return got, n.Errors()
}

func TestSendToUnknownMemberEndsTheNodesOutput(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	const good = `echo '{"src":"n0","dest":"c0","body":{"type":"a"}}'`
	got, errs := runShell(t, good+"; "+good+"; sleep 5")
	if len(got) != 2 || len(errs) != 0 {
		t.Fatalf("control run: c0 got %q, errors %q; want 2 messages and no errors", got, errs)
	}
	// Maelstrom's net/send! assertion on "n99" kills the node's stdout
	// reader: the later, valid message to c0 is never routed.
	got, errs = runShell(t, good+`; echo '{"src":"n0","dest":"n99","body":{}}'; `+good+"; sleep 5")
	if len(got) != 1 || len(errs) != 1 || !strings.Contains(errs[0], `unknown destination "n99"`) {
		t.Errorf("c0 got %q, errors %q; want only the first message and one error naming n99", got, errs)
	}
}

func TestQueueBoundsCountMessagesAndBytes(t *testing.T) {
	net := network.New(network.Config{})
	for _, id := range []string{"n0", "n1", "n2", "n3", "n4", "n5"} {
		net.Join(id) // nobody reads: everything sent stays queued
	}
	big := json.RawMessage(`{"type":"big","pad":"` + strings.Repeat("x", 8<<20) + `"}`)
	send := func(dest string, times int) {
		for i := 0; i < times; i++ {
			if _, err := net.Send("n0", dest, big); err != nil {
				t.Fatal(err)
			}
		}
	}
	if why := overQueueBound(net, "n1", len(big)); why != "" {
		t.Fatalf("empty queue refused: %s", why)
	}
	send("n1", 4) // 32 MiB: n1 is full
	if why := overQueueBound(net, "n1", 10); !strings.Contains(why, "bytes queued") || !strings.Contains(why, "n1") {
		t.Errorf("n1 holds 32 MiB; reason %q, want its byte bound", why)
	}
	if why := overQueueBound(net, "n2", len(big)); why != "" {
		t.Errorf("n2 is empty; refused: %s", why)
	}
	send("n2", 3)
	send("n3", 3)
	send("n4", 3) // just over 32+72 = 104 MiB in all
	if why := overQueueBound(net, "n5", 8<<20); why != "" {
		t.Errorf("112 MiB in all is under the total bound; refused: %s", why)
	}
	send("n5", 3) // just over 128 MiB in all
	if why := overQueueBound(net, "n2", 10); !strings.Contains(why, "for all receivers") {
		t.Errorf("128 MiB queued in all; reason %q, want the total bound", why)
	}
	net.Leave("n1")
	if why := overQueueBound(net, "n2", 10); why != "" {
		t.Errorf("n1 left and its 32 MiB with it; refused: %s", why)
	}
	if got := net.QueuedBytes(); got != 12*int64(len(big)) {
		t.Errorf("QueuedBytes %d, want %d", got, 12*int64(len(big)))
	}
	small := json.RawMessage(`{"type":"small"}`)
	for i := 0; i < maxBacklog; i++ {
		net.Send("n0", "n0", small)
	}
	if why := overQueueBound(net, "n0", 1); !strings.Contains(why, "messages queued") {
		t.Errorf("%d small messages queued; reason %q, want the message bound", maxBacklog, why)
	}
}

// Lines a node writes while it is being torn down are not its errors: the
// pipe still holds lines when the node is taken off the network (Maelstrom
// routes nothing after stopping its reader either), and a node killed
// mid-line leaves half a line. Before, both were reported as node errors
// (`unknown source "n0"`, `unexpected EOF`).
func TestTeardownLinesAreNotNodeErrors(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	for _, tc := range []struct{ name, script string }{
		// yes fills the pipe with lines as fast as the reader takes them,
		// so lines are still buffered when the node leaves the network.
		{"buffered lines", `yes '{"src":"n0","dest":"c0","body":{"type":"a"}}'`},
		// Half a line, and the node is killed before the rest.
		{"half a line", `printf '%s' '{"src":"n0","dest":"c0","body":{"ty'; sleep 10`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			net := network.New(network.Config{})
			c0 := net.Join("c0")
			go func() { // a client that keeps up
				for {
					if _, err := c0.Recv(context.Background()); err != nil {
						return
					}
				}
			}()
			defer net.Leave("c0")
			n, err := Start(Config{ID: "n0", Bin: "/bin/sh", Args: []string{"-c", tc.script}, Net: net})
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			n.Stop()
			if errs := n.Errors(); len(errs) != 0 {
				t.Errorf("node errors %q, want none for lines written during teardown", errs)
			}
		})
	}
}

// Maelstrom routes whatever src a node writes (process.clj hands the
// parsed line to net/send!, which only checks that src is a member), so n1
// can send as n0. The workbench refuses it as the node's error: the line
// is not routed, and the node's output ends as for any invalid line.
func TestASpoofedSrcIsTheNodesError(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	net := network.New(network.Config{})
	c0 := net.Join("c0")
	net.Join("n0")
	const script = `echo '{"src":"n1","dest":"c0","body":{"type":"own"}}'; echo '{"src":"n0","dest":"c0","body":{"type":"spoofed"}}'; sleep 5`
	n, err := Start(Config{ID: "n1", Bin: "/bin/sh", Args: []string{"-c", script}, Net: net})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	for {
		msg, err := c0.Recv(ctx)
		if err != nil {
			break
		}
		got = append(got, msg.Src+" "+string(msg.Body))
	}
	n.Stop()
	errs := n.Errors()
	if len(got) != 1 || got[0] != `n1 {"type":"own"}` {
		t.Errorf("c0 got %q, want only n1's own message", got)
	}
	if len(errs) != 1 || !strings.Contains(errs[0], `src "n0"`) || !strings.Contains(errs[0], "n1") {
		t.Errorf("errors %q, want one naming the spoofed src n0", errs)
	}
}
