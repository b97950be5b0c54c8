package node

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// BenchmarkRefuseFloodLine is the read loop's cost for one request of a
// flooding source whose queue is full: what decides how fast a node gets
// through a flood to the next source's request.
func BenchmarkRefuseFloodLine(b *testing.B) {
	n := New()
	n.Stdout = io.Discard
	n.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	n.InOrder = true
	n.Handle("read", func(context.Context, Message) (any, error) { return nil, nil })
	n.id, n.ready = "n0", true
	n.queue = newFairQueue(0, 1, 1) // every push refused
	line := []byte(`{"id":123456,"src":"c2","dest":"n0","body":{"type":"read","msg_id":987654}}`)
	b.ReportAllocs()
	for b.Loop() {
		n.dispatch(line)
	}
}

// BenchmarkOverlongLine is the read loop's cost for a 60 MB request over
// MaxLineBytes: streamed past the envelope scan, never held.
func BenchmarkOverlongLine(b *testing.B) {
	line := []byte(`{"src":"c2","dest":"n0","body":{"type":"broadcast","message":"` + strings.Repeat("x", 60<<20) + `","msg_id":1}}` + "\n")
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	var scan envelopeScan
	for b.Loop() {
		r := bufio.NewReaderSize(bytes.NewReader(line), 64<<10)
		if _, tooLong, _ := readLine(r, 1<<20, &scan); !tooLong {
			b.Fatal("not too long")
		}
		if _, _, ok := scan.result(); !ok {
			b.Fatal("not salvaged")
		}
	}
}
