package store

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/glomers/glomers/tools/workbench/history"
)

// HistoryWriter streams a run's history to history.json and history.txt
// as operations happen, in exactly the format WriteHistory writes, so the
// history costs no memory during the run; the checkers read it back with
// LoadHistory when the run is over.
type HistoryWriter struct {
	dir    string
	jf, tf *os.File
	jw, tw *bufio.Writer
	err    error // first write error
}

// CreateHistory creates the history files (history.json and its
// history.txt view) in dir.
func CreateHistory(dir string) (*HistoryWriter, error) {
	jf, err := os.Create(filepath.Join(dir, HistoryName))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", HistoryName, err)
	}
	tf, err := os.Create(filepath.Join(dir, HistoryTextName))
	if err != nil {
		jf.Close()
		return nil, fmt.Errorf("%s: %w", HistoryTextName, err)
	}
	return &HistoryWriter{dir: dir, jf: jf, tf: tf, jw: bufio.NewWriterSize(jf, 64<<10), tw: bufio.NewWriterSize(tf, 64<<10)}, nil
}

// Add writes one op. It is not safe for concurrent use: the caller orders
// the ops (and gives them their indices). An op whose value cannot be
// encoded as JSON is written with the value's description instead, so the
// file stays loadable.
func (w *HistoryWriter) Add(op history.Op) {
	if w.err != nil {
		return
	}
	b, err := json.Marshal(op)
	if err != nil {
		bad := op
		bad.Value = fmt.Sprintf("unencodable value %#v: %v", op.Value, err)
		if op.Error != nil {
			bad.Error = fmt.Sprint(op.Error)
		}
		b, err = json.Marshal(bad)
		if err != nil {
			w.err = fmt.Errorf("%s: op %d: %w", HistoryName, op.Index, err)
			return
		}
	}
	w.jw.Write(b)
	w.jw.WriteByte('\n')
	w.tw.WriteString(HistoryLine(op))
	if err := w.tw.WriteByte('\n'); err != nil {
		w.err = fmt.Errorf("%s: %w", HistoryTextName, err)
	}
}

// Flush writes what is buffered, so the files on disk are at most one
// flush behind the run (and most of a killed run's history survives).
func (w *HistoryWriter) Flush() error {
	if w.jf == nil || w.err != nil {
		return w.err
	}
	if err := errors.Join(w.jw.Flush(), w.tw.Flush()); err != nil {
		w.err = fmt.Errorf("write history in %s: %w", w.dir, err)
	}
	return w.err
}

// Close flushes and closes both files and returns the first error.
func (w *HistoryWriter) Close() error {
	if w.jf == nil {
		return w.err
	}
	errs := []error{w.err, w.jw.Flush(), w.tw.Flush(), w.jf.Close(), w.tf.Close()}
	w.jf, w.tf = nil, nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("write history in %s: %w", w.dir, err)
	}
	return nil
}

// LoadHistory reads dir/history.json back, numbers decoded as
// json.Number (the checkers read them through history.Int/Float). ops is
// how many ops the file holds, if known, so the history is allocated once.
func LoadHistory(dir string, ops int) (history.History, error) {
	f, err := os.Open(filepath.Join(dir, HistoryName))
	if err != nil {
		return nil, fmt.Errorf("load history: %w", err)
	}
	defer f.Close()
	h, _, err := readHistory(f, ops)
	if err != nil {
		return nil, fmt.Errorf("load history: %w", err)
	}
	return h, nil
}
