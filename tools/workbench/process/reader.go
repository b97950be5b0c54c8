package process

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// What the node writes: stdout lines checked as envelopes and sent on the network
// (a violation ends the node's output, as in Maelstrom), stderr to its log file.

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

// truncateBytes is the first n bytes of b as a string; it copies only
// those, however long b is.
func truncateBytes(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}
