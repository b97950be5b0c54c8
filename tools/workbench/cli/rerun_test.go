package cli

import (
	"bytes"
	"crypto/sha256"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glomers/glomers/tools/workbench/store"
	"github.com/glomers/glomers/tools/workbench/store/storetest"
)

// olderStore holds a run stored by the workbench before the journal became
// JSON lines (a JSON array then): what a user's store holds from before.
const olderStore = "../store/testdata/workbench-v1"

const olderEcho = "echo/20261208T001403.485Z"

// snapshot hashes every regular file under dir by its relative path.
func snapshot(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	files := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files[rel] = sha256.Sum256(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// Re-checking a run must leave every file it did not create as it was,
// byte for byte: Maelstrom's results.edn (Elle's whole report) and an
// older workbench's results are a user's evidence. What analyze writes
// goes under analysis/ only.
func TestAnalyzeLeavesEveryFileItDidNotCreate(t *testing.T) {
	for _, tc := range []struct{ store, run string }{
		{maelstromStore, "echo/20261202T032124.135+0000"},
		{maelstromStore, "broadcast/20261202T032146.864+0000"},
		{olderStore, olderEcho},
	} {
		t.Run(tc.run, func(t *testing.T) {
			dir := filepath.Join(storetest.Copy(t, tc.store), tc.run)
			before := snapshot(t, dir)
			for range 2 { // a second re-check must not touch the first's files either
				var stdout, stderr bytes.Buffer
				if code := runAnalyze([]string{"-t", dir}, &stdout, &stderr); code != ExitValid {
					t.Fatalf("analyze: exit %d\n%s%s", code, stdout.String(), stderr.String())
				}
				analysisDir(t, stdout.String(), dir)
				after := snapshot(t, dir)
				for name, sum := range before {
					if after[name] != sum {
						t.Errorf("%s changed or vanished", name)
					}
				}
				for name := range after {
					if _, old := before[name]; !old && !strings.HasPrefix(name, store.AnalysisName+string(filepath.Separator)) {
						t.Errorf("analyze created %s outside %s/", name, store.AnalysisName)
					}
				}
				before = after
			}
		})
	}
}

// A workbench killed mid-run leaves a history and a journal cut in the
// middle of a line and no results. analyze and compare read every
// complete line of such a run and say it was cut short.
func TestAKilledRunIsReadAndSaidToBeCutShort(t *testing.T) {
	root := storetest.Copy(t, olderStore)
	dir := filepath.Join(root, olderEcho)
	for _, name := range []string{"results.json", "results.edn", "index.html"} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	cut := func(name string, at float64) {
		path := filepath.Join(dir, name)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		n := int(float64(len(b)) * at)
		for b[n-1] == '\n' || b[n-1] == '}' { // mid-record
			n--
		}
		if err := os.WriteFile(path, b[:n], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cut("history.json", 0.6)
	cut("net-journal.json", 0.7)

	var stdout, stderr bytes.Buffer
	code := runAnalyze([]string{"-t", dir}, &stdout, &stderr)
	if code == ExitBadArgs || code == ExitCrash {
		t.Fatalf("analyze of a killed run: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{
		"cut short: no results.json",
		"cut short: history.json: ",
		"cut short: net-journal.json: ",
		":cut-short",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("analyze of a killed run does not say %q:\n%s", want, stdout.String())
		}
	}
	stdout.Reset()
	stderr.Reset()
	other := filepath.Join(storetest.Copy(t, olderStore), olderEcho)
	if code := runCompare([]string{dir, other}, &stdout, &stderr); code != ExitValid {
		t.Errorf("compare with a killed run: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if got := strings.Count(stdout.String(), "cut short: "); got != 2 {
		t.Errorf("compare says %d times that run A was cut short, want 2 (no results, history):\n%s", got, stdout.String())
	}
}
