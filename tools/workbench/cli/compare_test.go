package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/glomers/glomers/tools/workbench/store/storetest"
)

func TestCompareTwoMaelstromRuns(t *testing.T) {
	store := storetest.Copy(t, maelstromStore)
	a := filepath.Join(store, "broadcast/20261202T032146.864+0000")
	b := filepath.Join(store, "echo/20261202T032124.135+0000")
	svg := filepath.Join(t.TempDir(), "cmp.svg")
	var out, errb bytes.Buffer
	if code := Main([]string{"compare", "--svg", svg, a, b}, &out, &errb); code != ExitValid {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{
		"A: " + a + " (valid)",
		"lein run test -w broadcast --bin ./broadcast --node-count 5 --time-limit 20 --rate 10",
		"B: " + b + " (valid)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// Figures side by side with the difference and whom it favours.
	for _, re := range []string{
		`(?m)^msgs/op \(servers\)\s+1\.8333\s+0\s+-1\.833 \(-100%\) \+$`,
		`(?m)^ops\s+204\s+49\s+-155 \(-76%\)$`,
		`(?m)^dissemination p95 \(ms\)\s+68\.614\s+—\s*$`, // Jepsen's quantile, as runs/figures_test.go restates it
		`(?m)^latency echo max \(ms\)\s+—\s+31\.253\s*$`,
	} {
		if !regexpMatch(re, out.String()) {
			t.Errorf("output does not match %s:\n%s", re, out.String())
		}
	}
	plot, err := os.ReadFile(svg)
	if err != nil || !strings.Contains(string(plot), `data-series="latency echo"`) {
		t.Errorf("--svg: %v\n%.300s", err, plot)
	}

	// Indexes among stored runs: -2 -1 are the two latest.
	root := t.TempDir()
	for _, src := range []string{a, b} {
		dst := filepath.Join(root, filepath.Base(filepath.Dir(src)), filepath.Base(src))
		if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
			t.Fatal(err)
		}
	}
	out.Reset()
	if code := Main([]string{"compare", "--store", root, "-2", "-1"}, &out, &errb); code != ExitValid ||
		!strings.Contains(out.String(), "A: "+filepath.Join(root, "echo")) || !strings.Contains(out.String(), "B: "+filepath.Join(root, "broadcast")) {
		t.Errorf("compare -2 -1: exit %d\n%s%s", code, out.String(), errb.String())
	}
	for _, args := range [][]string{{"compare", a}, {"compare", a, b, b}, {"compare", a, "/no/such/run"}, {"compare", "--frob", a, b}} {
		var out, errb bytes.Buffer
		if code := Main(args, &out, &errb); code != ExitBadArgs || strings.Count(errb.String(), "\n") != 1 || !strings.HasPrefix(errb.String(), "workbench: compare: ") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errb.String())
		}
	}
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }
