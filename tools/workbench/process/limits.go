package process

import (
	"bufio"
	"bytes"
	"fmt"

	"github.com/glomers/glomers/tools/workbench/network"
)

// The bounds that keep a misbehaving node from growing the workbench without
// limit: the longest line read, and how much may be queued for one receiver and
// for all of them. Maelstrom has neither; a correct node never comes near them.

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
