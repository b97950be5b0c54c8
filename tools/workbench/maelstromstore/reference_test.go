//go:build reference

package maelstromstore

// The harness comparison: replays the commands of the real-Maelstrom runs
// in the workbench, over several seeds, and compares medians. The first
// set's stores are copied into testdata/; the second set's are read from
// shared/maelstrom-reference beside the repository (or MAELSTROM_REFERENCE),
// and a folder not there is skipped. It builds the workbench from this
// tree and each run's node from the commit its Maelstrom run used (a
// fixture that only this tree has, from this tree), with git and the go
// command, and takes about a minute per seed and run:
//
//	go test -tags reference -run TestWorkbenchMatchesMaelstrom -v -timeout 60m ./tools/workbench/maelstromstore/
//
// REFERENCE_SEEDS (default 5) sets the number of seeds: a broadcast run's
// msgs/op varies by several per cent from seed to seed. REFERENCE_RUNS
// (a comma-separated list of folder names) runs only those. Each folder
// logs a table: every figure, Maelstrom's, the workbench's median, and
// whether it is within tolerance.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/glomers/glomers/tools/workbench/analysis"
	"github.com/glomers/glomers/tools/workbench/store"
	"github.com/glomers/glomers/tools/workbench/workload/broadcast"
)

// referenceRun is one reference folder: the command and environment its
// README gives.
type referenceRun struct {
	dir string
	// binary is the node's package path in the repository; commit is the
	// commit it is built from ("" for this tree).
	binary, commit string
	env            []string
	args           []string
	// moreMsgsPerOp are servers msgs/op of further Maelstrom runs of the
	// same command that the folder's README reports without their files;
	// the reference figure is the median of all runs.
	moreMsgsPerOp []float64
	// shared: the folder is read from the shared reference stores, not
	// testdata/.
	shared bool
}

// The commits whose nodes made the Maelstrom runs
// (shared/maelstrom-reference/README.md): the comparison runs the same
// nodes, so that it measures the harnesses and not later changes to the
// nodes.
const (
	firstSetCommit  = "9c7b058"
	secondSetCommit = "16fae57"
)

var referenceRuns = []referenceRun{
	{"3d-latency-eager-1", "challenges/broadcast", firstSetCommit, []string{"GOSSIP_PRESET=latency-eager"},
		strings.Fields("-w broadcast --node-count 25 --time-limit 20 --rate 100 --latency 100"), []float64{3.01}, false},
	{"3b-latency-eager-1", "challenges/broadcast", firstSetCommit, []string{"GOSSIP_PRESET=latency-eager"},
		strings.Fields("-w broadcast --node-count 5 --time-limit 20 --rate 10"), nil, false},
	{"echo-1", "challenges/echo", firstSetCommit, nil, strings.Fields("-w echo --node-count 1 --time-limit 10"), nil, false},

	{"3d-latency-1", "challenges/broadcast", secondSetCommit, []string{"GOSSIP_PRESET=latency"},
		strings.Fields("-w broadcast --node-count 25 --time-limit 20 --rate 100 --latency 100"), nil, true},
	{"3e-messages-1", "challenges/broadcast", secondSetCommit, []string{"GOSSIP_PRESET=messages"},
		strings.Fields("-w broadcast --node-count 25 --time-limit 20 --rate 100 --latency 100"), nil, true},
	{"2-unique-ids-1000", "challenges/unique-ids", secondSetCommit, nil,
		strings.Fields("-w unique-ids --time-limit 30 --rate 1000 --node-count 3 --availability total --nemesis partition"), nil, true},
	{"5a-kafka-1000", "challenges/kafka", secondSetCommit, nil,
		strings.Fields("-w kafka --node-count 1 --concurrency 2n --time-limit 20 --rate 1000"), nil, true},
	{"linkv-stale", "tools/fixtures/linkv-stale", secondSetCommit, nil,
		strings.Fields("-w lin-kv --node-count 2 --concurrency 2n --time-limit 10 --rate 100"), nil, true},
	{"txn-dirty-write", "tools/fixtures/txn-dirty-write", secondSetCommit, nil,
		strings.Fields("-w txn-rw-register --node-count 2 --concurrency 2n --time-limit 10 --rate 1000 --consistency-models read-uncommitted --availability total --nemesis partition"), nil, true},
	{"list-append-async", "tools/fixtures/list-append-async", "", nil,
		strings.Fields("-w txn-list-append --node-count 3 --concurrency 2n --time-limit 10 --rate 100"), nil, true},
}

