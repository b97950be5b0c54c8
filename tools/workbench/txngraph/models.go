package txngraph

import (
	"fmt"
	"sort"
	"strings"
)

// Anomaly type names, spelled as Elle spells them so results read the same.
const (
	G0            = "G0"
	G1a           = "G1a"
	G1b           = "G1b"
	G1c           = "G1c"
	GSingle       = "G-single"
	GNonadjacent  = "G-nonadjacent"
	G2Item        = "G2-item"
	Internal      = "internal"
	GarbageRead   = "garbage-read"
	DuplicateW    = "duplicate-writes"
	LostUpdate    = "lost-update"
	CyclicVersion = "cyclic-versions"
	EmptyGraph    = "empty-transaction-graph"
)

// cycleBase lists the data-dependency cycle types from most to least
// severe; finding one in a component makes searching for the later ones
// there pointless, as in Elle.
var cycleBase = []string{G0, G1c, GSingle, GNonadjacent, G2Item}

// Cycle variants: a cycle that needs process or realtime edges to close is
// reported as e.g. G0-process or G-single-realtime.
const (
	variantNone     = ""
	variantProcess  = "-process"
	variantRealtime = "-realtime"
)

var variants = []string{variantNone, variantProcess, variantRealtime}

// alwaysBad anomalies mean the history cannot come from any database we
// model, whatever the isolation level: a read of a value nobody wrote, a
// transaction that contradicts itself, a version order that loops, or
// writes that were not unique as the generator promised (for lists: reads
// that disagree on the order of a key's elements, or repeat an element). Maelstrom's
// checker lets garbage reads through under weak models; we do not.
var alwaysBad = []string{Internal, GarbageRead, DuplicateW, CyclicVersion, IncompatibleOrder, DuplicateElements}

func withVariants(vs []string, types ...string) []string {
	var out []string
	for _, t := range types {
		for _, v := range vs {
			out = append(out, t+v)
		}
	}
	return out
}

// model is a consistency model and the anomalies it prohibits, closed
// under implication (a model that prohibits G1c also prohibits G0).
type model struct {
	name       string
	prohibited []string
}

var models = func() []model {
	ru := append([]string{G0}, alwaysBad...)
	rc := append(append([]string{}, ru...), G1a, G1b, G1c)
	si := append(append([]string{}, rc...), GSingle, LostUpdate)
	ser := append(append([]string{}, rc...), GSingle, GNonadjacent, G2Item, LostUpdate)
	proc := []string{variantProcess}
	both := []string{variantProcess, variantRealtime}
	return []model{
		{"read-uncommitted", ru},
		{"read-committed", rc},
		{"monotonic-atomic-view", rc},
		{"cursor-stability", append(append([]string{}, rc...), LostUpdate)},
		{"repeatable-read", ser},
		{"snapshot-isolation", si},
		{"serializable", ser},
		{"strong-session-read-uncommitted", append(append([]string{}, ru...), withVariants(proc, G0)...)},
		{"strong-session-read-committed", append(append([]string{}, rc...), withVariants(proc, G0, G1c)...)},
		{"strong-session-snapshot-isolation", append(append([]string{}, si...), withVariants(proc, G0, G1c, GSingle)...)},
		{"strong-session-serializable", append(append([]string{}, ser...), withVariants(proc, cycleBase...)...)},
		{"strong-read-uncommitted", append(append([]string{}, ru...), withVariants(both, G0)...)},
		{"strong-read-committed", append(append([]string{}, rc...), withVariants(both, G0, G1c)...)},
		{"strong-snapshot-isolation", append(append([]string{}, si...), withVariants(both, G0, G1c, GSingle)...)},
		{"strict-serializable", append(append([]string{}, ser...), withVariants(both, cycleBase...)...)},
	}
}()

// DefaultModel is what Maelstrom checks when --consistency-models is absent.
const DefaultModel = "strict-serializable"

// Models lists the consistency model names the checker understands.
func Models() []string {
	names := make([]string, len(models))
	for i, m := range models {
		names[i] = m.name
	}
	return names
}

func findModel(name string) (model, bool) {
	for _, m := range models {
		if m.name == name {
			return m, true
		}
	}
	return model{}, false
}

// ValidateModels reports an error naming the first model the checker does
// not know, so the CLI can refuse it before running anything.
func ValidateModels(names []string) error {
	for _, n := range names {
		if _, ok := findModel(n); !ok {
			return fmt.Errorf("unknown consistency model %q (known: %s)", n, strings.Join(Models(), ", "))
		}
	}
	return nil
}

// prohibitedBy is the union of the anomalies the given models prohibit.
func prohibitedBy(names []string) (map[string]bool, error) {
	if len(names) == 0 {
		names = []string{DefaultModel}
	}
	out := map[string]bool{}
	for _, n := range names {
		m, ok := findModel(n)
		if !ok {
			return nil, ValidateModels([]string{n})
		}
		for _, a := range m.prohibited {
			out[a] = true
		}
	}
	return out, nil
}

// boundary says which models the anomalies found rule out: "not" holds the
// weakest such models, "also-not" the stronger ones they drag along, like
// Elle's friendly-boundary.
func boundary(found []string) (not, alsoNot []string) {
	has := map[string]bool{}
	for _, f := range found {
		has[f] = true
	}
	var impossible []model
	for _, m := range models {
		for _, a := range m.prohibited {
			if has[a] {
				impossible = append(impossible, m)
				break
			}
		}
	}
	subset := func(a, b model) bool { // a's prohibitions ⊆ b's
		set := map[string]bool{}
		for _, x := range b.prohibited {
			set[x] = true
		}
		for _, x := range a.prohibited {
			if !set[x] {
				return false
			}
		}
		return true
	}
	// Models with equal prohibitions (we cannot tell repeatable-read from
	// serializable) are ordered by their place in the table, weakest first.
	for i, m := range impossible {
		weakest := true
		for j, o := range impossible {
			if i != j && subset(o, m) && (!subset(m, o) || j < i) {
				weakest = false
				break
			}
		}
		if weakest {
			not = append(not, m.name)
		} else {
			alsoNot = append(alsoNot, m.name)
		}
	}
	sort.Strings(not)
	sort.Strings(alsoNot)
	return not, alsoNot
}

// needsEdges reports whether the prohibited set asks for process or
// realtime cycles, which decides which extra edges the graph gets. Realtime
// order contains process order, so realtime alone suffices when both are
// asked for (as Elle does).
func needsEdges(prohibited map[string]bool) (process, realtime bool) {
	for a := range prohibited {
		if strings.HasSuffix(a, variantRealtime) {
			realtime = true
		}
		if strings.HasSuffix(a, variantProcess) {
			process = true
		}
	}
	if realtime {
		process = false
	}
	return process, realtime
}
