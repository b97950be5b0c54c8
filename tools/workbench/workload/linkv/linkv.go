// Package linkv is Maelstrom's lin-kv workload: a linearizable key/value
// store of independent registers. Threads work in groups of twice the node
// count, each group on one integer key at a time (keys 0, 1, 2, …): half
// the group reads, the rest write (value 0…4) or compare-and-set
// ([from to], each 0…4), writes and CASes 1:2. A key is retired after
// about 128 ops. The checker verifies each key's history is linearizable
// against a CAS register that starts out null (using porcupine instead of
// Knossos) and, like Knossos, says where a failing key gets stuck: the
// longest linearizable prefix found, the value the register held there,
// and the operations that cannot follow it (explain.go).
package linkv

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// perKeyLimit is Jepsen's default number of ops per key, which it scales
// by a random factor in [0.9, 1) per key so keys fall out of step.
const perKeyLimit = 128

// CheckTimeout bounds the linearizability search for one key; a key whose
// search runs out of time is :unknown.
var CheckTimeout = 30 * time.Second

// Workload is the lin-kv workload. Clients are reusable; reads are
// idempotent, so a read that times out or errors is a definite failure.
var Workload = &workload.Workload{
	Name:        "lin-kv",
	Doc:         Doc,
	Picture:     Visualize,
	PictureFile: VisualizationFile,
	Idempotent:  map[string]bool{"read": true},
	Reusable:    true,
	RPCTimeout: func(opts workload.Options) time.Duration {
		return max(10*opts.Latency, time.Second)
	},
	Validate: func(opts workload.Options) error {
		group := 2 * len(opts.Nodes)
		if group == 0 || opts.Concurrency%group != 0 {
			return fmt.Errorf("lin-kv needs --concurrency to be a multiple of 2 × node count (%d), got %d; try --concurrency 2n",
				group, opts.Concurrency)
		}
		return nil
	},
	NewGenerator: func(opts workload.Options, rng *rand.Rand) workload.Generator {
		return &generator{group: 2 * max(len(opts.Nodes), 1), keys: map[int]*keyState{}}
	},
	Check: func(h history.History, _ workload.Options) checker.Result { return Check(h) },
}

func init() {
	Workload.NewClient = func(conn workload.Conn, node string, opts workload.Options) workload.Client {
		return &client{conn: conn, node: node, timeout: Workload.RPCTimeout(opts)}
	}
}

type keyState struct {
	key, emitted, limit int
}

// generator hands each thread group its current key and moves the group to
// the next unused key once the current one has had its ops.
type generator struct {
	group   int
	nextKey int
	keys    map[int]*keyState // group index → its key
}

func (g *generator) Next(ctx workload.GenContext) (history.Op, workload.Status) {
	gi := ctx.Thread / g.group
	ks := g.keys[gi]
	if ks == nil || ks.emitted >= ks.limit {
		ks = &keyState{key: g.nextKey, limit: int((0.9 + 0.1*ctx.Rand.Float64()) * perKeyLimit)}
		g.nextKey++
		g.keys[gi] = ks
	}
	ks.emitted++
	k := ks.key
	if ctx.Thread%g.group < g.group/2 {
		return history.Op{F: "read", Value: []any{k, nil}}, workload.Ready
	}
	if ctx.Rand.IntN(3) == 0 {
		return history.Op{F: "write", Value: []any{k, ctx.Rand.IntN(5)}}, workload.Ready
	}
	return history.Op{F: "cas", Value: []any{k, []any{ctx.Rand.IntN(5), ctx.Rand.IntN(5)}}}, workload.Ready
}

func (g *generator) Update(workload.GenContext, history.Op, history.Op) {}

type client struct {
	conn    workload.Conn
	node    string
	timeout time.Duration
}

func (c *client) Invoke(ctx context.Context, op history.Op) history.Op {
	kv, ok := op.Value.([]any)
	if !ok || len(kv) != 2 {
		return Workload.Complete(op, nil, fmt.Errorf("lin-kv op value %v is not [key value]", op.Value))
	}
	k, v := kv[0], kv[1]
	switch op.F {
	case "read":
		reply, err := c.conn.Call(ctx, c.node, map[string]any{"type": "read", "key": k}, c.timeout)
		if err == nil {
			err = workload.CheckReply(reply, "read_ok", "value")
		}
		if err != nil {
			return Workload.Complete(op, nil, err)
		}
		return Workload.Complete(op, []any{k, reply["value"]}, nil)
	case "write":
		reply, err := c.conn.Call(ctx, c.node, map[string]any{"type": "write", "key": k, "value": v}, c.timeout)
		if err == nil {
			err = workload.CheckReply(reply, "write_ok")
		}
		return Workload.Complete(op, op.Value, err)
	case "cas":
		ft, ok := v.([]any)
		if !ok || len(ft) != 2 {
			return Workload.Complete(op, nil, fmt.Errorf("cas value %v is not [from to]", v))
		}
		reply, err := c.conn.Call(ctx, c.node, map[string]any{"type": "cas", "key": k, "from": ft[0], "to": ft[1]}, c.timeout)
		if err == nil {
			err = workload.CheckReply(reply, "cas_ok")
		}
		return Workload.Complete(op, op.Value, err)
	}
	return Workload.Complete(op, nil, errors.New("unknown lin-kv op "+op.F))
}