// Tolerances, as the fidelity issues set them.
const (
	msgsPerOpRel  = 0.05 // servers msgs/op within 5 %
	opP50AbsMS    = 10   // client-op latency p50 within 10 ms
	stableP50Rel  = 0.15 // stable and dissemination latency p50 within 15 % …
	stableP50Slop = 5    // … or 5 ms, where the reference is near 0
	opsRel        = 0.05 // client operations issued within 5 %
)

// sharedReference is where the second set of Maelstrom stores is.
func sharedReference() string {
	if d := os.Getenv("MAELSTROM_REFERENCE"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "..", "shared", "maelstrom-reference")
}

func TestWorkbenchMatchesMaelstrom(t *testing.T) {
	seeds := 5
	if s := os.Getenv("REFERENCE_SEEDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("REFERENCE_SEEDS=%q: want a positive integer", s)
		}
		seeds = n
	}
	var only map[string]bool
	if s := os.Getenv("REFERENCE_RUNS"); s != "" {
		only = map[string]bool{}
		for _, d := range strings.Split(s, ",") {
			only[strings.TrimSpace(d)] = true
		}
	}
	bin := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", bin+"/", "../../../tools/workbench").CombinedOutput(); err != nil {
		t.Fatalf("build the workbench: %v\n%s", err, out)
	}
	built := map[string]string{} // commit+binary -> path
	nodes := t.TempDir()
	node := func(t *testing.T, ref referenceRun) string {
		key := ref.commit + " " + ref.binary
		if p, ok := built[key]; ok {
			return p
		}
		src := "../../.."
		if ref.commit != "" {
			src = filepath.Join(nodes, "src-"+ref.commit)
			c := exec.Command("sh", "-c", `[ -d "$2" ] || { mkdir -p "$2" && git -C ../../.. archive "$1" | tar -x -C "$2"; }`, "sh", ref.commit, src)
			if out, err := c.CombinedOutput(); err != nil {
				t.Fatalf("%v: %v\n%s", c.Args, err, out)
			}
		}
		dst := filepath.Join(nodes, fmt.Sprintf("%s-%d", filepath.Base(ref.binary), len(built)))
		c := exec.Command("go", "build", "-o", dst, "./"+ref.binary)
		c.Dir = src
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("build %s at %q: %v\n%s", ref.binary, ref.commit, err, out)
		}
		built[key] = dst
		return dst
	}
	for _, ref := range referenceRuns {
		if only != nil && !only[ref.dir] {
			continue
		}
		t.Run(ref.dir, func(t *testing.T) {
			dir := filepath.Join("testdata", ref.dir)
			if ref.shared {
				dir = filepath.Join(sharedReference(), ref.dir)
				if _, err := os.Stat(filepath.Join(dir, "results.edn")); err != nil {
					t.Skipf("no reference store %s (set MAELSTROM_REFERENCE)", dir)
				}
			}
			nodeBin := node(t, ref)
			want := referenceFigures(t, dir)
			if len(ref.moreMsgsPerOp) > 0 {
				all := append([]float64{want.ServersMsgsPerOp}, ref.moreMsgsPerOp...)
				slices.Sort(all)
				if len(all)%2 == 0 {
					want.ServersMsgsPerOp = (all[len(all)/2-1] + all[len(all)/2]) / 2
				} else {
					want.ServersMsgsPerOp = all[len(all)/2]
				}
			}
			var runs []refFigures
			for seed := 1; seed <= seeds; seed++ {
				runs = append(runs, workbenchFigures(t, bin, nodeBin, ref, seed))
			}
			got := median(runs)
			t.Logf("Maelstrom: %s", want)
			for i, r := range runs {
				t.Logf("seed %d:    %s", i+1, r)
			}
			t.Logf("median:    %s", got)
			rows := compare(want, got, runs)
			var table strings.Builder
			fmt.Fprintf(&table, "%s (%d seed(s)):\n| figure | Maelstrom | workbench | tolerance | within |\n|---|---|---|---|---|\n", ref.dir, len(runs))
			for _, r := range rows {
				mark := "yes"
				if !r.within {
					mark = "NO"
					t.Errorf("%s: workbench %s vs Maelstrom's %s (tolerance %s)", r.figure, r.got, r.want, r.tolerance)
				}
				fmt.Fprintf(&table, "| %s | %s | %s | %s | %s |\n", r.figure, r.want, r.got, r.tolerance, mark)
			}
			t.Log("\n" + table.String())
		})
	}
}

