// Package hostiletest finds or builds the hostile fixture node
// (tools/workbench/process/testdata/hostile) for the process and runner
// tests.
package hostiletest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Binary returns the hostile node's path: under Bazel the data dependency
// named by HOSTILE_BIN (relative to the runfiles root), else a build of
// pkgDir (the fixture's directory, relative to the calling test) into dir
// with the go command. "" without error means neither is available.
func Binary(dir, pkgDir string) (string, error) {
	if bin := os.Getenv("HOSTILE_BIN"); bin != "" {
		if srcdir := os.Getenv("TEST_SRCDIR"); srcdir != "" && !filepath.IsAbs(bin) {
			bin = filepath.Join(srcdir, os.Getenv("TEST_WORKSPACE"), bin)
		}
		return bin, nil
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", nil
	}
	bin := filepath.Join(dir, "hostile")
	cmd := exec.Command(goBin, "build", "-o", bin, pkgDir)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build hostile node %s: %w", pkgDir, err)
	}
	return bin, nil
}

// Main is a TestMain body: it finds or builds the hostile node into a
// temporary directory, stores its path in *bin, runs the tests and
// returns their exit code (1 if the node could not be built).
func Main(m *testing.M, pkgDir string, bin *string) int {
	dir, err := os.MkdirTemp("", "hostile")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if *bin, err = Binary(dir, pkgDir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}
