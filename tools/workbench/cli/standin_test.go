package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// standinScript is the stand-in Maelstrom launcher that CI runs the
// Maelstrom tests with (MAELSTROM=<copy of it>).
const standinScript = "../../toolchain/testdata/maelstrom-standin/maelstrom"

// standinOptions reads the option lists the stand-in refuses others by.
func standinOptions(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(standinScript)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, list := range []string{"MAELSTROM_VALUE_OPTIONS", "MAELSTROM_FLAG_OPTIONS"} {
		m := regexp.MustCompile(`(?s)` + list + `=\(([^)]*)\)`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("%s: no %s list", standinScript, list)
		}
		for _, o := range strings.Fields(string(m[1])) {
			out[o] = true
		}
	}
	return out
}

// The stand-in knows exactly the options the workbench has and does not
// mark as its own: Maelstrom's.
func TestStandinKnowsMaelstromsOptions(t *testing.T) {
	standin := standinOptions(t)
	var missing, extra []string
	seen := map[string]bool{}
	for _, f := range testFlags {
		names := []string{"--" + f.long}
		if f.short != "" {
			names = append(names, "-"+f.short)
		}
		for _, n := range names {
			seen[n] = true
			switch {
			case f.workbenchOnly && standin[n]:
				extra = append(extra, n)
			case !f.workbenchOnly && !standin[n]:
				missing = append(missing, n)
			}
		}
	}
	for n := range standin {
		if !seen[n] {
			extra = append(extra, n)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf("the stand-in lacks Maelstrom options %v and knows workbench-only or unknown ones %v", missing, extra)
	}
}

// Like Maelstrom (Jepsen's CLI), the stand-in answers an option it does
// not know with `Unknown option: "--seed"` and exit 254, before it looks
// for java or hands anything to the workbench.
func TestStandinRefusesWorkbenchOnlyOptions(t *testing.T) {
	script, err := filepath.Abs(standinScript)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"test", "-w", "broadcast", "--bin", "/x", "--seed", "2"}, `Unknown option: "--seed"` + "\n"},
		{[]string{"test", "-w", "echo", "--bin", "/x", "--delivery=ideal", "--node-env", "A=b"}, `Unknown option: "--delivery"` + "\n" + `Unknown option: "--node-env"` + "\n"},
		{[]string{"test", "-w", "echo", "--bin", "/x", "--maelstrom-verdicts"}, `Unknown option: "--maelstrom-verdicts"` + "\n"},
	} {
		cmd := exec.Command("bash", script)
		cmd.Args = append(cmd.Args, tc.args...)
		cmd.Env = append(os.Environ(), "GLOMERS_WORKBENCH=/nonexistent")
		out, err := cmd.Output()
		code := -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != 254 || string(out) != tc.want {
			t.Errorf("%v: exit %d, stdout %q; want 254 and %q", tc.args, code, out, tc.want)
		}
	}
	// Maelstrom's own options (and what follows --, which goes to the
	// node) pass the check: the script goes on to look for java.
	cmd := exec.Command("bash", script, "test", "-w", "echo", "--bin", "/x", "--node-count=1", "--time-limit", "5", "--log-stderr", "--", "--seed")
	cmd.Env = []string{"PATH=/nonexistent"}
	out, _ := cmd.CombinedOutput()
	if strings.Contains(string(out), "Unknown option") || !strings.Contains(string(out), "no java on PATH") {
		t.Errorf("Maelstrom's options refused or no java check:\n%s", out)
	}
}