// refFigures are Figures plus the number of client operations issued.
type refFigures struct {
	Figures
	Ops float64
}

func referenceFigures(t *testing.T, dir string) refFigures {
	t.Helper()
	res, h := loadReference(t, dir)
	wl, _ := res["workload"].(map[string]any)
	if _, ok := wl["stable-latencies"]; ok {
		// Maelstrom has no dissemination latency: recompute the workload
		// result with our checker, which reproduces its stable latencies
		// (TestBroadcastCheckerAgreesWithMaelstromOnItsOwnHistory).
		wl = broadcast.Check(h)
	}
	f, err := FiguresOf(res, wl, h)
	if err != nil {
		t.Fatal(err)
	}
	return refFigures{f, float64(analysis.InvokeCount(h))}
}

func workbenchFigures(t *testing.T, bin, node string, ref referenceRun, seed int) refFigures {
	t.Helper()
	work := t.TempDir()
	args := append([]string{"test", "--bin", node, "--seed", strconv.Itoa(seed)}, ref.args...)
	cmd := exec.Command(filepath.Join(bin, "workbench"), args...)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), ref.env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() > 2 {
			t.Fatalf("workbench %v: %v\n%s", args, err, out)
		}
	}
	latest, err := store.Resolve(filepath.Join(work, "store"), "-1")
	if err != nil {
		t.Fatal(err)
	}
	l, err := store.Load(latest)
	if err != nil {
		t.Fatal(err)
	}
	wl, _ := l.Results["workload"].(map[string]any)
	f, err := FiguresOf(l.Results, wl, l.History)
	if err != nil {
		t.Fatal(err)
	}
	return refFigures{f, float64(analysis.InvokeCount(l.History))}
}

func (f refFigures) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "valid %s, %.0f ops, servers msgs/op %.3f", f.Valid, f.Ops, f.ServersMsgsPerOp)
	for _, fn := range f.Fs() {
		fmt.Fprintf(&b, ", %s p50 %.1f ms", fn, f.OpP50[fn])
	}
	if f.StableP50 >= 0 {
		fmt.Fprintf(&b, ", stable p50 %.0f ms", f.StableP50)
	}
	if f.DisseminationP50 >= 0 {
		fmt.Fprintf(&b, ", dissemination p50 %.0f ms", f.DisseminationP50)
	}
	return b.String()
}

