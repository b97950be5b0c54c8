package runner

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/workload"
	"github.com/glomers/glomers/tools/workbench/workload/echo"
)

// lockedBuffer is a bytes.Buffer safe for the progress goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// noFinalOps is a final phase with nothing to do, so the run has a
// recovery wait.
type noFinalOps struct{}

func (noFinalOps) Next(workload.GenContext) (history.Op, workload.Status) {
	return history.Op{}, workload.Exhausted
}
func (noFinalOps) Update(workload.GenContext, history.Op, history.Op) {}

// TestProgressLinesWhenNotATerminal: with ProgressLines the status comes
// as whole lines (no carriage returns), with ops, ok, errors and the time
// against the limit, and goes on through the recovery wait.
func TestProgressLinesWhenNotATerminal(t *testing.T) {
	old := progressLineEvery
	progressLineEvery = 300 * time.Millisecond
	defer func() { progressLineEvery = old }()

	cfg := hostileConfig(t, 2*time.Second, "ok")
	w := *echo.Workload
	w.NewFinalGenerator = func(workload.Options, *rand.Rand, workload.Generator) workload.Generator { return noFinalOps{} }
	cfg.Workload = &w
	cfg.RecoveryWait = 1500 * time.Millisecond
	var out lockedBuffer
	cfg.Progress, cfg.ProgressLines = &out, true
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if strings.Contains(text, "\r") {
		t.Errorf("progress lines hold carriage returns: %q", text)
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) < 5 {
		t.Fatalf("%d progress lines in a 3.5 s run at one per 0.3 s:\n%s", len(lines), text)
	}
	for _, want := range []string{"progress: ", "s/2s  ops ", "  ok ", "  errors 0 (fail 0, info 0)"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("first progress line %q lacks %q", lines[0], want)
		}
	}
	if !strings.Contains(text, "recovery, then final reads") {
		t.Errorf("no progress during the recovery wait:\n%s", text)
	}
}
