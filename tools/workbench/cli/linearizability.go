package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/store"
	"github.com/glomers/glomers/tools/workbench/workload/linkv"
)

// writeLinearizability stores porcupine's visualisation of a failed
// lin-kv run next to its results, so "cannot be linearized" comes with a
// picture of where. It returns the file's path, or "" when there is
// nothing to draw. Call it before the report, which links the file.
func writeLinearizability(dir, workloadName string, h history.History, res checker.Result) (string, error) {
	if workloadName != "lin-kv" || res.Valid() != checker.Invalid {
		return "", nil
	}
	var b bytes.Buffer
	n, err := linkv.Visualize(h, &b)
	if err != nil || n == 0 {
		return "", err
	}
	path := filepath.Join(dir, store.LinearizabilityName)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", store.LinearizabilityName, err)
	}
	return path, nil
}
