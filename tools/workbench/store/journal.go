package store

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/glomers/glomers/tools/workbench/network"
)

// JournalFile streams the network journal to the run directory as the run
// goes, one event per line (JSON lines), so the journal costs no memory
// however long the run (a run at 1000 ops/s sends ~4000 events a second),
// and a run killed at any moment leaves a file whose every complete line
// is an event. What the run needs of the journal afterwards is kept as it
// goes by: the events of the first messages, for the report's message
// diagram, and whatever the observer counts (the :net result).
type JournalFile struct {
	path string

	mu      sync.Mutex
	f       *os.File
	w       *bufio.Writer
	line    []byte
	err     error // first write error; later events are only counted
	observe func(network.Event)
	sample  int
	sampled map[int64]bool
	events  []network.Event
}

// sampleBody bounds the body kept in a sampled event: the diagram shows a
// few hundred characters of it on hover, and a hostile node's message can
// be megabytes.
const sampleBody = 2048

// CreateJournal creates the journal file in dir. sample is how many
// messages (by send order) keep their events for Sample; observe, if not
// nil, sees every event (e.g. to count it for the :net result).
func CreateJournal(dir string, sample int, observe func(network.Event)) (*JournalFile, error) {
	path := filepath.Join(dir, JournalName)
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return &JournalFile{path: path, f: f, w: bufio.NewWriterSize(f, 256<<10), sample: sample, sampled: map[int64]bool{}, observe: observe}, nil
}

// Add appends one event. The network calls it under its own lock, so
// events land in the file in journal order.
func (j *JournalFile) Add(e network.Event) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.w == nil {
		return // closed: what the run has read back must not change
	}
	if j.observe != nil {
		j.observe(e)
	}
	if e.Kind == network.Send && len(j.sampled) < j.sample {
		j.sampled[e.Msg.ID] = true
	}
	if j.sampled[e.Msg.ID] {
		s := e
		s.Msg.Body = shortBody(e.Msg.Body)
		j.events = append(j.events, s)
	}
	if j.err != nil {
		return
	}
	j.line = appendEvent(j.line[:0], e)
	if _, err := j.w.Write(j.line); err != nil {
		j.err = fmt.Errorf("journal %s: %w", j.path, err)
	}
	if cap(j.line) > 1<<20 {
		j.line = nil
	}
}

// shortBody keeps a body for the diagram: whole if small, else only its
// type and how long it was.
func shortBody(body json.RawMessage) json.RawMessage {
	if len(body) <= sampleBody {
		return bytes.Clone(body)
	}
	var b struct {
		Type any `json:"type"`
	}
	json.Unmarshal(body, &b)
	out, _ := json.Marshal(map[string]any{"type": b.Type, "elided": fmt.Sprintf("%d bytes", len(body))})
	return out
}

// Flush writes what is buffered, so the file is at most one flush behind
// the run.
func (j *JournalFile) Flush() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.w == nil || j.err != nil {
		return j.err
	}
	if err := j.w.Flush(); err != nil {
		j.err = fmt.Errorf("journal %s: %w", j.path, err)
	}
	return j.err
}

// Close flushes and closes the file; it returns the first error met while
// writing.
func (j *JournalFile) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.w == nil {
		return j.err
	}
	if j.err == nil {
		if err := j.w.Flush(); err != nil {
			j.err = fmt.Errorf("journal %s: %w", j.path, err)
		}
	}
	if err := j.f.Close(); err != nil && j.err == nil {
		j.err = fmt.Errorf("journal %s: %w", j.path, err)
	}
	j.w = nil
	return j.err
}

// Sample returns the events of the first messages, in journal order.
func (j *JournalFile) Sample() []network.Event {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]network.Event(nil), j.events...)
}

// appendEvent appends one journal line. A body is one line already (a
// node's message is a line, a service's is marshalled by Go); one that is
// not is compacted, so that a line is always exactly one event.
func appendEvent(line []byte, e network.Event) []byte {
	line = append(line, "{\"kind\":\""...)
	line = append(line, e.Kind...)
	line = append(line, "\",\"time\":"...)
	line = strconv.AppendInt(line, int64(e.Time), 10)
	line = append(line, ",\"msg\":{\"id\":"...)
	line = strconv.AppendInt(line, e.Msg.ID, 10)
	line = append(line, ",\"src\":"...)
	line = appendJSONString(line, e.Msg.Src)
	line = append(line, ",\"dest\":"...)
	line = appendJSONString(line, e.Msg.Dest)
	line = append(line, ",\"body\":"...)
	switch {
	case len(e.Msg.Body) == 0:
		line = append(line, "null"...)
	case bytes.ContainsAny(e.Msg.Body, "\r\n"):
		var b bytes.Buffer
		if json.Compact(&b, e.Msg.Body) == nil {
			line = append(line, b.Bytes()...)
		} else {
			line = appendJSONString(line, string(e.Msg.Body))
		}
	default:
		line = append(line, e.Msg.Body...)
	}
	return append(line, "}}\n"...)
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// ReadJournal streams a journal, calling fn for each event, without
// holding the journal in memory. It reads the JSON lines JournalFile
// writes and the JSON array (one event per line) that earlier workbenches
// wrote. The Tail says whether the file ended in a partial event (a run
// killed mid-write); every complete event before it has been passed to fn.
func ReadJournal(r io.Reader, fn func(network.Event) error) (Tail, error) {
	return readRecords(r, JournalName, func(e *network.Event) error { return fn(*e) })
}
