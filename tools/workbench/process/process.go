// Package process runs one node binary as an OS process wired to the
// simulated network, the way Maelstrom does: messages delivered to the node
// are written to its stdin one JSON object per line; each stdout line is
// validated as an envelope and sent on the network; stderr goes to the
// node's log file. The process runs in its own process group so teardown
// can kill everything it spawned.
package process

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/glomers/glomers/tools/workbench/network"
)

// debugLines is how many recent stdout and stderr lines are kept for a
// crash report (Maelstrom keeps 32).
const debugLines = 32

// maxLine bounds one stdout (or stderr) line. Maelstrom has no limit: its
// reader (BufferedReader.readLine on the JVM) holds a whole line, twice its
// size as UTF-16, and then parses it. Real messages are kilobytes (the
// largest legitimate ones, read_ok of every broadcast value or a kafka
// poll, stay well under a megabyte), so a longer line is treated like any
// other line Maelstrom cannot parse: a protocol violation that ends the
// node's output for the rest of the run. Only the first previewLen bytes of
// an over-long line are kept, so it costs no more than maxLine of memory
// however long it is; a valid line up to maxLine costs a few times its size
// while it is parsed.
const maxLine = 8 << 20

// maxBacklog bounds how many messages a node may have queued for one
// receiver. Maelstrom's queues are unbounded, so a node flooding a
// receiver that does not keep up (300k messages to itself while it is not
// reading its stdin) grows the harness without limit. A correct node never
// comes near this: a queue holds what arrives during one latency draw,
// thousands at most. Messages over the bound are discarded before they
// reach the network (no id, no journal entry) and reported as a node error;
// the verdict is the checkers' as ever.
const maxBacklog = 1 << 15

// maxBacklogBytes bounds the bytes of bodies a receiver may have queued,
// and maxQueuedBytes those of every receiver together, because a count
// alone lets a node queue 32768 lines of maxLine each: a node sending
// 7 MiB lines to a peer that stopped reading took the workbench to 1.3 GB
// in 20 s. A correct node's queue holds kilobytes to a few megabytes
// (a burst of read_ok replies of every broadcast value). A message over
// either bound is discarded and reported like one over maxBacklog. The
// check and the send are not one atomic step, so concurrent senders may
// overshoot by one message each (at most maxLine).
const (
	maxBacklogBytes = 32 << 20
	maxQueuedBytes  = 128 << 20
)

// previewLen is how much of a line is kept for crash reports and error
// messages.
const previewLen = 1000

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

// readStdout validates each line and sends it. On the first bad line it
// records the error and stops routing this node's output for the rest of
// the run, as Maelstrom's reader does; it keeps draining the pipe so the
// node does not block on a full pipe.
func (n *Node) readStdout(r *os.File) {
	defer n.ioDone.Done()
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	broken := false
	for {
		line, size, err := readLine(br)
		if len(line) > 0 || err == nil {
			n.mu.Lock()
			n.stdoutBuf.add(preview(line, size, previewLen))
			n.mu.Unlock()
			if !broken {
				var verr error
				if size > maxLine {
					verr = fmt.Errorf("line of %d bytes, longer than the workbench's limit of %d", size, maxLine)
				} else {
					verr = n.route(line)
				}
				if verr != nil && n.tearingDown() {
					// The pipe still held lines when the node was taken
					// off the network, or it was killed mid-line: what
					// it wrote is cut off by teardown, not its fault.
					// Maelstrom stops routing a node's output when it
					// stops the node, too.
					broken = true
					n.log.Info("ignoring a line written during teardown", "reason", verr.Error(), "line", preview(line, size, 200))
				} else if verr != nil {
					broken = true
					msg := fmt.Sprintf("node %s wrote an invalid line to stdout (%v): %s; ignoring the rest of its stdout", n.cfg.ID, verr, preview(line, size, 200))
					n.mu.Lock()
					n.errs = append(n.errs, msg)
					n.mu.Unlock()
					n.log.Error("malformed message from node", "reason", verr.Error(), "line", preview(line, size, 200))
				}
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrClosed) {
				n.log.Warn("stdout read failed", "err", err)
			}
			return
		}
	}
}

// tearingDown reports whether Stop has begun: from then on the node is
// being killed and taken off the network.
func (n *Node) tearingDown() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stopping
}

