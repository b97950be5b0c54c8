package txngraph

import (
	"fmt"
	"sort"
	"strings"
)

// Anomaly type names, spelled as Elle spells them so results read the same.
// Cycles over item (key) dependencies are G0 (ww only), G1c (ww and wr),
// G-single-item (exactly one rw), G-nonadjacent-item (2+ rw, no two in a
// row) and G2-item (2+ rw, some adjacent); a cycle that needs process or
// realtime edges gets a -process or -realtime suffix. Txn histories here
// have no predicate reads, so Elle's G-single, G-nonadjacent and G2 (the
// predicate forms) are never found, only implied.
const (
	G0                = "G0"
	G1a               = "G1a"
	G1b               = "G1b"
	G1c               = "G1c"
	GSingleItem       = "G-single-item"
	GNonadjacentItem  = "G-nonadjacent-item"
	G2Item            = "G2-item"
	Internal          = "internal"
	GarbageRead       = "garbage-read"
	DuplicateW        = "duplicate-writes"
	LostUpdate        = "lost-update"
	DirtyUpdate       = "dirty-update"
	CyclicVersion     = "cyclic-versions"
	IncompatibleOrder = "incompatible-order"
	DuplicateElements = "duplicate-elements"
	EmptyGraph        = "empty-transaction-graph"
	CycleTimeout      = "cycle-search-timeout"
)

// Cycle variants: a cycle that needs process or realtime edges to close is
// reported as e.g. G0-process or G-single-item-realtime.
const (
	variantNone     = ""
	variantProcess  = "-process"
	variantRealtime = "-realtime"
)

// impliedAnomalies: a → b means every history showing a also shows b (G0
// is a trivial G0-process, a G0-process is also a G0-realtime since
// processes are single-threaded, lost update is a G2-item, …). These are
// the facts of Elle's consistency-model namespace.
var impliedAnomalies = map[string][]string{
	"G0":                          {"G1c", "G0-process"},
	"G0-process":                  {"G1c-process", "G0-realtime"},
	"G0-realtime":                 {"G1c-realtime"},
	"G1a":                         {"G1"},
	"G1b":                         {"G1"},
	"G1c":                         {"G1", "G1c-process"},
	"G1c-process":                 {"G1c-realtime", "G1-process"},
	"G1c-realtime":                {"G1-realtime"},
	"G1":                          {"G1-process"},
	"G1-process":                  {"G1-realtime"},
	"G-single-item":               {"G-single", "G-single-item-process", "G-nonadjacent-item"},
	"G-single-item-process":       {"G-single-process", "G-single-item-realtime", "G-nonadjacent-item-process"},
	"G-single-item-realtime":      {"G-single-realtime", "G-nonadjacent-item-realtime"},
	"G-single":                    {"G-nonadjacent", "GSIb", "G-single-process"},
	"G-single-process":            {"G-nonadjacent-process", "G-single-realtime"},
	"G-single-realtime":           {"G-nonadjacent-realtime"},
	"G-nonadjacent-item":          {"G-nonadjacent", "G2-item", "G-nonadjacent-item-process"},
	"G-nonadjacent-item-process":  {"G-nonadjacent-process", "G2-item-process", "G-nonadjacent-item-realtime"},
	"G-nonadjacent-item-realtime": {"G2-item-realtime", "G-nonadjacent-realtime"},
	"G-nonadjacent":               {"G2", "G-nonadjacent-process"},
	"G-nonadjacent-process":       {"G2-process", "G-nonadjacent-realtime"},
	"G-nonadjacent-realtime":      {"G2-realtime"},
	"G2":                          {"G2-process"},
	"G2-item":                     {"G2", "G2-item-process"},
	"G2-item-process":             {"G2-process", "G2-item-realtime"},
	"G2-item-realtime":            {"G2-realtime"},
	"G2-process":                  {"G2-realtime"},
	"GSIa":                        {"GSI"},
	"GSIb":                        {"GSI"},
	"incompatible-order":          {"G1a"},
	"future-read":                 {"G1c"},
	"dirty-update":                {"G1a"},
	"lost-update":                 {"write-skew", "G2-item"},
	"write-skew":                  {"G2"},
}

