package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// enterUserDirectory makes the directory the user ran `bazel run` from the
// working directory. Bazel starts a `bazel run` binary inside its runfiles
// tree, where a relative --bin would not resolve and ./store would land among
// Bazel's outputs; Bazel names the user's directory in BUILD_WORKING_DIRECTORY.
// Only the binary Bazel started, in its own runfiles tree, moves: a workbench
// that a `bazel run` program starts in a directory of its choosing (the
// scoreboard does, one directory per run) inherits the variable and must
// stay where it was put. Outside `bazel run` nothing changes.
func enterUserDirectory() error {
	dir := os.Getenv("BUILD_WORKING_DIRECTORY")
	if dir == "" || !inOwnRunfiles() {
		return nil
	}
	if err := os.Chdir(dir); err != nil {
		return fmt.Errorf("enter the directory bazel run was started from (BUILD_WORKING_DIRECTORY): %w", err)
	}
	return nil
}

// runfilesDir is where Bazel puts this binary's runfiles tree (a variable
// so that tests can stand in for Bazel).
var runfilesDir = func() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	return exe + ".runfiles", nil
}

// inOwnRunfiles reports whether the working directory lies in this
// binary's runfiles tree, as it does when `bazel run` starts it.
func inOwnRunfiles() bool {
	rf, err := runfilesDir()
	if err != nil {
		return false
	}
	if r, err := filepath.EvalSymlinks(rf); err == nil {
		rf = r
	}
	wd, err := os.Getwd()
	if err != nil {
		return false
	}
	if w, err := filepath.EvalSymlinks(wd); err == nil {
		wd = w
	}
	return wd == rf || strings.HasPrefix(wd, rf+string(filepath.Separator))
}
