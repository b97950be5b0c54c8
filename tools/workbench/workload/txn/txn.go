// Package txn holds Maelstrom's transactional workloads. In
// txn-rw-register clients send transactions of register reads and writes
// ({"type":"txn","txn":[["r",k,null],["w",k,v],…]}); in txn-list-append
// the writes are appends (["append",k,v]) and reads return lists. Nodes
// answer txn_ok with the reads filled in, and the history is judged by the
// dependency-graph checkers in txngraph under the --consistency-models
// given.
package txn

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/txngraph"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// Defaults of Elle's wr-txns as Maelstrom passes them.
const (
	DefaultKeyCount        = 10
	DefaultMaxTxnLength    = 4
	DefaultMaxWritesPerKey = 16
)

// RWRegister is the txn-rw-register workload. No f is idempotent, so a
// timeout is info; error 30 (txn-conflict) is definite, so fail. Clients
// are reusable and there is no final phase.
var RWRegister = &workload.Workload{
	Name:     "txn-rw-register",
	Doc:      Doc,
	Summary:  workload.Summary{Figures: summaryFigures},
	Strict:   StrictChecks,
	Reusable: true,
	Validate: func(opts workload.Options) error {
		return txngraph.ValidateModels(opts.ConsistencyModels)
	},
	NewGenerator: func(opts workload.Options, _ *rand.Rand) workload.Generator {
		return NewGenerator(opts, "w")
	},
	Check: func(h history.History, opts workload.Options) checker.Result {
		return txngraph.Check(h, opts.ConsistencyModels, checker.StrictnessOf(opts.MaelstromVerdicts))
	},
}

// ListAppend is the txn-list-append workload: the same transactions with
// appends for writes, judged by the list-append checker.
var ListAppend = &workload.Workload{
	Name:     "txn-list-append",
	Doc:      Doc,
	Summary:  workload.Summary{Figures: summaryFigures},
	Strict:   StrictChecks,
	Reusable: true,
	Validate: func(opts workload.Options) error {
		return txngraph.ValidateModels(opts.ConsistencyModels)
	},
	NewGenerator: func(opts workload.Options, _ *rand.Rand) workload.Generator {
		return NewGenerator(opts, "append")
	},
	Check: func(h history.History, opts workload.Options) checker.Result {
		return txngraph.CheckListAppend(h, opts.ConsistencyModels, checker.StrictnessOf(opts.MaelstromVerdicts))
	},
}

// The clients complete ops through their own workload, so they are set
// here rather than in the literals (which may not refer to themselves).
func init() {
	RWRegister.NewClient = func(conn workload.Conn, node string, _ workload.Options) workload.Client {
		return &client{conn: conn, node: node, w: RWRegister}
	}
	ListAppend.NewClient = func(conn workload.Conn, node string, _ workload.Options) workload.Client {
		return &client{conn: conn, node: node, w: ListAppend}
	}
}

// Generator makes Elle's write/read transactions: each txn has 1 …
// max-txn-length micro-ops, each a read or a write with equal odds, on keys
// drawn from a pool of key-count active keys where each key is twice as
// likely as the one before it; every write to a key carries the next value
// 1, 2, 3, …, and a key that has had max-writes-per-key writes is replaced
// by a fresh one.
type Generator struct {
	writeF                      string // "w" or "append"
	keyCount, maxLen, maxWrites int
	active                      []int64
	next                        map[int64]int64
	scale                       float64 // for the exponential key choice
}

// NewGenerator applies the workload defaults to opts; writeF names the
// write micro-op.
func NewGenerator(opts workload.Options, writeF string) *Generator {
	g := &Generator{writeF: writeF, keyCount: opts.KeyCount, maxLen: opts.MaxTxnLength, maxWrites: opts.MaxWritesPerKey, next: map[int64]int64{}}
	if g.keyCount <= 0 {
		g.keyCount = DefaultKeyCount
	}
	if g.maxLen <= 0 {
		g.maxLen = DefaultMaxTxnLength
	}
	if g.maxWrites <= 0 {
		g.maxWrites = DefaultMaxWritesPerKey
	}
	for k := 0; k < g.keyCount; k++ {
		g.active = append(g.active, int64(k))
	}
	// With base 2, drawing r uniformly from [0, scale) and taking
	// floor(log2(r + 2)) - 1 gives index i with probability ∝ 2^i.
	g.scale = (math.Pow(2, float64(g.keyCount)) - 1) * 2
	return g
}

func (g *Generator) randKey(rng *rand.Rand) int64 {
	i := int(math.Floor(math.Log2(rng.Float64()*g.scale+2) - 1))
	i = max(0, min(i, len(g.active)-1))
	return g.active[i]
}

// Txn returns the next transaction as the history value [[f k v] …].
func (g *Generator) Txn(rng *rand.Rand) []any {
	n := 1 + rng.IntN(g.maxLen)
	txn := make([]any, 0, n)
	for len(txn) < n {
		k := g.randKey(rng)
		if rng.IntN(2) == 0 {
			txn = append(txn, []any{"r", k, nil})
			continue
		}
		v := g.next[k]
		if v == 0 {
			v = 1
		}
		if v > int64(g.maxWrites) {
			g.retire(k)
			continue
		}
		g.next[k] = v + 1
		txn = append(txn, []any{g.writeF, k, v})
	}
	return txn
}

