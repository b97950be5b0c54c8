package main

import (
	"fmt"
	"os"
)

// enterUserDirectory makes the directory the user ran `bazel run` from the
// working directory. Bazel starts a `bazel run` binary inside its runfiles
// tree, where a relative --bin would not resolve and ./store would land among
// Bazel's outputs; Bazel names the user's directory in BUILD_WORKING_DIRECTORY.
// Outside `bazel run` (plain go build, bazel test) nothing changes.
func enterUserDirectory() error {
	dir := os.Getenv("BUILD_WORKING_DIRECTORY")
	if dir == "" {
		return nil
	}
	if err := os.Chdir(dir); err != nil {
		return fmt.Errorf("enter the directory bazel run was started from (BUILD_WORKING_DIRECTORY): %w", err)
	}
	return nil
}
