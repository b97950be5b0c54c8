// Package process runs one node binary as an OS process wired to the
// simulated network, the way Maelstrom does: messages delivered to the node
// are written to its stdin one JSON object per line; each stdout line is
// validated as an envelope and sent on the network; stderr goes to the
// node's log file. The process is the first of its own PID namespace
// (contain.go), so teardown kills everything it spawned, setsid
// grandchildren included; where the kernel grants no namespace it falls
// back to a process group.
package process

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/glomers/glomers/tools/workbench/network"
)

// debugLines is how many recent stdout and stderr lines are kept for a
// crash report (Maelstrom keeps 32).
const debugLines = 32

// Config describes one node process.
type Config struct {
	ID   string   // node id, e.g. n0
	Bin  string   // binary; made absolute relative to the workbench's cwd
	Args []string // extra arguments appended to the command line
	Dir  string   // working directory; "" means os.TempDir(), as Maelstrom uses
	Net  *network.Network
	// LogFile receives the node's stderr; "" discards it.
	LogFile string
	// EchoStderr also logs each stderr line through Logger (--log-stderr).
	EchoStderr bool
	Logger     *slog.Logger
	// Grace is how long a node gets between SIGTERM and SIGKILL at
	// teardown. 0 means kill at once.
	Grace time.Duration
}

// Node is a running node process.
type Node struct {
	cfg   Config
	log   *slog.Logger
	cmd   *exec.Cmd
	inbox *network.Inbox
	stdin io.WriteCloser
	logF  *os.File
	outR  *os.File // stdout and stderr read ends, closed if draining stalls
	errR  *os.File
	// containment is how the node's process tree is held (contain.go).
	containment string

	cancel  context.CancelFunc
	ioDone  sync.WaitGroup // stdout, stderr and stdin goroutines
	exited  chan struct{}  // closed when the process has exited
	exitErr error          // set before exited is closed

	mu        sync.Mutex
	stopping  bool
	errs      []string // stdout protocol violations
	shed      int      // messages discarded over a queue bound
	shedBytes int64    // their bodies' bytes
	shedWhy   string   // why the first one was (receiver and bound)
	stdoutBuf ring
	stderrBuf ring
}

// Start registers cfg.ID on the network and launches the process.
func Start(cfg Config) (*Node, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	bin, err := filepath.Abs(cfg.Bin)
	if err != nil {
		return nil, fmt.Errorf("node %s: resolve binary %q: %w", cfg.ID, cfg.Bin, err)
	}
	dir := cfg.Dir
	if dir == "" {
		dir = os.TempDir()
	}

	n := &Node{cfg: cfg, log: log.With("node", cfg.ID), exited: make(chan struct{})}
	n.stdoutBuf.size, n.stderrBuf.size = debugLines, debugLines
	if cfg.LogFile != "" {
		if err := os.MkdirAll(filepath.Dir(cfg.LogFile), 0o755); err != nil {
			return nil, fmt.Errorf("node %s: log dir: %w", cfg.ID, err)
		}
		f, err := os.Create(cfg.LogFile)
		if err != nil {
			return nil, fmt.Errorf("node %s: log file: %w", cfg.ID, err)
		}
		n.logF = f
	}

	// Our own pipes rather than cmd's copying goroutines, so Wait only
	// waits for the process and the readers run until every holder of the
	// write end (including grandchildren) is gone.
	var pipes [6]*os.File // stdin r/w, stdout r/w, stderr r/w
	closePipes := func() {
		for _, f := range pipes {
			if f != nil {
				f.Close()
			}
		}
	}
	for i := 0; i < len(pipes); i += 2 {
		r, w, err := os.Pipe()
		if err != nil {
			closePipes()
			n.closeLog()
			return nil, fmt.Errorf("node %s: pipe: %w", cfg.ID, err)
		}
		pipes[i], pipes[i+1] = r, w
	}
	inR, inW, outR, outW, errR, errW := pipes[0], pipes[1], pipes[2], pipes[3], pipes[4], pipes[5]

	n.inbox = cfg.Net.Join(cfg.ID)
	cmd, sandbox, err := startContained(bin, cfg.Args, dir, inR, outW, errW)
	if err != nil {
		cfg.Net.Leave(cfg.ID)
		closePipes()
		n.closeLog()
		return nil, fmt.Errorf("node %s: start %s: %w", cfg.ID, bin, err)
	}
	inR.Close()
	outW.Close()
	errW.Close()
	n.cmd, n.stdin, n.outR, n.errR, n.containment = cmd, inW, outR, errR, sandbox
	n.log.Info("launched", "bin", bin, "args", cfg.Args, "pid", cmd.Process.Pid, "contained", sandbox)

	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() {
		n.exitErr = cmd.Wait()
		close(n.exited)
	}()
	n.ioDone.Add(3)
	go n.readStdout(outR)
	go n.readStderr(errR)
	go n.writeStdin(ctx)
	return n, nil
}

