// Package uniqueids is Maelstrom's unique-ids workload: clients ask nodes to
// generate ids, and every acknowledged id must be distinct from every other.
package uniqueids

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// maxDuplicates is how many of the most frequent duplicates the result
// lists, as Jepsen's unique-ids checker does.
const maxDuplicates = 48

// Workload is the unique-ids workload. Clients are reusable.
var Workload = &workload.Workload{
	Name:         "unique-ids",
	Reusable:     true,
	NewGenerator: func(_ workload.Options, _ *rand.Rand) workload.Generator { return generator{} },
	NewClient: func(conn workload.Conn, node string, _ workload.Options) workload.Client {
		return &client{conn: conn, node: node}
	},
	Check: func(h history.History, _ workload.Options) checker.Result { return Check(h) },
}

type generator struct{}

func (generator) Next(workload.GenContext) (history.Op, workload.Status) {
	return history.Op{F: "generate"}, workload.Ready
}

func (generator) Update(workload.GenContext, history.Op, history.Op) {}

type client struct {
	conn workload.Conn
	node string
}

// Invoke asks for one id; the ok value is the id.
func (c *client) Invoke(ctx context.Context, op history.Op) history.Op {
	reply, err := c.conn.Call(ctx, c.node, map[string]any{"type": "generate"}, 0)
	if err == nil {
		err = workload.CheckReply(reply, "generate_ok", "id")
	}
	var id any
	if err == nil {
		id = reply["id"]
	}
	return Workload.Complete(op, id, err)
}

// Check is Jepsen's unique-ids checker: over the ok generate ops, no id may
// appear twice.
func Check(h history.History) checker.Result {
	attempted := 0
	counts := map[string]int{}
	values := map[string]any{}
	firstSeen := map[string]history.Op{}
	var firstDup *history.Op
	var ids []any
	for _, op := range h {
		if !op.IsClient() || op.F != "generate" {
			continue
		}
		switch op.Type {
		case history.Invoke:
			attempted++
		case history.OK:
			k := history.Key(op.Value)
			counts[k]++
			values[k] = op.Value
			ids = append(ids, op.Value)
			if counts[k] == 1 {
				firstSeen[k] = op
			} else if firstDup == nil {
				o := op
				firstDup = &o
			}
		}
	}
	type dup struct {
		key   string
		count int
	}
	var dups []dup
	for k, c := range counts {
		if c > 1 {
			dups = append(dups, dup{k, c})
		}
	}
	sort.Slice(dups, func(i, j int) bool {
		if dups[i].count != dups[j].count {
			return dups[i].count > dups[j].count
		}
		return dups[i].key < dups[j].key
	})
	// Keys are the ids themselves, so results.edn reads {"n0-1" 2, 17 3}
	// like Jepsen's; ids that cannot be map keys (lists, maps) go in by
	// their canonical text.
	duplicated := map[any]any{}
	for i, d := range dups {
		if i == maxDuplicates {
			break
		}
		var key any = d.key
		switch v := values[d.key].(type) {
		case string, json.Number, float64, int, int64, bool:
			key = v
		}
		duplicated[key] = d.count
	}
	res := checker.Result{
		"valid?":             checker.Of(len(dups) == 0),
		"attempted-count":    attempted,
		"acknowledged-count": len(ids),
		"duplicated-count":   len(dups),
		"duplicated":         duplicated,
		"range":              idRange(ids),
	}
	if firstDup != nil {
		k := history.Key(firstDup.Value)
		prev := firstSeen[k]
		res["first-error"] = fmt.Sprintf("op %d (process %d, node %s) got id %s, already returned by op %d (process %d, node %s)",
			firstDup.Index, firstDup.Process, firstDup.Node, k, prev.Index, prev.Process, prev.Node)
	}
	return res
}

// idRange is [min max] of the ids when they are mutually comparable (all
// numbers or all strings), else nil.
func idRange(ids []any) any {
	if len(ids) == 0 {
		return []any{nil, nil}
	}
	allNum, allStr := true, true
	for _, v := range ids {
		if _, ok := history.Float(v); !ok {
			allNum = false
		}
		if _, ok := v.(string); !ok {
			allStr = false
		}
	}
	switch {
	case allNum:
		lo, hi := ids[0], ids[0]
		for _, v := range ids[1:] {
			f, _ := history.Float(v)
			if l, _ := history.Float(lo); f < l {
				lo = v
			}
			if h, _ := history.Float(hi); f > h {
				hi = v
			}
		}
		return []any{lo, hi}
	case allStr:
		lo, hi := ids[0].(string), ids[0].(string)
		for _, v := range ids[1:] {
			s := v.(string)
			if s < lo {
				lo = s
			}
			if s > hi {
				hi = s
			}
		}
		return []any{lo, hi}
	}
	return nil
}
