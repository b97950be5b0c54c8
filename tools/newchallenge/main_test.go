package main

import (
	"bytes"
	"go/format"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glomers/glomers/tools/flyio"
)

func TestPlanTakesFlyIOsCommandLine(t *testing.T) {
	for _, tc := range []struct {
		workload, id string
		want         string
	}{
		{"echo", "", "--node-count 1 --time-limit 10"},
		{"broadcast", "", "--node-count 1 --rate 10 --time-limit 20"},
		{"broadcast", "3b", "--node-count 5 --rate 10 --time-limit 20"},
	} {
		c, err := plan("mine", tc.workload, tc.id)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.workload, tc.id, err)
		}
		if got := strings.Join(c.Args, " "); got != tc.want {
			t.Errorf("%s %s: args %q, want %q", tc.workload, tc.id, got, tc.want)
		}
	}
}

// A workload no Fly.io challenge runs gets a short three-node run.
func TestPlanWithoutAFlyIOChallenge(t *testing.T) {
	inTable := map[string]bool{}
	for _, c := range flyio.Challenges() {
		inTable[c.Workload] = true
	}
	for w := range requestTypes {
		if inTable[w] {
			continue
		}
		c, err := plan("mine", w, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(c.Args, " "); got != "--node-count 3 --time-limit 10" {
			t.Errorf("%s: args %q", w, got)
		}
		return
	}
	t.Skip("every workload has a Fly.io challenge")
}

func TestPlanRefusesBadInput(t *testing.T) {
	for _, tc := range []struct{ name, workload, id, want string }{
		{"Mine", "echo", "", "lower-case"},
		{"../x", "echo", "", "lower-case"},
		{"mine", "echoes", "", `unknown workload "echoes"`},
		{"mine", "echo", "3b", "runs workload broadcast, not echo"},
		{"mine", "echo", "9z", `no Fly.io challenge "9z"`},
	} {
		if _, err := plan(tc.name, tc.workload, tc.id); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("plan(%q, %q, %q) = %v, want an error containing %q", tc.name, tc.workload, tc.id, err, tc.want)
		}
	}
}

// TestWrittenFilesAreGofmtedAndTheTestRowIsThere writes every workload's
// scaffold into a scratch workspace: main.go is gofmt-clean Go on lib/node,
// stubs say which file to edit, and BUILD.bazel has the Maelstrom test row.
func TestWrittenFilesAreGofmtedAndTheTestRowIsThere(t *testing.T) {
	root := t.TempDir()
	os.Mkdir(filepath.Join(root, "challenges"), 0o755)
	for w := range requestTypes {
		name := "c-" + w
		c, err := plan(name, w, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.write(root); err != nil {
			t.Fatal(err)
		}
		src, err := os.ReadFile(filepath.Join(root, "challenges", name, "main.go"))
		if err != nil {
			t.Fatal(err)
		}
		if formatted, err := format.Source(src); err != nil || !bytes.Equal(formatted, src) {
			t.Errorf("%s: main.go is not gofmt-clean Go (%v):\n%s", w, err, src)
		}
		if !strings.Contains(string(src), `"github.com/glomers/glomers/lib/node"`) {
			t.Errorf("%s: main.go is not on lib/node", w)
		}
		for _, typ := range c.Types {
			if !strings.Contains(string(src), `n.Handle("`+typ+`"`) {
				t.Errorf("%s: no handler for %q", w, typ)
			}
		}
		if w != "echo" && !strings.Contains(string(src), "is not written yet (challenges/"+name+"/main.go)") {
			t.Errorf("%s: the stubs do not say which file to edit", w)
		}
		build, _ := os.ReadFile(filepath.Join(root, "challenges", name, "BUILD.bazel"))
		for _, want := range []string{
			`name = "` + name + `_lib"`,
			`importpath = "github.com/glomers/glomers/challenges/` + name + `"`,
			"maelstrom_test(",
			`workload = "` + w + `"`,
			`binary = ":` + name + `"`,
		} {
			if !strings.Contains(string(build), want) {
				t.Errorf("%s: BUILD.bazel lacks %s:\n%s", w, want, build)
			}
		}
	}
	c, _ := plan("c-echo", "echo", "")
	if _, err := c.write(root); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("writing over an existing challenge: err = %v", err)
	}
}

func TestRunWritesIntoTheBazelWorkspace(t *testing.T) {
	root := t.TempDir()
	os.Mkdir(filepath.Join(root, "challenges"), 0o755)
	t.Setenv("BUILD_WORKSPACE_DIRECTORY", root)
	var out, errs bytes.Buffer
	if code := run([]string{"mine", "echo"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	if _, err := os.Stat(filepath.Join(root, "challenges/mine/main.go")); err != nil {
		t.Error(err)
	}
	if !strings.Contains(out.String(), "tools/bazel test //challenges/mine:maelstrom_echo_test") {
		t.Errorf("output does not say how to test it:\n%s", out.String())
	}
	if code := run([]string{"mine"}, &out, &errs); code != 2 {
		t.Errorf("one argument: exit %d, want 2", code)
	}
}
