// Output: lines from every goroutine to stdout, whole, without making a
// small line wait behind a large one.

package node

import (
	"fmt"
	"io"
	"sync"
)

// Bounds of the output not yet written. A line of at most smallLine
// bytes (an acknowledgement, an error reply, a gossip ack) waits only
// when maxPendingSmall bytes are pending; a larger one (a read of every
// value) already when maxPendingLarge are. Then a read loop refusing a
// flood's requests, or a peer's ack, never waits behind the flood's large
// replies, while the large replies themselves are held to a few at a
// time, so a reply served next waits behind at most that much.
const (
	smallLine       = 1 << 10
	maxPendingLarge = 256 << 10
	maxPendingSmall = 1 << 20
)

// output writes lines to w by group commit: a writer appends its line to
// the pending bytes and, if no one is writing, becomes the one who does,
// writing whatever is pending until nothing is; otherwise it returns at
// once, and the writer of the moment writes its line with the next batch.
// Lines never interleave, and keep the order their writers appended them
// in. A write error is returned to whoever met it and every writer after.
type output struct {
	w io.Writer

	mu      sync.Mutex
	room    sync.Cond // signalled whenever pending is taken to be written
	pending []byte
	spare   []byte // the previous batch's buffer, for reuse
	writing bool   // someone is writing a batch (without mu)
	err     error
}

func newOutput(w io.Writer) *output {
	o := &output{w: w}
	o.room.L = &o.mu
	return o
}

// write writes a line, given in parts that end with a newline, or queues
// it for the writer of the moment. The parts are copied straight into the
// pending bytes, so a large body is copied once on its way out.
func (o *output) write(parts ...[]byte) error {
	size := 0
	for _, p := range parts {
		size += len(p)
	}
	limit := maxPendingLarge
	if size <= smallLine {
		limit = maxPendingSmall
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for o.writing && len(o.pending) >= limit && o.err == nil {
		o.room.Wait()
	}
	if o.err != nil {
		return o.err
	}
	for _, p := range parts {
		o.pending = append(o.pending, p...)
	}
	if o.writing {
		return nil
	}
	o.writing = true
	for len(o.pending) > 0 && o.err == nil {
		batch := o.pending
		o.pending = o.spare[:0]
		o.room.Broadcast()
		o.mu.Unlock()
		_, err := o.w.Write(batch)
		o.mu.Lock()
		if cap(batch) <= 2*maxPendingSmall {
			o.spare = batch[:0]
		} else {
			o.spare = nil // one huge line must not pin its buffer
		}
		if err != nil {
			o.err = fmt.Errorf("write stdout: %w", err)
			o.pending = nil
		}
	}
	o.writing = false
	o.room.Broadcast()
	return o.err
}