// severity orders anomalies that do not imply each other (G0 is worse
// than G-single) so cycle search looks for the worst first: data cycles,
// then process ones, then realtime ones.
var severity = map[string][]string{
	"G0":           {"G1c"},
	"G0-process":   {"G1c-process"},
	"G0-realtime":  {"G1c-realtime"},
	"G1c":          {"G-single", "G2-item"},
	"G1c-process":  {"G-single-process", "G2-item-process"},
	"G1c-realtime": {"G-single-realtime", "G2-item-realtime"},
	"G2":           {"G0-process"},
	"G2-process":   {"G0-realtime"},
}

// canonical maps a model's friendly name to the name the tables use.
var canonical = map[string]string{
	"consistent-view":                 "PL-2+",
	"conflict-serializable":           "PL-3",
	"cursor-stability":                "PL-CS",
	"forward-consistent-view":         "PL-FCV",
	"monotonic-snapshot-read":         "PL-MSR",
	"monotonic-view":                  "PL-2L",
	"read-committed":                  "PL-2",
	"read-uncommitted":                "PL-1",
	"repeatable-read":                 "PL-2.99",
	"serializable":                    "PL-3",
	"snapshot-isolation":              "PL-SI",
	"strict-serializable":             "PL-SS",
	"strong-serializable":             "PL-SS",
	"update-serializable":             "PL-3U",
	"strong-session-read-uncommitted": "strong-session-PL-1",
	"strong-session-read-committed":   "strong-session-PL-2",
	"strong-read-uncommitted":         "strong-PL-1",
	"strong-read-committed":           "strong-PL-2",
}

// friendly is the reverse of canonical, with Elle's choices where several
// names share one model.
var friendly = func() map[string]string {
	out := map[string]string{}
	for f, c := range canonical {
		out[c] = f
	}
	out["PL-3"] = "serializable"
	out["PL-SS"] = "strong-serializable"
	return out
}()

func canon(m string) string {
	if c, ok := canonical[m]; ok {
		return c
	}
	return m
}

func friendlyName(m string) string {
	if f, ok := friendly[m]; ok {
		return f
	}
	return m
}

// modelImplies: a → b means a history satisfying a satisfies b (friendly
// or canonical names; canonicalised when used).
var modelImplies = map[string][]string{
	"causal-cerone":                     {"read-atomic"},
	"consistent-view":                   {"cursor-stability", "monotonic-view"},
	"conflict-serializable":             {"view-serializable"},
	"cursor-stability":                  {"read-committed", "PL-2"},
	"forward-consistent-view":           {"consistent-view"},
	"PL-2":                              {"PL-1"},
	"PL-3":                              {"repeatable-read", "update-serializable"},
	"update-serializable":               {"forward-consistent-view"},
	"monotonic-atomic-view":             {"read-committed"},
	"monotonic-view":                    {"PL-2"},
	"monotonic-snapshot-read":           {"PL-2"},
	"parallel-snapshot-isolation":       {"causal-cerone", "update-atomic"},
	"prefix":                            {"causal-cerone"},
	"read-atomic":                       {"monotonic-atomic-view"},
	"read-committed":                    {"read-uncommitted"},
	"repeatable-read":                   {"cursor-stability", "monotonic-atomic-view"},
	"update-atomic":                     {"read-atomic"},
	"serializable":                      {"repeatable-read", "snapshot-isolation", "view-serializable"},
	"session-serializable":              {"1SR"},
	"snapshot-isolation":                {"forward-consistent-view", "monotonic-atomic-view", "monotonic-snapshot-read", "parallel-snapshot-isolation", "prefix"},
	"strict-serializable":               {"PL-3", "serializable", "linearizable", "snapshot-isolation", "strong-snapshot-isolation", "strong-session-serializable"},
	"strong-session-PL-1":               {"PL-1"},
	"strong-session-PL-2":               {"PL-2", "strong-session-PL-1"},
	"strong-PL-1":                       {"strong-session-PL-1"},
	"strong-PL-2":                       {"strong-session-PL-2", "strong-PL-1"},
	"strong-session-serializable":       {"serializable", "strong-session-snapshot-isolation"},
	"strong-session-snapshot-isolation": {"snapshot-isolation", "strong-session-PL-2"},
	"strong-serializable":               {"session-serializable"},
	"strong-snapshot-isolation":         {"strong-session-snapshot-isolation", "strong-PL-2"},
	"linearizable":                      {"sequential"},
	"sequential":                        {"causal"},
	"causal":                            {"writes-follow-reads", "PRAM"},
	"PRAM":                              {"monotonic-reads", "monotonic-writes", "read-your-writes"},
}

