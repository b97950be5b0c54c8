// Package workload defines what a Maelstrom workload is made of, the way
// Maelstrom splits it: a generator that decides which operations to issue,
// a client that turns an operation into RPCs against one node, and a
// checker that judges the history afterwards. Each workload lives in its
// own subpackage (workload/echo, workload/broadcast, …) and is listed in
// the workbench's registry; the runner, network and nemesis are shared.
package workload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/client"
	"github.com/glomers/glomers/tools/workbench/history"
)

// Options are the test options a workload may read; they mirror
// Maelstrom's CLI flags.
type Options struct {
	Nodes             []string      // server node ids, n0…n(N-1)
	Concurrency       int           // number of client threads
	Rate              float64       // mean client ops per second, all threads together
	TimeLimit         time.Duration // length of the main phase
	Latency           time.Duration // mean inter-node latency
	Topology          string        // broadcast: grid, line, total, tree2, tree3, tree4
	KeyCount          int           // txn and kafka; 0 means the workload's default
	MaxTxnLength      int           // txn workloads (default 4)
	MaxWritesPerKey   int           // txn and kafka (default 16)
	ConsistencyModels []string      // txn workloads (default strict-serializable)
	Availability      string        // "", "total", or a number in [0,1]
	Nemesis           []string      // e.g. ["partition"]
	// MaelstromVerdicts asks checkers for Maelstrom's exact verdicts: off,
	// a checker also fails a run for its Strict checks, where the node is
	// plainly wrong but Maelstrom's checker does not look (and marks them
	// with checker.ApplyStrict's keys).
	MaelstromVerdicts bool
}

// Status says whether a generator has an operation now.
type Status int

const (
	Ready     Status = iota // the returned op should be invoked
	Pending                 // nothing now; ask again shortly
	Exhausted               // nothing more for this thread in this phase
)

// GenContext is what a generator is told when asked for an operation.
type GenContext struct {
	Thread  int           // worker thread, 0 … Concurrency-1; thread i talks to Nodes[i mod N]
	Process int           // the thread's current logical process
	Time    time.Duration // since the test started
	Rand    *rand.Rand    // the run's seeded source; use it for every random choice
}

// Generator produces operations. The runner calls it from one goroutine at
// a time (it need not lock). The op it returns needs only F, Value and
// Final; the runner fills in the rest. The main phase is rate-limited by
// the runner; a final generator paces itself (return Pending).
type Generator interface {
	Next(ctx GenContext) (history.Op, Status)
	// Update is told every completion, so generators that react to
	// results (kafka's final polls, lin-kv's key retirement) can.
	Update(ctx GenContext, invoke, completion history.Op)
}

// Conn is a client's connection to the simulated network. It is
// synchronous: one outstanding request at a time, like Maelstrom's client.
type Conn interface {
	// ID is this client's network id, c<k>.
	ID() string
	// Call sends body (its "type" set, msg_id added by Call) to dest and
	// waits for the reply whose in_reply_to matches, for at most timeout
	// (0 means the workload's default, 5 s unless it sets RPCTimeout).
	// Numbers in the reply are json.Number. An error reply returns the
	// reply and an *RPCError; no reply in time returns ErrTimeout.
	Call(ctx context.Context, dest string, body map[string]any, timeout time.Duration) (map[string]any, error)
}

// ErrTimeout is returned by Conn.Call when no reply arrived in time; an
// *RPCError is an error reply. Both belong to the transport (client).
var ErrTimeout = client.ErrTimeout

// RPCError is an error reply from a node: {"type":"error","code":…}.
type RPCError = client.RPCError

// ErrMalformedReply is wrapped by clients when a reply breaks the workload's
// reply schema (missing or extra keys, wrong types). Maelstrom records such
// an op as crashed (info).
var ErrMalformedReply = errors.New("malformed RPC response")

// Client performs operations against one node on behalf of one logical
// process.
type Client interface {
	// Invoke performs op and returns its completion (Type ok, fail or
	// info, with Value and Error set). The runner fills Process, Time, Node
	// and Index. It must return by ctx's deadline.
	Invoke(ctx context.Context, op history.Op) history.Op
}