// ID is the node's id.
func (n *Node) ID() string { return n.cfg.ID }

// Pid is the OS process id (also the process group id).
func (n *Node) Pid() int { return n.cmd.Process.Pid }

// Errors returns the protocol violations seen on the node's stdout, and
// how many of its messages were discarded over maxBacklog.
func (n *Node) Errors() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	errs := append([]string(nil), n.errs...)
	if n.shed > 0 {
		errs = append(errs, fmt.Sprintf("node %s flooded the network: %d of its messages (%d bytes) were discarded because %s", n.cfg.ID, n.shed, n.shedBytes, n.shedWhy))
	}
	return errs
}

// Containment says how the node's process tree is held: in its own PID
// namespace ("pid-namespace", or "user+pid-namespace" without root), where
// nothing the node spawns outlives it, or only in a process group
// ("process-group"), which a setsid grandchild escapes.
func (n *Node) Containment() string { return n.containment }

// Done is closed as soon as the node's process exits, so a run can notice
// a crash while it happens rather than at teardown.
func (n *Node) Done() <-chan struct{} { return n.exited }

// Exited reports whether the process has already exited.
func (n *Node) Exited() bool {
	select {
	case <-n.exited:
		return true
	default:
		return false
	}
}

// CrashError describes a node that exited on its own before teardown.
type CrashError struct {
	Node   string
	Status string
	Stdout []string // last lines
	Stderr []string
	Log    string
}

func (e *CrashError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "node %s crashed (%s) before teardown", e.Node, e.Status)
	if len(e.Stdout) > 0 {
		fmt.Fprintf(&b, "; last stdout:\n%s", strings.Join(e.Stdout, "\n"))
	}
	if len(e.Stderr) > 0 {
		fmt.Fprintf(&b, "\nlast stderr:\n%s", strings.Join(e.Stderr, "\n"))
	}
	if e.Log != "" {
		fmt.Fprintf(&b, "\nfull stderr in %s", e.Log)
	}
	return b.String()
}

// Stop kills the node's whole process group, waits for its I/O to drain,
// and takes it off the network. If the node had already exited on its own,
// it returns a *CrashError with its last output lines.
func (n *Node) Stop() error {
	n.mu.Lock()
	if n.stopping {
		n.mu.Unlock()
		return nil
	}
	n.stopping = true
	n.mu.Unlock()

	crashed := n.Exited()
	pgid := n.cmd.Process.Pid
	if !crashed && n.cfg.Grace > 0 {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-n.exited:
		case <-time.After(n.cfg.Grace):
		}
	}
	// Always kill the group: the leader may be gone while children it
	// spawned still hold our pipes.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-n.exited
	n.stdin.Close()
	n.cancel()
	n.cfg.Net.Leave(n.cfg.ID)
	drained := make(chan struct{})
	go func() { n.ioDone.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(2 * time.Second):
		// Something outside the process group (a daemonised
		// grandchild) still holds the pipes; stop reading them.
		n.log.Warn("output pipes still open after kill; closing them")
		n.outR.Close()
		n.errR.Close()
		<-drained
	}
	n.closeLog()

	if !crashed {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	status := "exited"
	if n.exitErr != nil {
		status = n.exitErr.Error()
	} else {
		status = "exit status 0"
	}
	return &CrashError{
		Node:   n.cfg.ID,
		Status: status,
		Stdout: n.stdoutBuf.lines(),
		Stderr: n.stderrBuf.lines(),
		Log:    n.cfg.LogFile,
	}
}

func (n *Node) closeLog() {
	if n.logF != nil {
		n.logF.Close()
	}
}

// tearingDown reports whether Stop has begun: from then on the node is
// being killed and taken off the network.
func (n *Node) tearingDown() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stopping
}

// ring keeps the last size lines.
type ring struct {
	size int
	buf  []string
	next int
	full bool
}

func (r *ring) add(s string) {
	if len(r.buf) < r.size {
		r.buf = append(r.buf, s)
		return
	}
	r.buf[r.next] = s
	r.next = (r.next + 1) % r.size
	r.full = true
}

func (r *ring) lines() []string {
	if !r.full {
		return append([]string(nil), r.buf...)
	}
	return append(append([]string(nil), r.buf[r.next:]...), r.buf[:r.next]...)
}
