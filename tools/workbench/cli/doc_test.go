package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/registry"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// docConn plays a node that knows only what a workload's Doc says: it
// checks each request against the documented keys and answers with the
// documented example reply.
type docConn struct {
	rpcs map[string]workload.RPC
	seen map[string]bool
	errs []string
}

func (c *docConn) ID() string { return "c9" }

func (c *docConn) Call(_ context.Context, _ string, body map[string]any, _ time.Duration) (map[string]any, error) {
	typ, _ := body["type"].(string)
	r, ok := c.rpcs[typ]
	if !ok {
		c.errs = append(c.errs, fmt.Sprintf("client sent undocumented request %v", body))
		return nil, workload.ErrTimeout
	}
	c.seen[typ] = true
	if got, want := sortedKeys(body), sortedKeys(r.Request); !reflect.DeepEqual(got, want) {
		c.errs = append(c.errs, fmt.Sprintf("%s request has keys %v, the doc says %v", typ, got, want))
	}
	reply := roundTrip(r.Reply).(map[string]any)
	reply["in_reply_to"] = json.Number("1")
	if typ == "txn" {
		// A txn reply repeats the request's micro-ops.
		reply["txn"] = roundTrip(body["txn"])
	}
	return reply, nil
}

func sortedKeys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// roundTrip gives v the shape a decoded reply has (json.Number numbers).
func roundTrip(v any) any {
	b, _ := json.Marshal(v)
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out any
	_ = d.Decode(&out)
	return out
}

// TestDocsMatchClients drives every workload's real client with ops from
// its real generator against a node that answers only with the Doc's
// examples: every request must have the documented keys, every documented
// reply must be accepted, and every documented request must be sent.
func TestDocsMatchClients(t *testing.T) {
	for _, name := range registry.Names() {
		t.Run(name, func(t *testing.T) {
			w, _ := registry.Lookup(name)
			d := w.Doc
			if len(d.RPCs) == 0 || d.About == "" {
				t.Fatalf("no doc for %s", name)
			}
			o, err := ParseTestArgs([]string{"-w", name, "--bin", "x", "--node-count", "2", "--concurrency", "2n"})
			if err != nil {
				t.Fatal(err)
			}
			opts := o.WorkloadOptions()
			conn := &docConn{rpcs: map[string]workload.RPC{}, seen: map[string]bool{}}
			for _, r := range d.RPCs {
				conn.rpcs[r.Request["type"].(string)] = r
			}
			ctx := context.Background()
			if w.Setup != nil {
				if err := w.Setup(ctx, opts, conn); err != nil {
					t.Errorf("setup with documented replies: %v", err)
				}
			}
			rng := rand.New(rand.NewPCG(1, 2))
			gen := w.NewGenerator(opts, rng)
			clients := map[int]workload.Client{}
			for i := 0; i < 400; i++ {
				gc := workload.GenContext{Thread: i % opts.Concurrency, Process: i % opts.Concurrency, Time: time.Duration(i) * time.Millisecond, Rand: rng}
				op, st := gen.Next(gc)
				if st != workload.Ready {
					continue
				}
				op.Process = gc.Process
				op.Type = history.Invoke
				c, ok := clients[gc.Thread]
				if !ok {
					c = w.NewClient(conn, "n0", opts)
					clients[gc.Thread] = c
				}
				done := c.Invoke(ctx, op)
				if done.Error != nil && strings.Contains(fmt.Sprint(done.Error), "malformed") {
					t.Errorf("%s op rejected a documented reply: %v", op.F, done.Error)
				}
				gen.Update(gc, op, done)
			}
			for _, r := range d.RPCs {
				if typ := r.Request["type"].(string); !conn.seen[typ] {
					t.Errorf("the doc lists %s, which the client never sent", typ)
				}
			}
			for _, e := range conn.errs {
				t.Error(e)
			}
		})
	}
}

func TestHelpNeedsNoBinary(t *testing.T) {
	for _, args := range [][]string{{"test", "--help"}, {"test", "-h"}, {"help", "test"}, {"test", "-w", "echo", "--help"}} {
		var out, errb bytes.Buffer
		if code := Main(args, &out, &errb); code != ExitValid {
			t.Errorf("%q: exit %d (%s), want 0", args, code, errb.String())
		}
		help := out.String()
		// Every workload and every option, with the defaults a run gets.
		for _, want := range append(registry.Names(), "--bin FILE", "--rate RATE", "(default 5)", "--topology TYPE",
			"tree4", "--node-env NAME=VALUE", "--maelstrom-verdicts", "(default lin-kv)") {
			if !strings.Contains(help, want) {
				t.Errorf("%q: help lacks %q:\n%s", args, want, help)
			}
		}
	}
	var out, errb bytes.Buffer
	if code := Main([]string{"help"}, &out, &errb); code != ExitValid || !strings.Contains(out.String(), "doc") || !strings.Contains(out.String(), "compare") {
		t.Errorf("workbench help: exit %d\n%s", code, out.String())
	}
	if code := Main([]string{"help", "frob"}, &out, &errb); code != ExitBadArgs {
		t.Errorf("help frob: exit %d", code)
	}
}

// TestDefaultsInHelpAreTheDefaults parses a command line with no options
// but --bin and checks that every default the help shows is the value the
// options get: the help and the parser read the same table.
func TestDefaultsInHelpAreTheDefaults(t *testing.T) {
	o, err := ParseTestArgs([]string{"--bin", "x", "--concurrency", "2n"})
	if err != nil {
		t.Fatal(err)
	}
	if o.Workload != "lin-kv" || o.Rate != 5 || o.LatencyDist != "constant" || o.NemesisInterval != 10 || o.Topology != "grid" ||
		!reflect.DeepEqual(o.Models, []string{"strict-serializable"}) || o.MaxTxnLength != 4 || o.MaxWritesPerKey != 16 ||
		o.TimeLimit != 60 || o.TestCount != 1 {
		t.Errorf("defaults: %+v", o)
	}
}

func TestDocCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"doc"}, &out, &errb); code != ExitValid {
		t.Fatalf("doc: exit %d %s", code, errb.String())
	}
	for _, n := range registry.Names() {
		if !strings.Contains(out.String(), n) {
			t.Errorf("doc lacks %s", n)
		}
	}
	out.Reset()
	if code := Main([]string{"doc", "kafka"}, &out, &errb); code != ExitValid {
		t.Fatalf("doc kafka: exit %d", code)
	}
	for _, want := range []string{`{"type": "send", "msg_id": 1, "key": "9", "msg": 4}`, `{"type": "send_ok", "in_reply_to": 1, "offset": 1000}`,
		"list_committed_offsets", `"type": "init"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("doc kafka lacks %s:\n%s", want, out.String())
		}
	}
	errb.Reset()
	if code := Main([]string{"doc", "nope"}, &out, &errb); code != ExitBadArgs || !strings.HasPrefix(errb.String(), "workbench: doc: unknown workload") {
		t.Errorf("doc nope: exit %d %q", code, errb.String())
	}
}