// proscribes lists, per model, the anomalies it rules out on top of the
// models it implies (see cycleexists.go for the "-cycle-exists" ones).
var proscribes = map[string][]string{
	"causal-cerone":                     {"internal", "G1a"},
	"cursor-stability":                  {"G1", "G-cursor", "lost-update"},
	"monotonic-view":                    {"G1", "G-monotonic"},
	"monotonic-snapshot-read":           {"G1", "G-MSR"},
	"consistent-view":                   {"G1", "G-single"},
	"forward-consistent-view":           {"G1", "G-SIb"},
	"parallel-snapshot-isolation":       {"internal", "G1a"},
	"PL-3":                              {"G1", "G2", "predicate-read-miss", "PL-3-cycle-exists"},
	"PL-2":                              {"G1", "PL-2-cycle-exists"},
	"PL-1":                              {"G0", "duplicate-elements", "cyclic-versions", "PL-1-cycle-exists"},
	"prefix":                            {"internal", "G1a"},
	"serializable":                      {"internal"},
	"snapshot-isolation":                {"internal", "G1", "G-SI", "G-nonadjacent", "PL-SI-cycle-exists"},
	"read-atomic":                       {"internal", "G1a", "future-read"},
	"repeatable-read":                   {"G1", "G2-item", "lost-update", "PL-2.99-cycle-exists"},
	"update-atomic":                     {"lost-update"},
	"strict-serializable":               {"G1", "G1c-realtime", "G2-realtime", "PL-SS-cycle-exists"},
	"strong-session-PL-1":               {"G0-process", "strong-session-PL-1-cycle-exists"},
	"strong-session-PL-2":               {"G1c-process", "strong-session-PL-2-cycle-exists"},
	"strong-PL-1":                       {"G0-realtime", "strong-PL-1-cycle-exists"},
	"strong-PL-2":                       {"G1c-realtime", "strong-PL-2-cycle-exists"},
	"strong-session-snapshot-isolation": {"internal", "G1-process", "G-nonadjacent-process", "strong-session-snapshot-isolation-cycle-exists"},
	"strong-snapshot-isolation":         {"internal", "G1-realtime", "G-nonadjacent-realtime", "strong-snapshot-isolation-cycle-exists"},
	"strong-session-serializable":       {"G1-process", "G2-process", "strong-session-serializable-cycle-exists"},
	"update-serializable":               {"G1", "G-update"},
}

// dag is a small directed graph of names with its reverse.
type dag struct{ out, in map[string][]string }

func newDAG(edges ...map[string][]string) dag {
	d := dag{out: map[string][]string{}, in: map[string][]string{}}
	for _, es := range edges {
		for a, bs := range es {
			for _, b := range bs {
				d.out[a] = append(d.out[a], b)
				d.in[b] = append(d.in[b], a)
			}
		}
	}
	return d
}

// reach returns every name reachable from start along next, start included.
func reach(next map[string][]string, start []string) map[string]bool {
	seen := map[string]bool{}
	queue := append([]string(nil), start...)
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		if seen[x] {
			continue
		}
		seen[x] = true
		queue = append(queue, next[x]...)
	}
	return seen
}

var (
	anomalyDAG = newDAG(impliedAnomalies)
	modelDAG   = func() dag {
		c := map[string][]string{}
		for a, bs := range modelImplies {
			for _, b := range bs {
				c[canon(a)] = append(c[canon(a)], canon(b))
			}
		}
		return newDAG(c)
	}()
	proscribeDAG = func() dag {
		c := map[string][]string{}
		for m, as := range proscribes {
			c[canon(m)] = append(c[canon(m)], as...)
		}
		return newDAG(c)
	}()
	// anomalyDepth orders anomalies for search: roots of the implication
	// and severity graphs first, as Elle's topological depths do.
	anomalyDepth = topoDepths(newDAG(impliedAnomalies, severity))
)

