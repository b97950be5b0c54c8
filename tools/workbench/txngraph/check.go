// Package txngraph judges Maelstrom's transactional histories
// (txn-rw-register and txn-list-append) the way Elle, Maelstrom's checker,
// does, and names what it finds as Elle names it: it infers dependencies
// between transactions from the values they read and wrote (values are
// unique per key), looks for cycles in that dependency graph and for
// non-cycle anomalies (aborted and intermediate reads, internal
// inconsistency, lost updates, and for lists incompatible orders,
// duplicate elements and dirty updates), and decides from the consistency
// models under test, by Elle's table of which model proscribes what, which
// of them fail the run. docs/anomalies.md describes the names.
//
// Version orders come only from what the history proves. For registers:
// the initial nil precedes every version, and a transaction that read v
// and then wrote v' of the same key puts v before v' (writes follow
// reads); for lists, the longest read of a key. From them come ww (T2
// overwrote T1's version), wr (T2 read T1's version) and rw (T2 overwrote
// the version T1 read) edges; strict models add realtime order, session
// models process order. Each strongly connected component (Tarjan) is
// searched for each class of cycle in Elle's order, breadth-first, and a
// cycle is named by its edges as Elle's explainer names them.
package txngraph

import (
	"sort"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
)

// maxReported bounds the anomalies listed per type; all are counted.
const maxReported = 32

type kv struct{ k, v int64 }

// write is one write micro-op, indexed by the key and value it wrote.
type write struct {
	txn          int // index into analysis.txns
	intermediate bool
}

type analysis struct {
	txns      []Txn
	ok        []int   // the ok txns (indices into txns)
	vtx       []int   // graph vertex -> index into txns
	vertexOf  []int32 // txn index -> vertex, or -1
	extReads  []map[int64]version
	extWrites []map[int64]int64

	writes    map[kv][]write
	anomalies map[string][]any
	counts    map[string]int
	g         *graph
	lists     bool // list-append: values are list elements
	// preferRead, if set, picks among a key's tied longest reads (tests
	// use it to replay Elle's choices).
	preferRead func(k int64, read []int64) bool
}

func (a *analysis) add(typ string, anomaly any) {
	a.counts[typ]++
	if len(a.anomalies[typ]) < maxReported {
		a.anomalies[typ] = append(a.anomalies[typ], anomaly)
	}
}

// Check judges a txn-rw-register history under the given consistency
// models (none means strict-serializable). The result has Elle's keys
// (valid?, anomaly-types, anomalies, not, also-not) plus anomaly-counts
// and first-error.
//
// Anomaly types Elle does not report under these models (see strict.go)
// count too unless strictness is checker.AsMaelstrom; they are listed under
// "strict" (or "strict-not-judged").
func Check(h history.History, modelNames []string, strictness ...checker.Strictness) checker.Result {
	prohibited, err := prohibitedBy(modelNames)
	if err != nil {
		return checker.Result{"valid?": checker.Unknown, "error": err.Error()}
	}
	txns, parseErrs := Txns(h)
	a := &analysis{txns: txns, anomalies: map[string][]any{}, counts: map[string]int{}}
	a.index()
	a.checkReads()
	a.checkDuplicates()
	a.checkLostUpdates("w")
	versionEdges := a.versionOrder()
	process, realtime := needsEdges(prohibited)
	a.buildGraph(versionEdges, process, realtime)
	timeouts := a.findCycles()
	// Maelstrom's txn-rw-register wraps Elle's checker to drop
	// cycle-search-timeout from the anomaly types (searches there time
	// out often and concern G2 only); the timeouts stay in the result.
	return a.result(prohibited, parseErrs, timeouts, false, strictTypes(modelNames), strictnessOf(strictness))
}

func strictnessOf(s []checker.Strictness) checker.Strictness {
	if len(s) > 0 {
		return s[len(s)-1]
	}
	return checker.Strict
}

// index computes each ok txn's external reads (the first access of a key,
// when it is a read) and external writes (the last write of each key), and
// indexes every write of every txn by key and value.
func (a *analysis) index() {
	a.vertexOf = make([]int32, len(a.txns))
	a.writes = map[kv][]write{}
	for i, t := range a.txns {
		a.vertexOf[i] = -1
		if t.Type == history.OK {
			a.vertexOf[i] = int32(len(a.ok))
			a.ok = append(a.ok, i)
		}
		last := map[int64]int{} // key -> position of its last write
		for j, m := range t.Mops {
			if m.F == "w" {
				last[m.Key] = j
			}
		}
		for j, m := range t.Mops {
			if m.F == "w" {
				a.writes[kv{m.Key, m.Value}] = append(a.writes[kv{m.Key, m.Value}], write{txn: i, intermediate: last[m.Key] != j})
			}
		}
	}
	a.vtx = a.ok
	a.extReads = make([]map[int64]version, len(a.ok))
	a.extWrites = make([]map[int64]int64, len(a.ok))
	for vtx, i := range a.ok {
		reads, writes := map[int64]version{}, map[int64]int64{}
		touched := map[int64]bool{}
		for _, m := range a.txns[i].Mops {
			if m.F == "r" && !touched[m.Key] && m.Raw == nil {
				reads[m.Key] = version{m.Value, m.Nil}
			}
			touched[m.Key] = true
			if m.F == "w" {
				writes[m.Key] = m.Value
			}
		}
		a.extReads[vtx], a.extWrites[vtx] = reads, writes
	}
}

func (a *analysis) checkDuplicates() {
	var dups []kv
	for k, ws := range a.writes {
		if len(ws) > 1 {
			dups = append(dups, k)
		}
	}
	sort.Slice(dups, func(i, j int) bool {
		return dups[i].k < dups[j].k || dups[i].k == dups[j].k && dups[i].v < dups[j].v
	})
	for _, d := range dups {
		var writers []any
		for _, w := range a.writes[d] {
			writers = append(writers, a.renderTxn(w.txn))
		}
		a.add(DuplicateW, map[string]any{"key": d.k, "value": d.v, "writers": writers})
	}
}
