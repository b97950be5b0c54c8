package network

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
)

// JournalFile streams the journal to disk as the run goes, in the format
// WriteJournal writes (a JSON array, one event per line), so the journal
// costs no memory however long the run: a run at 1000 ops/s sends ~4000
// events a second. What the run needs of the journal afterwards is kept
// as it goes by: the events of the first messages, for the report's
// message diagram, and whatever the observer counts (the :net result).
type JournalFile struct {
	path string

	mu      sync.Mutex
	f       *os.File
	w       *bufio.Writer
	line    []byte
	n       int64 // events written
	err     error // first write error; later events are only counted
	observe func(Event)
	sample  int
	sampled map[int64]bool
	events  []Event
}

// sampleBody bounds the body kept in a sampled event: the diagram shows a
// few hundred characters of it on hover, and a hostile node's message can
// be megabytes.
const sampleBody = 2048

// CreateJournal creates path and starts the JSON array. sample is how many
// messages (by send order) keep their events for Sample; observe, if not
// nil, sees every event (e.g. to count it for the :net result).
func CreateJournal(path string, sample int, observe func(Event)) (*JournalFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	j := &JournalFile{path: path, f: f, w: bufio.NewWriterSize(f, 256<<10), sample: sample, sampled: map[int64]bool{}, observe: observe}
	j.w.WriteString("[")
	return j, nil
}

// Add appends one event. The network calls it under its own lock, so
// events land in the file in journal order.
func (j *JournalFile) Add(e Event) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.w == nil {
		return // closed: what the run has read back must not change
	}
	if j.observe != nil {
		j.observe(e)
	}
	if e.Kind == Send && len(j.sampled) < j.sample {
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
	j.line = appendEvent(j.line[:0], e, j.n == 0)
	j.n++
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

// Close ends the array and closes the file; it returns the first error
// met while writing.
func (j *JournalFile) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.w == nil {
		return j.err
	}
	if j.err == nil {
		j.w.WriteString("\n]\n")
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
func (j *JournalFile) Sample() []Event {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]Event(nil), j.events...)
}

// record journals one event, whose body the caller has already cut to
// what the journal keeps (journalBody, outside the lock): to the journal
// file when the network has one, else in memory. n.mu must be held.
func (n *Network) record(e Event) {
	if n.cfg.Journal != nil {
		n.cfg.Journal.Add(e)
		return
	}
	n.journal = append(n.journal, e)
}

// WriteJournal writes a journal as a JSON array, one event per line,
// without re-validating message bodies (they were checked when sent), so
// large journals are written quickly.
func WriteJournal(w io.Writer, journal []Event) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	var line []byte
	bw.WriteString("[")
	for i, e := range journal {
		line = appendEvent(line[:0], e, i == 0)
		if _, err := bw.Write(line); err != nil {
			return fmt.Errorf("write journal: %w", err)
		}
	}
	bw.WriteString("\n]\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	return nil
}

// appendEvent appends one journal line (with its leading comma unless it
// is the first).
func appendEvent(line []byte, e Event, first bool) []byte {
	if !first {
		line = append(line, ',')
	}
	line = append(line, "\n{\"kind\":\""...)
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
	if len(e.Msg.Body) == 0 {
		line = append(line, "null"...)
	} else {
		line = append(line, e.Msg.Body...)
	}
	return append(line, "}}"...)
}

// ReadJournal streams a journal file written by WriteJournal or
// JournalFile, calling fn for each event, without holding the whole
// journal in memory.
func ReadJournal(r io.Reader, fn func(Event) error) error {
	d := json.NewDecoder(bufio.NewReaderSize(r, 256<<10))
	tok, err := d.Token()
	if err != nil {
		return fmt.Errorf("read journal: %w", err)
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '[' {
		return fmt.Errorf("read journal: not a JSON array")
	}
	for i := 0; d.More(); i++ {
		var e Event
		if err := d.Decode(&e); err != nil {
			return fmt.Errorf("read journal: event %d: %w", i, err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if _, err := d.Token(); err != nil {
		return fmt.Errorf("read journal: %w", err)
	}
	return nil
}

// Backlog is how many messages wait in id's inbox (0 for a non-member).
func (n *Network) Backlog(id string) int {
	msgs, _ := n.Queued(id)
	return msgs
}

// Queued is how many messages, and how many bytes of bodies, wait in id's
// inbox (zero for a non-member): what lets a node's reader refuse to queue
// without bound for a receiver that does not keep up (see
// process.maxBacklog and maxBacklogBytes).
func (n *Network) Queued(id string) (msgs int, bytes int64) {
	n.mu.Lock()
	in := n.inboxes[id]
	n.mu.Unlock()
	if in == nil {
		return 0, 0
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.q), in.bytes
}

// QueuedBytes is the bytes of bodies waiting in every inbox together.
func (n *Network) QueuedBytes() int64 { return n.queuedBytes.Load() }
