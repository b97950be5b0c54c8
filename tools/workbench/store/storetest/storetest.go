// Package storetest gives tests a private copy of a stored-runs tree.
// Under Bazel a test's data files are symlinks into the runfiles tree,
// which the store package (reading through an os.Root that refuses links
// out of the store, as serve must) rightly rejects; the copy holds
// regular files only.
package storetest

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Copy copies the tree at src into a new temporary directory, following
// symbolic links, and returns the copy's path.
func Copy(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		st, err := os.Stat(path) // follows a link
		if err != nil {
			return err
		}
		if st.IsDir() {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			if d.Type()&fs.ModeSymlink != 0 {
				// A linked directory: WalkDir does not enter it.
				return copyDir(path, target)
			}
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
	return dst
}

func copyDir(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		s, d := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		st, err := os.Stat(s)
		if err != nil {
			return err
		}
		if st.IsDir() {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
			if err := copyDir(s, d); err != nil {
				return err
			}
			continue
		}
		b, err := os.ReadFile(s)
		if err != nil {
			return err
		}
		if err := os.WriteFile(d, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