// Workload is one of Maelstrom's workloads.
type Workload struct {
	Name string
	// Doc describes the workload's messages (`workbench doc`).
	Doc Doc
	// Summary is how the workload reads in the closing summary line.
	Summary Summary
	// Strict lists the checks Check makes beyond Maelstrom's checker; each
	// is left out of the verdict under Options.MaelstromVerdicts and named
	// in the result's "strict" list when it fails a run.
	Strict []StrictCheck
	// Idempotent lists the fs whose timeouts and error replies count as
	// definite failures (Maelstrom's with-errors).
	Idempotent map[string]bool
	// Reusable clients survive an info completion; others are closed and
	// a new one (new c id) is opened for the next process.
	Reusable bool
	// RPCTimeout returns the per-request timeout; nil means 5 s.
	RPCTimeout func(opts Options) time.Duration
	// Setup runs once after init, before the main phase (broadcast sends
	// topology here). conn may call any node. nil: nothing to do.
	Setup func(ctx context.Context, opts Options, conn Conn) error
	// NewGenerator makes the main phase's generator.
	NewGenerator func(opts Options, rng *rand.Rand) Generator
	// NewFinalGenerator makes the final phase's generator, which runs after
	// the nemesis heals and the network has been quiet for 10 s. nil: the
	// workload has no final phase.
	// main is the main phase's generator (nil when --rate 0 issued no
	// ops), for final phases that continue from what it saw (kafka polls
	// up to the highest offsets the main phase acknowledged).
	NewFinalGenerator func(opts Options, rng *rand.Rand, main Generator) Generator
	// NewClient opens a client for one process talking to node.
	NewClient func(conn Conn, node string, opts Options) Client
	// Check judges the history. The result must carry "valid?". When it is
	// not valid, "first-error" should hold a one-line description naming
	// the first offending operation (index, process, value), which the
	// console prints.
	Check func(h history.History, opts Options) checker.Result
	// Picture draws, for an invalid run, where it failed (lin-kv:
	// porcupine's view of the keys that cannot be linearized), to be stored
	// as PictureFile in the run directory; it returns how many items it
	// drew (0: nothing to store). nil: the workload has none.
	Picture     func(h history.History, w io.Writer) (int, error)
	PictureFile string
	// StatsExempt lists fs the stats checker ignores (kafka: crash).
	StatsExempt map[string]bool
	// Validate rejects options the workload cannot run with (lin-kv needs
	// a concurrency that is a multiple of twice the node count). The CLI
	// reports its error as bad arguments. nil: any options will do.
	Validate func(opts Options) error
}

// Complete turns the outcome of an RPC into op's completion, following
// Maelstrom's with-errors: a timeout or error reply is fail when the code
// is definite or the f is idempotent, else info. On success it returns an
// ok completion with value.
func (w *Workload) Complete(op history.Op, value any, err error) history.Op {
	c := op
	if err == nil {
		c.Type = history.OK
		c.Value = value
		return c
	}
	var rpcErr *RPCError
	switch {
	case errors.As(err, &rpcErr):
		c.Error = []any{ErrorName(rpcErr.Code), rpcErr.Text}
		if Definite(rpcErr.Code) || w.Idempotent[op.F] {
			c.Type = history.Fail
		} else {
			c.Type = history.Info
		}
	case errors.Is(err, ErrTimeout):
		c.Error = "net-timeout"
		if w.Idempotent[op.F] {
			c.Type = history.Fail
		} else {
			c.Type = history.Info
		}
	default:
		// Malformed replies and anything unexpected: Maelstrom records a
		// crashed (indeterminate) op.
		c.Type = history.Info
		c.Error = err.Error()
	}
	return c
}

// ErrorName is the Maelstrom name of an error code ("unknown" if none).
var ErrorName = client.ErrorName

// Definite reports whether an error code means the op certainly did not
// happen.
var Definite = client.Definite

// CheckReply enforces a reply schema the way Maelstrom's closed schemas
// do: the body's type must be wantType and its keys exactly type,
// in_reply_to, an optional msg_id, and fields. It returns an error wrapping
// ErrMalformedReply that names the offending key.
func CheckReply(body map[string]any, wantType string, fields ...string) error {
	if t, _ := body["type"].(string); t != wantType {
		return fmt.Errorf("%w: type %v, want %q", ErrMalformedReply, body["type"], wantType)
	}
	if _, ok := history.Int(body["in_reply_to"]); !ok {
		return fmt.Errorf("%w: in_reply_to %v is not an integer", ErrMalformedReply, body["in_reply_to"])
	}
	// Maelstrom's reply schema has msg_id as an optional integer: present
	// but null, fractional or a string is malformed.
	if id, ok := body["msg_id"]; ok {
		if _, isInt := history.Int(id); !isInt {
			return fmt.Errorf("%w: msg_id %v is not an integer", ErrMalformedReply, id)
		}
	}
	allowed := map[string]bool{"type": true, "in_reply_to": true, "msg_id": true}
	for _, f := range fields {
		allowed[f] = true
		if _, ok := body[f]; !ok {
			return fmt.Errorf("%w: %s reply lacks %q", ErrMalformedReply, wantType, f)
		}
	}
	for k := range body {
		if !allowed[k] {
			return fmt.Errorf("%w: %s reply has unexpected key %q", ErrMalformedReply, wantType, k)
		}
	}
	return nil
}
