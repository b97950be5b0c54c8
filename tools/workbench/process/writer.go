package process

import (
	"bufio"
	"context"
	"encoding/json"
	"strconv"

	"github.com/glomers/glomers/tools/workbench/network"
)

// What the node reads: the network's deliveries, written to its stdin one JSON
// object a line.

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