// readLine returns one line without its newline, and the line's full
// length. A line longer than maxLine is consumed whole, but only its first
// previewLen bytes are returned: the part already buffered is dropped as
// soon as the line turns out too long, so a 100 MiB line never costs more
// than maxLine.
func readLine(br *bufio.Reader) (line []byte, size int, err error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		full := err == nil
		if full {
			chunk = chunk[:len(chunk)-1]
		}
		switch {
		case size+len(chunk) <= maxLine:
			if buf == nil && (full || err != bufio.ErrBufferFull) {
				// The common case, a line inside the reader's buffer:
				// one copy, exactly sized.
				buf = bytes.Clone(chunk)
			} else {
				if len(buf)+len(chunk) > cap(buf) {
					// Double (append grows big slices by only 1.25x,
					// which allocates five times the line in all).
					grown := make([]byte, len(buf), min(max(2*cap(buf), len(buf)+len(chunk)), maxLine))
					copy(grown, buf)
					buf = grown
				}
				buf = append(buf, chunk...)
			}
		case size <= maxLine:
			// Just went over: keep a preview, let the rest go.
			keep := min(previewLen, len(buf))
			buf = append(bytes.Clone(buf[:keep]), chunk[:min(len(chunk), previewLen-keep)]...)
		}
		size += len(chunk)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && buf == nil && size == 0 {
			return nil, 0, err
		}
		return buf, size, err
	}
}

// preview is the first max bytes of a line as a string, marked when the
// line (size bytes in all) was longer; it copies only what it keeps.
func preview(line []byte, size, max int) string {
	if size <= max && len(line) == size {
		return string(line)
	}
	return string(line[:min(len(line), max)]) + fmt.Sprintf("… (%d bytes)", size)
}

// route validates one stdout line and sends it on the network. A send
// that fails (unknown src or dest, e.g. a reply to a client that has
// already been closed, or a message to "n99") is an error like a malformed
// line: Maelstrom's net/send! asserts both ends are registered, and the
// thrown AssertionError ends that node's stdout reader exactly as a parse
// error does (maelstrom process.clj io-thread: catch Throwable → nil), so
// every later message from the node is lost.
func (n *Node) route(line []byte) error {
	if len(bytes.TrimSpace(line)) == 0 {
		return errors.New("empty line")
	}
	src, dest, body, err := ParseEnvelope(line)
	if err != nil {
		return err
	}
	if src != n.cfg.ID {
		// Maelstrom routes it (net/send! only checks that src is a
		// member), so n1 can pass as n0 to clients and peers alike; a
		// node may only speak for itself.
		return fmt.Errorf("src %q is not this node's id %q", src, n.cfg.ID)
	}
	if why := overQueueBound(n.cfg.Net, dest, len(body)); why != "" {
		n.mu.Lock()
		if n.shed == 0 {
			n.shedWhy = why
			n.log.Error("queue bound reached; discarding the node's messages", "dest", dest, "why", why)
		}
		n.shed++
		n.shedBytes += int64(len(body))
		n.mu.Unlock()
		return nil
	}
	if _, err := n.cfg.Net.Send(src, dest, body); err != nil {
		return err
	}
	return nil
}

// overQueueBound says why a message of size bytes to dest would go over
// a queue bound (the first shed message's reason is reported), or "".
func overQueueBound(net *network.Network, dest string, size int) string {
	msgs, bytes := net.Queued(dest)
	switch {
	case msgs >= maxBacklog:
		return fmt.Sprintf("their receiver (first %s) already had %d messages queued", dest, maxBacklog)
	case bytes+int64(size) > maxBacklogBytes:
		return fmt.Sprintf("their receiver (first %s) already had %d bytes queued, and the bound is %d", dest, bytes, maxBacklogBytes)
	case net.QueuedBytes()+int64(size) > maxQueuedBytes:
		return fmt.Sprintf("the network already held %d bytes queued for all receivers (first when sending to %s), and the bound is %d", net.QueuedBytes(), dest, maxQueuedBytes)
	}
	return ""
}