// median takes each figure's median over runs (the verdict: the most
// common one).
func median(runs []refFigures) refFigures {
	mid := func(get func(refFigures) float64) float64 {
		xs := make([]float64, len(runs))
		for i, r := range runs {
			xs[i] = get(r)
		}
		slices.Sort(xs)
		return xs[len(xs)/2]
	}
	count := map[string]int{}
	out := refFigures{Figures: Figures{OpP50: map[string]float64{}}}
	for _, r := range runs {
		count[r.Valid]++
		if count[r.Valid] > count[out.Valid] {
			out.Valid = r.Valid
		}
	}
	out.Ops = mid(func(f refFigures) float64 { return f.Ops })
	out.ServersMsgsPerOp = mid(func(f refFigures) float64 { return f.ServersMsgsPerOp })
	out.StableP50 = mid(func(f refFigures) float64 { return f.StableP50 })
	out.DisseminationP50 = mid(func(f refFigures) float64 { return f.DisseminationP50 })
	for _, fn := range runs[0].Fs() {
		out.OpP50[fn] = mid(func(f refFigures) float64 { return f.OpP50[fn] })
	}
	return out
}

// row is one figure of the comparison.
type row struct {
	figure, want, got, tolerance string
	within                       bool
}

// compare holds the workbench's medians (got, over runs) to Maelstrom's
// figures (want), one row per figure.
func compare(want, got refFigures, runs []refFigures) []row {
	rows := []row{{"verdict", want.Valid, got.Valid, "equal", got.Valid == want.Valid}}
	// A short run's msgs/op varies from seed to seed by more than the
	// tolerance (3b, ~200 ops: 1.61-1.92 over five seeds), and a reference
	// from one Maelstrom run is a single draw from the same spread. Such a
	// reference is matched when it lies within the workbench's seeds.
	lo, hi := got.ServersMsgsPerOp, got.ServersMsgsPerOp
	for _, r := range runs {
		lo, hi = min(lo, r.ServersMsgsPerOp), max(hi, r.ServersMsgsPerOp)
	}
	inSpread := relDiff(hi, lo) > msgsPerOpRel && lo <= want.ServersMsgsPerOp && want.ServersMsgsPerOp <= hi
	mpo := relDiff(got.ServersMsgsPerOp, want.ServersMsgsPerOp)
	rows = append(rows, row{"servers msgs/op", fmt.Sprintf("%.3f", want.ServersMsgsPerOp),
		fmt.Sprintf("%.3f (%+.1f %%)", got.ServersMsgsPerOp, 100*signedRel(got.ServersMsgsPerOp, want.ServersMsgsPerOp)),
		"±5 % (or within the seeds' spread)", mpo <= msgsPerOpRel || inSpread})
	rows = append(rows, row{"ops issued", fmt.Sprintf("%.0f", want.Ops),
		fmt.Sprintf("%.0f (%+.1f %%)", got.Ops, 100*signedRel(got.Ops, want.Ops)), "±5 %", relDiff(got.Ops, want.Ops) <= opsRel})
	for _, fn := range want.Fs() {
		d := got.OpP50[fn] - want.OpP50[fn]
		rows = append(rows, row{fn + " latency p50 (ms)", fmt.Sprintf("%.1f", want.OpP50[fn]),
			fmt.Sprintf("%.1f (%+.1f)", got.OpP50[fn], d), "±10 ms", abs(d) <= opP50AbsMS})
	}
	for _, q := range []struct {
		name      string
		want, got float64
	}{{"stable latency p50 (ms)", want.StableP50, got.StableP50}, {"dissemination p50 (ms)", want.DisseminationP50, got.DisseminationP50}} {
		if q.want < 0 {
			continue
		}
		d := q.got - q.want
		rows = append(rows, row{q.name, fmt.Sprintf("%.0f", q.want), fmt.Sprintf("%.0f (%+.0f)", q.got, d),
			"±15 % (or 5 ms)", abs(d) <= max(stableP50Slop, stableP50Rel*q.want)})
	}
	return rows
}

func signedRel(a, b float64) float64 {
	if b == 0 {
		return a
	}
	return (a - b) / b
}

func relDiff(a, b float64) float64 {
	if b == 0 {
		return abs(a)
	}
	return abs(a-b) / b
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
