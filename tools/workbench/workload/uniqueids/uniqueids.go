// Package uniqueids is Maelstrom's unique-ids workload: clients ask nodes to
// generate ids, and every acknowledged id must be distinct from every other.
package uniqueids

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"sort"
	"strings"

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
	Doc:          Doc,
	Summary:      workload.Summary{Figures: summaryFigures},
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
	duplicated, dupCount := duplicatedIDs(counts, values)
	rng, err := idRange(ids)
	if err != nil {
		// Jepsen's checker folds the ids with compare for :range, which
		// throws on ids of mutually incomparable types (a string and a
		// number, two JSON objects…); check-safe turns that into an
		// unknown verdict carrying only the error.
		return checker.Result{
			"valid?":      checker.Unknown,
			"error":       err.Error(),
			"first-error": "cannot compute the id range: " + err.Error() + " (Jepsen's unique-ids checker throws here, so the verdict is unknown)",
		}
	}
	res := checker.Result{
		"valid?":             checker.Of(dupCount == 0),
		"attempted-count":    attempted,
		"acknowledged-count": len(ids),
		"duplicated-count":   dupCount,
		"duplicated":         duplicated,
		"range":              rng,
	}
	if firstDup != nil {
		k := history.Key(firstDup.Value)
		prev := firstSeen[k]
		res["first-error"] = fmt.Sprintf("op %d (process %d, node %s) got id %s, already returned by op %d (process %d, node %s)",
			firstDup.Index, firstDup.Process, firstDup.Node, history.Key(firstDup.Value), prev.Index, prev.Process, prev.Node)
	}
	return res
}

// duplicatedIDs is the :duplicated map of Jepsen's checker: of the ids
// returned more than once, the maxDuplicates most frequent, each with its
// count; n is how many ids were duplicated in all.
// counts and values are keyed by an id's canonical text.
func duplicatedIDs(counts map[string]int, values map[string]any) (duplicated map[any]any, n int) {
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
	duplicated = map[any]any{}
	for i, d := range dups {
		if i == maxDuplicates {
			break
		}
		var key any = history.Key(values[d.key])
		switch v := values[d.key].(type) {
		case string, json.Number, float64, int, int64, bool:
			key = v
		}
		duplicated[key] = d.count
	}
	return duplicated, len(dups)
}

// idRange is [min max] of the ids as Jepsen's tesser range computes it:
// a sequential fold keeping the smallest and largest under Clojure's
// compare, skipping nils. Comparing two ids compare cannot order (mixed
// types, JSON objects) is an error, as it throws in Jepsen.
func idRange(ids []any) ([]any, error) {
	var lo, hi any
	for _, v := range ids {
		if v == nil {
			continue
		}
		if lo == nil {
			lo, hi = v, v
			continue
		}
		c, err := compareIDs(v, lo)
		if err != nil {
			return nil, err
		}
		if c <= 0 {
			lo = v
		}
		if c, err = compareIDs(v, hi); err != nil {
			return nil, err
		}
		if c >= 0 {
			hi = v
		}
	}
	return []any{lo, hi}, nil
}

// compareIDs is Clojure's compare on JSON values: numbers by value,
// strings lexically, booleans false < true, arrays (vectors) by length and
// then element by element; anything else, or two values of different
// kinds, cannot be compared.
func compareIDs(a, b any) (int, error) {
	if a == nil || b == nil {
		switch {
		case a == nil && b == nil:
			return 0, nil
		case a == nil:
			return -1, nil
		}
		return 1, nil
	}
	if x, ok := number(a); ok {
		y, ok := number(b)
		if !ok {
			return 0, incomparable(a, b)
		}
		return x.Cmp(y), nil
	}
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), nil
		}
	case bool:
		if y, ok := b.(bool); ok {
			switch {
			case x == y:
				return 0, nil
			case !x:
				return -1, nil
			}
			return 1, nil
		}
	case []any:
		if y, ok := b.([]any); ok {
			if len(x) != len(y) {
				if len(x) < len(y) {
					return -1, nil
				}
				return 1, nil
			}
			for i := range x {
				if c, err := compareIDs(x[i], y[i]); err != nil || c != 0 {
					return c, err
				}
			}
			return 0, nil
		}
	}
	return 0, incomparable(a, b)
}

func number(v any) (*big.Float, bool) {
	switch x := v.(type) {
	case json.Number:
		f, _, err := big.ParseFloat(string(x), 10, 256, big.ToNearestEven)
		return f, err == nil
	case float64:
		return big.NewFloat(x), !math.IsNaN(x)
	case int:
		return new(big.Float).SetInt64(int64(x)), true
	case int64:
		return new(big.Float).SetInt64(x), true
	}
	return nil, false
}

func incomparable(a, b any) error {
	return fmt.Errorf("ids %s and %s cannot be compared", history.Key(a), history.Key(b))
}

// summaryFigures: how many ids were handed out twice.
func summaryFigures(r workload.Results) []string {
	if n, ok := r.Num("workload", "duplicated-count"); ok {
		return []string{fmt.Sprintf("duplicated %d", int64(n))}
	}
	return nil
}