// retire replaces a key that has had all its writes by a fresh one.
func (g *Generator) retire(k int64) {
	fresh := g.active[0]
	for _, a := range g.active {
		fresh = max(fresh, a)
	}
	for i, a := range g.active {
		if a == k {
			g.active[i] = fresh + 1
		}
	}
}

// Next always has a txn ready; the runner paces them.
func (g *Generator) Next(ctx workload.GenContext) (history.Op, workload.Status) {
	return history.Op{F: "txn", Value: g.Txn(ctx.Rand)}, workload.Ready
}

// Update is a no-op: the generator ignores results.
func (g *Generator) Update(workload.GenContext, history.Op, history.Op) {}

type client struct {
	conn workload.Conn
	node string
	w    *workload.Workload
}

// Invoke sends one txn and completes it with the node's answer.
func (c *client) Invoke(ctx context.Context, op history.Op) history.Op {
	reply, err := c.conn.Call(ctx, c.node, map[string]any{"type": "txn", "txn": op.Value}, 0)
	var value any
	if err == nil {
		err = workload.CheckReply(reply, "txn_ok", "txn")
	}
	if err == nil {
		value, err = Completed(op.Value, reply["txn"])
	}
	return c.w.Complete(op, value, err)
}

// Completed checks a node's txn_ok txn against the request and returns it
// as the history value. The reply must have the request's shape: the same
// number of micro-ops, each with the same f and key, writes unchanged.
// Read values may be anything (Maelstrom's schema lets any JSON through);
// integers become int64, and anything else is kept for the checker to
// flag as a garbage read.
func Completed(request, reply any) ([]any, error) {
	req, _ := request.([]any)
	got, ok := reply.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: txn is %s, not a list", workload.ErrMalformedReply, show(reply))
	}
	if len(got) != len(req) {
		return nil, fmt.Errorf("%w: txn has %d micro-ops, the request had %d", workload.ErrMalformedReply, len(got), len(req))
	}
	out := make([]any, len(req))
	for i := range req {
		want := req[i].([]any)
		mop, ok := got[i].([]any)
		if !ok || len(mop) != 3 {
			return nil, fmt.Errorf("%w: micro-op %d is %s, not [f k v]", workload.ErrMalformedReply, i, show(got[i]))
		}
		if f, _ := mop[0].(string); f != want[0] {
			return nil, fmt.Errorf("%w: micro-op %d has f %s, the request had %q", workload.ErrMalformedReply, i, show(mop[0]), want[0])
		}
		wk, _ := history.Int(want[1])
		if k, ok := history.Int(mop[1]); !ok || k != wk {
			return nil, fmt.Errorf("%w: micro-op %d has key %s, the request had %d", workload.ErrMalformedReply, i, show(mop[1]), wk)
		}
		if want[0] != "r" {
			wv, _ := history.Int(want[2])
			if v, ok := history.Int(mop[2]); !ok || v != wv {
				return nil, fmt.Errorf("%w: micro-op %d changed the write of %d to %s", workload.ErrMalformedReply, i, wv, show(mop[2]))
			}
			out[i] = []any{want[0], wk, wv}
			continue
		}
		out[i] = []any{"r", wk, readValue(mop[2])}
	}
	return out, nil
}

// readValue turns JSON integers (alone or in a list) into int64 and
// leaves anything else as it came.
func readValue(v any) any {
	if n, ok := history.Int(v); ok {
		return n
	}
	list, ok := v.([]any)
	if !ok {
		return v
	}
	out := make([]any, len(list))
	for i, e := range list {
		if n, ok := history.Int(e); ok {
			out[i] = n
		} else {
			out[i] = e
		}
	}
	return out
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// StrictChecks are the anomaly types the txn checkers report where Elle,
// and so Maelstrom, does not (txngraph's strict.go says why).
var StrictChecks = []workload.StrictCheck{
	{
		Name:      txngraph.GarbageRead,
		Defect:    "a read returns a value no transaction wrote (e.g. 0 for a key nobody has written, where the protocol says null)",
		Maelstrom: "Elle has no such check: rw-register takes a value nobody wrote for the key's initial state, list-append never asks who appended an element",
		Fixture:   "txn-zero-read",
	},
}

// summaryFigures: the anomaly types that fail the run, when there are
// any, each strict one marked so.
func summaryFigures(r workload.Results) []string {
	v, _ := r.Get("workload", "anomaly-types")
	types, _ := v.([]any)
	if len(types) == 0 {
		return nil
	}
	strict := map[string]bool{}
	if l, ok := r.Get("workload", checker.StrictKey); ok {
		if l, ok := l.([]any); ok {
			for _, t := range l {
				strict[fmt.Sprint(t)] = true
			}
		}
	}
	marked := make([]any, len(types))
	for i, t := range types {
		marked[i] = t
		if strict[fmt.Sprint(t)] {
			marked[i] = fmt.Sprintf("%v(strict)", t)
		}
	}
	return []string{"anomalies " + workload.Brief(marked)}
}