// ParseEnvelope validates a node's output line the way Maelstrom's closed
// message schema does: a JSON object with string src, string dest, a body
// (any JSON), optionally an integer id, and no other keys.
func ParseEnvelope(line []byte) (src, dest string, body json.RawMessage, err error) {
	var fields map[string]json.RawMessage
	d := json.NewDecoder(bytes.NewReader(line))
	if err := d.Decode(&fields); err != nil {
		return "", "", nil, fmt.Errorf("not well-formed JSON: %w", err)
	}
	// Anything after the first JSON value is ignored, as Maelstrom's
	// parser (cheshire/Jackson parse-string) reads one value and stops.
	if fields == nil {
		return "", "", nil, errors.New("not a JSON object")
	}
	for k, v := range fields {
		switch k {
		case "src":
			if err := json.Unmarshal(v, &src); err != nil {
				return "", "", nil, fmt.Errorf("src is not a string: %s", truncateBytes(v, 60))
			}
		case "dest":
			if err := json.Unmarshal(v, &dest); err != nil {
				return "", "", nil, fmt.Errorf("dest is not a string: %s", truncateBytes(v, 60))
			}
		case "body":
			body = v
		case "id":
			if _, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64); err != nil {
				return "", "", nil, fmt.Errorf("id is not an integer: %s", truncateBytes(v, 60))
			}
		default:
			return "", "", nil, fmt.Errorf("unexpected top-level key %q (allowed: src, dest, body, id)", k)
		}
	}
	for _, k := range []string{"src", "dest", "body"} {
		if _, ok := fields[k]; !ok {
			return "", "", nil, fmt.Errorf("missing required key %q", k)
		}
	}
	// A string "null" would unmarshal into "" silently; reject it.
	if string(bytes.TrimSpace(fields["src"])) == "null" || string(bytes.TrimSpace(fields["dest"])) == "null" {
		return "", "", nil, errors.New("src and dest must be strings, not null")
	}
	// Maelstrom turns the body's keys into keywords, which fails for
	// anything but an object, and turns null into an empty map.
	switch b := bytes.TrimSpace(body); {
	case len(b) > 0 && b[0] == '{':
	case string(b) == "null":
		body = json.RawMessage("{}")
	default:
		return "", "", nil, fmt.Errorf("body is not a JSON object: %s", truncateBytes(b, 60))
	}
	var compact bytes.Buffer
	compact.Grow(len(body)) // one allocation, not a doubling series
	if err := json.Compact(&compact, body); err != nil {
		return "", "", nil, fmt.Errorf("body: %w", err)
	}
	return src, dest, compact.Bytes(), nil
}

func (n *Node) readStderr(r *os.File) {
	defer n.ioDone.Done()
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	var w *bufio.Writer
	if n.logF != nil {
		w = bufio.NewWriter(n.logF)
		defer w.Flush()
	}
	for {
		line, size, err := readLine(br)
		if len(line) > 0 || err == nil {
			p := preview(line, size, previewLen)
			n.mu.Lock()
			n.stderrBuf.add(p)
			n.mu.Unlock()
			if w != nil {
				w.Write(line)
				if size > len(line) {
					fmt.Fprintf(w, "… (line of %d bytes cut by the workbench)", size)
				}
				w.WriteByte('\n')
				if br.Buffered() == 0 {
					w.Flush()
				}
			}
			if n.cfg.EchoStderr {
				n.log.Info(p)
			}
		}
		if err != nil {
			return
		}
	}
}

// writeStdin delivers the node's inbox to its stdin, one line per message.
func (n *Node) writeStdin(ctx context.Context) {
	defer n.ioDone.Done()
	w := bufio.NewWriterSize(n.stdin, 64<<10)
	var line []byte
	for {
		msg, err := n.inbox.Recv(ctx)
		if err != nil {
			return
		}
		line = AppendDelivery(line[:0], msg)
		_, err = w.Write(line)
		if cap(line) > 1<<20 {
			line = nil // one big message must not pin its buffer for the run
		}
		if err != nil {
			n.drain(ctx)
			return
		}
		if err := w.Flush(); err != nil {
			// The node has exited or closed stdin; the crash (if any) is
			// reported at teardown. Keep draining so deliveries are not
			// left queued forever.
			n.drain(ctx)
			return
		}
	}
}

func (n *Node) drain(ctx context.Context) {
	for {
		if _, err := n.inbox.Recv(ctx); err != nil {
			return
		}
	}
}

// AppendDelivery appends the stdin line for a delivered message:
// {"id":…,"src":…,"dest":…,"body":…} and a newline.
func AppendDelivery(b []byte, m network.Message) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, m.ID, 10)
	b = append(b, `,"src":`...)
	b = appendJSONString(b, m.Src)
	b = append(b, `,"dest":`...)
	b = appendJSONString(b, m.Dest)
	b = append(b, `,"body":`...)
	if len(m.Body) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, m.Body...)
	}
	return append(b, "}\n"...)
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

// truncateBytes is the first n bytes of b as a string; it copies only
// those, however long b is.
func truncateBytes(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
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
