package store

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Tail is how a line-framed run file ended. A run killed mid-write leaves
// a last record cut short; the readers take every complete record before
// it and report the rest here instead of failing.
type Tail struct {
	File     string
	Complete int   // records read
	CutAt    int64 // byte offset of a partial last record; -1: the file ended cleanly
}

// CutShort reports whether the file ended in a partial record.
func (t Tail) CutShort() bool { return t.CutAt >= 0 }

func (t Tail) String() string {
	if !t.CutShort() {
		return fmt.Sprintf("%s: %d records", t.File, t.Complete)
	}
	return fmt.Sprintf("%s: %d complete records, then a partial one at byte %d (ignored)", t.File, t.Complete, t.CutAt)
}

// readRecords decodes a file of JSON values of type T, one per line, and
// hands each to use. It also reads a JSON array of them (the journal
// format of earlier workbenches). Numbers decode as json.Number. A record
// cut off by the end of the file ends the read without error, noted in the
// Tail; any other malformed record is an error naming its place.
func readRecords[T any](r io.Reader, file string, use func(*T) error) (Tail, error) {
	t := Tail{File: file, CutAt: -1}
	br := bufio.NewReaderSize(r, 256<<10)
	first, err := peekNonSpace(br)
	if errors.Is(err, io.EOF) {
		return t, nil
	}
	if err != nil {
		return t, fmt.Errorf("%s: %w", file, err)
	}
	d := json.NewDecoder(br)
	d.UseNumber()
	array := first == '['
	if array {
		if _, err := d.Token(); err != nil {
			return t, fmt.Errorf("%s: %w", file, err)
		}
	}
	for {
		start := d.InputOffset()
		if array && !d.More() {
			if _, err := d.Token(); err != nil {
				t.CutAt = start // the array was never closed
			}
			return t, nil
		}
		var v T
		err := d.Decode(&v)
		switch {
		case err == io.EOF && !array:
			return t, nil
		case errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF:
			t.CutAt = start
			return t, nil
		case err != nil:
			return t, fmt.Errorf("%s: record %d (byte %d): %w", file, t.Complete+1, start, err)
		}
		if err := use(&v); err != nil {
			return t, err
		}
		t.Complete++
	}
}

// peekNonSpace skips white space and returns the next byte unread.
func peekNonSpace(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.Peek(1)
		if err != nil {
			return 0, err
		}
		switch b[0] {
		case ' ', '\t', '\n', '\r':
			br.ReadByte()
		default:
			return b[0], nil
		}
	}
}
