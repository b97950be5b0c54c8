package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/registry"
)

// writeLinearizability stores the workload's picture of a failed run next
// to its results (lin-kv: porcupine's view, so "cannot be linearized" comes
// with a picture of where). It returns the file's path, or "" when there
// is nothing to draw. Call it before the report, which links the file.
func writeLinearizability(dir, workloadName string, h history.History, res checker.Result) (string, error) {
	w, ok := registry.Lookup(workloadName)
	if !ok || w.Picture == nil || res.Valid() != checker.Invalid {
		return "", nil
	}
	var b bytes.Buffer
	n, err := w.Picture(h, &b)
	if err != nil || n == 0 {
		return "", err
	}
	path := filepath.Join(dir, w.PictureFile)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", w.PictureFile, err)
	}
	return path, nil
}