// regInput is one register operation, values in canonical form.
type regInput struct {
	f        string
	arg      string // write value
	from, to string // cas
}

// regOutput is what an operation returned; known is false for info ops,
// whose effect may or may not have happened.
type regOutput struct {
	known bool
	value string // read value
}

// casRegister is Knossos's cas-register: state is the canonical form of
// the current value, initially null.
var casRegister = porcupine.Model{
	Init: func() any { return history.Key(nil) },
	Step: func(state, input, output any) (bool, any) {
		s, in, out := state.(string), input.(regInput), output.(regOutput)
		switch in.f {
		case "read":
			return !out.known || out.value == s, s
		case "write":
			return true, in.arg
		case "cas":
			if s == in.from {
				return true, in.to
			}
			// A CAS acknowledged ok must have found from; one whose
			// outcome is unknown may simply have failed.
			return !out.known, s
		}
		return false, s
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(regInput), output.(regOutput)
		switch in.f {
		case "read":
			return "read → " + out.value
		case "write":
			return "write " + in.arg
		}
		return "cas " + in.from + " → " + in.to
	},
	DescribeState: func(state any) string { return state.(string) },
}

// keyOps splits the history into per-key porcupine operations. Failed ops
// are left out (they did not happen); info ops stay in with an open end.
func keyOps(h history.History) (map[string][]porcupine.Operation, map[string]any) {
	ops := map[string][]porcupine.Operation{}
	keys := map[string]any{}
	for _, p := range h.Pairs() {
		inv := p.Invoke
		kv, ok := inv.Value.([]any)
		if !ok || len(kv) != 2 {
			continue
		}
		kk := history.Key(kv[0])
		keys[kk] = kv[0]
		ret := int64(math.MaxInt64)
		out := regOutput{}
		var completion any
		if c := p.Completion; c != nil {
			switch c.Type {
			case history.Fail:
				continue
			case history.OK:
				ret = c.Time
				out.known = true
				if inv.F == "read" {
					if rv, ok := c.Value.([]any); ok && len(rv) == 2 {
						out.value = history.Key(rv[1])
					}
				}
				completion = c.Value
			}
		}
		in := regInput{f: inv.F}
		meta := &opMeta{index: inv.Index, node: inv.Node, value: inv.Value}
		switch inv.F {
		case "read":
			if !out.known {
				continue // an unanswered read constrains nothing
			}
			meta.value = completion
		case "write":
			in.arg = history.Key(kv[1])
		case "cas":
			ft, ok := kv[1].([]any)
			if !ok || len(ft) != 2 {
				continue
			}
			in.from, in.to = history.Key(ft[0]), history.Key(ft[1])
		default:
			continue
		}
		ops[kk] = append(ops[kk], porcupine.Operation{
			ClientId: inv.Process, Input: in, Call: inv.Time, Output: out, Return: ret, Metadata: meta,
		})
	}
	return ops, keys
}

// Check runs the linearizability check per key. The result has
// Maelstrom's independent-checker shape: valid?, results {key {valid? …}}
// and failures (the keys that are not linearizable); for each failing key,
// non-linearizable says where its longest linearizable prefix stops and
// which operations cannot follow it, and first-error names the first of
// them.
func Check(h history.History) checker.Result {
	ops, keys := keyOps(h)
	names := make([]string, 0, len(ops))
	for k := range ops {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		a, aok := history.Int(keys[names[i]])
		b, bok := history.Int(keys[names[j]])
		if aok && bok {
			return a < b
		}
		return names[i] < names[j]
	})
	intResults := map[int64]any{}
	strResults := map[string]any{}
	intStuck := map[int64]any{}
	strStuck := map[string]any{}
	failures := []any{}
	verdicts := []checker.Validity{}
	first := ""
	for _, k := range names {
		res, info := porcupine.CheckOperationsVerbose(casRegister, ops[k], CheckTimeout)
		v := checker.Valid
		switch res {
		case porcupine.Illegal:
			v = checker.Invalid
			failures = append(failures, keys[k])
			entry, line := explanation(keys[k], ops[k], impasses(ops[k], info))
			if i, ok := history.Int(keys[k]); ok {
				intStuck[i] = entry
			} else {
				strStuck[k] = entry
			}
			if first == "" {
				first = line
			}
		case porcupine.Unknown:
			v = checker.Unknown
		}
		verdicts = append(verdicts, v)
		r := map[string]any{"valid?": v, "op-count": len(ops[k])}
		if i, ok := history.Int(keys[k]); ok {
			intResults[i] = r
		} else {
			strResults[k] = r
		}
	}
	res := checker.Result{
		"valid?":   checker.Merge(verdicts...),
		"results":  byKey(intResults, strResults),
		"failures": failures,
	}
	if len(failures) > 0 {
		res["non-linearizable"] = byKey(intStuck, strStuck)
	}
	if first != "" {
		res["first-error"] = first
	}
	return res
}

// byKey joins per-key maps: integer keys (all the workload generates)
// print as {0 …, 1 …}; with any other key all of them print as strings.
func byKey(ints map[int64]any, strs map[string]any) any {
	if len(strs) == 0 {
		return ints
	}
	for i, r := range ints {
		strs[history.Key(i)] = r
	}
	return strs
}
