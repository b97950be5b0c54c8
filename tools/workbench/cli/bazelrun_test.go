package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMaelstromTestScriptKeepsTheStoreUnderBazelRun runs the
// maelstrom_test runner script as `bazel run` would (BUILD_WORKING_DIRECTORY
// set, runfiles resolved by a stand-in runfiles library) with a stand-in
// workbench that writes store/: the store must land in the user's working
// directory, not in a temporary one.
func TestMaelstromTestScriptKeepsTheStoreUnderBazelRun(t *testing.T) {
	script, err := filepath.Abs("../../maelstrom_test.sh")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(script); err != nil {
		t.Skip("runner script not available here:", err)
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	runfiles := t.TempDir()
	lib := filepath.Join(runfiles, "bazel_tools/tools/bash/runfiles")
	os.MkdirAll(lib, 0o755)
	// rlocation maps a runfiles path to the file under RUNFILES_DIR.
	os.WriteFile(filepath.Join(lib, "runfiles.bash"), []byte(`rlocation() { echo "$RUNFILES_DIR/$1"; }`+"\n"), 0o644)
	os.WriteFile(filepath.Join(runfiles, "workbench"), []byte("#!/bin/sh\nmkdir -p store/echo && echo \"$@\" > store/echo/args\n"), 0o755)
	os.WriteFile(filepath.Join(runfiles, "node"), []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(runfiles, "resultcheck"), []byte("#!/bin/sh\n"), 0o755)

	for _, tc := range []struct {
		name   string
		env    []string
		inUser bool
	}{
		{"bazel run", []string{"BUILD_WORKING_DIRECTORY="}, true},
		{"bazel test", []string{"TEST_TMPDIR=" + t.TempDir()}, false},
	} {
		user := t.TempDir()
		cmd := exec.Command("bash", script, "0", "workbench", "node", "resultcheck", "--", "-w", "echo")
		cmd.Dir = t.TempDir() // Bazel runs the script in the runfiles tree
		cmd.Env = append(os.Environ(), "RUNFILES_DIR="+runfiles, "MAELSTROM=")
		for _, e := range tc.env {
			if e == "BUILD_WORKING_DIRECTORY=" {
				e += user
			}
			cmd.Env = append(cmd.Env, e)
		}
		cmd.Env = append(cmd.Env, "TEST_UNDECLARED_OUTPUTS_DIR=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, out)
		}
		args, err := os.ReadFile(filepath.Join(user, "store/echo/args"))
		if tc.inUser != (err == nil) {
			t.Errorf("%s: store in the working directory: %v (want %v)\n%s", tc.name, err == nil, tc.inUser, out)
		}
		if tc.inUser && !strings.Contains(string(args), "test --bin "+runfiles+"/node -w echo") {
			t.Errorf("%s: workbench ran with %q", tc.name, args)
		}
	}
}