// topoDepths peels the graph's roots off layer by layer.
func topoDepths(d dag) map[string]int {
	indeg := map[string]int{}
	for a, bs := range d.out {
		if _, ok := indeg[a]; !ok {
			indeg[a] = 0
		}
		for _, b := range bs {
			indeg[b]++
		}
	}
	depth := map[string]int{}
	var layer []string
	for v, n := range indeg {
		if n == 0 {
			layer = append(layer, v)
		}
	}
	for level := 0; len(layer) > 0; level++ {
		var next []string
		for _, v := range layer {
			depth[v] = level
			for _, b := range d.out[v] {
				if indeg[b]--; indeg[b] == 0 {
					next = append(next, b)
				}
			}
		}
		layer = next
	}
	return depth
}

// impliedBy is every anomaly the given ones imply, themselves included.
func impliedBy(anomalies []string) map[string]bool { return reach(anomalyDAG.out, anomalies) }

// DefaultModel is what Maelstrom checks when --consistency-models is absent.
const DefaultModel = "strict-serializable"

// Models lists the consistency model names the checker understands, by
// their friendly names (canonical ones such as PL-2 are accepted too).
func Models() []string {
	set := map[string]bool{}
	for v := range reach(modelDAG.out, keys(modelDAG.out)) {
		set[friendlyName(v)] = true
	}
	for f := range canonical {
		set[f] = true
	}
	var out []string
	for m := range set {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

func keys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func knownModel(name string) bool {
	c := canon(name)
	if _, ok := canonical[name]; ok {
		return true
	}
	_, out := modelDAG.out[c]
	_, in := modelDAG.in[c]
	_, fr := friendly[c]
	return out || in || fr
}

// ValidateModels reports an error naming the first model the checker does
// not know, so the CLI can refuse it before running anything.
func ValidateModels(names []string) error {
	for _, n := range names {
		if !knownModel(n) {
			return fmt.Errorf("unknown consistency model %q (known: %s)", n, strings.Join(Models(), ", "))
		}
	}
	return nil
}

// prohibitedBy is the set of anomalies that fail a run under the given
// models (none means strict-serializable): whatever those models and the
// models they imply proscribe, plus every anomaly implying one of those.
func prohibitedBy(names []string) (map[string]bool, error) {
	out, err := elleProhibitedBy(names)
	if err != nil {
		return nil, err
	}
	for _, a := range workbenchOnly {
		out[a] = true
	}
	return out, nil
}

// elleProhibitedBy is what Elle's table alone makes fail a run under the
// models.
func elleProhibitedBy(names []string) (map[string]bool, error) {
	if len(names) == 0 {
		names = []string{DefaultModel}
	}
	if err := ValidateModels(names); err != nil {
		return nil, err
	}
	var cs []string
	for _, n := range names {
		cs = append(cs, canon(n))
	}
	var direct []string
	for m := range reach(modelDAG.out, cs) {
		direct = append(direct, proscribeDAG.out[m]...)
	}
	return reach(anomalyDAG.in, direct), nil
}

// workbenchOnly anomalies are not Elle's: a read of a value nobody wrote
// (Elle's rw-register ignores it, its list-append refuses the history) and
// a value written twice, which breaks the generator's promise that writes
// are unique (Elle refuses the history). The workbench fails the run on
// them under every model; where Elle would accept the run they are strict
// checks (strict.go).
var workbenchOnly = []string{GarbageRead, DuplicateW}

// boundary says which models the anomalies found rule out: "not" holds the
// weakest such models, "also-not" the stronger ones they drag along, by
// Elle's friendly names.
func boundary(found []string) (not, alsoNot []string) {
	impossible := impossibleModels(found)
	for m := range impossible {
		weakest := true
		for w := range reach(modelDAG.out, []string{m}) {
			if w != m && impossible[w] {
				weakest = false
				break
			}
		}
		if weakest {
			not = append(not, friendlyName(m))
		} else {
			alsoNot = append(alsoNot, friendlyName(m))
		}
	}
	sort.Strings(not)
	sort.Strings(alsoNot)
	return dedup(not), dedup(alsoNot)
}

func dedup(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// impossibleModels is the set of (canonical) models the anomalies rule
// out: those proscribing an anomaly they imply, and every stronger model.
func impossibleModels(found []string) map[string]bool {
	var direct []string
	for a := range impliedBy(found) {
		direct = append(direct, proscribeDAG.in[a]...)
	}
	return reach(modelDAG.in, direct)
}

// needsEdges reports whether the reportable anomalies ask for process or
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
