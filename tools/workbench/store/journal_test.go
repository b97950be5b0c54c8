package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/network"
)

func TestJournalFileStreamsWhatWriteJournalWrites(t *testing.T) {
	dir := t.TempDir()
	var seen int
	jf, err := CreateJournal(dir, 2, func(network.Event) { seen++ })
	if err != nil {
		t.Fatal(err)
	}
	n := network.New(network.Config{Journal: jf})
	n.Join("c0")
	n0 := n.Join("n0")
	big := `{"type":"big","pad":"` + strings.Repeat("x", 10000) + `"}`
	var want []network.Event
	for _, body := range []string{`{"type":"a"}`, big, `{"type":"c"}`} {
		if _, err := n.Send("c0", "n0", json.RawMessage(body)); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := n0.Recv(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(n.Journal()) != 0 {
		t.Errorf("the network kept %d events in memory besides the file", len(n.Journal()))
	}
	sample := jf.Sample()
	if err := jf.Close(); err != nil {
		t.Fatal(err)
	}
	if seen != 6 {
		t.Errorf("observer saw %d events, want 6", seen)
	}
	// Only the first two messages (send and recv each), the big body cut.
	if len(sample) != 4 || sample[0].Msg.ID != 0 || sample[3].Msg.ID != 1 {
		t.Fatalf("sample %+v, want the events of messages 0 and 1", sample)
	}
	if len(sample[2].Msg.Body) > sampleBody || !strings.Contains(string(sample[2].Msg.Body), `"type":"big"`) {
		t.Errorf("sampled big body %.100s…, want it cut to its type", sample[2].Msg.Body)
	}
	b, err := os.ReadFile(filepath.Join(dir, JournalName))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("journal file has %d lines, want one per event (6)", len(lines))
	}
	for i, l := range lines {
		var e network.Event
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %d is not an event: %v", i+1, err)
		}
		want = append(want, e)
	}
	if string(want[2].Msg.Body) != big {
		t.Errorf("body 2 is %d bytes in the file, want the whole body", len(want[2].Msg.Body))
	}
	var streamed []network.Event
	tail, err := ReadJournal(bytes.NewReader(b), func(e network.Event) error { streamed = append(streamed, e); return nil })
	if err != nil || tail.CutShort() || tail.Complete != 6 || !reflect.DeepEqual(streamed, want) {
		t.Errorf("ReadJournal read %d events (tail %v), err %v", len(streamed), tail, err)
	}
}

func TestWriteJournalRoundTrips(t *testing.T) {
	j := []network.Event{
		{Kind: network.Send, Time: 5, Msg: network.Message{ID: 0, Src: "c0", Dest: "n\"0", Body: json.RawMessage(`{"type":"init"}`)}},
		{Kind: network.Recv, Time: 9, Msg: network.Message{ID: 0, Src: "c0", Dest: "n\"0", Body: json.RawMessage(`{"type":"init"}`)}},
		// A body spread over lines is compacted: a line is one event.
		{Kind: network.Send, Time: 12, Msg: network.Message{ID: 1, Src: "n0", Dest: "c0", Body: json.RawMessage("{\"type\":\n \"init_ok\"}")}},
	}
	var b strings.Builder
	if err := WriteJournal(&b, j); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "\n"); n != 3 {
		t.Fatalf("%d lines for 3 events:\n%s", n, b.String())
	}
	var back []network.Event
	if _, err := ReadJournal(strings.NewReader(b.String()), func(e network.Event) error { back = append(back, e); return nil }); err != nil {
		t.Fatalf("%v in:\n%s", err, b.String())
	}
	j[2].Msg.Body = json.RawMessage(`{"type":"init_ok"}`)
	if !reflect.DeepEqual(back, j) {
		t.Errorf("round trip: %+v", back)
	}
	var empty strings.Builder
	WriteJournal(&empty, nil)
	if tail, err := ReadJournal(strings.NewReader(empty.String()), func(network.Event) error { return nil }); err != nil || tail.Complete != 0 || tail.CutShort() {
		t.Errorf("empty journal: %q %v %v", empty.String(), tail, err)
	}
}

// A run killed mid-write leaves a journal whose last event is cut off at
// any byte: every complete event before it reads back, and the cut is
// reported rather than failing the read. Earlier workbenches wrote a JSON
// array, whole or cut the same way; both read too.
func TestReadJournalTakesEveryCompleteEventOfACutFile(t *testing.T) {
	var events []network.Event
	for i := range 5 {
		events = append(events, network.Event{Kind: network.Send, Time: time.Duration(i), Msg: network.Message{ID: int64(i), Src: "n0", Dest: "n1", Body: json.RawMessage(`{"type":"gossip","values":[1,2,3]}`)}})
	}
	var lines strings.Builder
	WriteJournal(&lines, events)
	var array strings.Builder
	array.WriteString("[")
	for i, e := range events {
		if i > 0 {
			array.WriteString(",")
		}
		array.WriteString("\n")
		array.Write(bytes.TrimSuffix(appendEvent(nil, e), []byte("\n")))
	}
	array.WriteString("\n]\n")
	for name, whole := range map[string]string{"lines": lines.String(), "array": array.String()} {
		for cut := 0; cut <= len(whole); cut++ {
			var got int
			tail, err := ReadJournal(strings.NewReader(whole[:cut]), func(e network.Event) error {
				if e.Msg.ID != int64(got) {
					t.Fatalf("%s cut at %d: event %d has id %d", name, cut, got, e.Msg.ID)
				}
				got++
				return nil
			})
			if err != nil {
				t.Fatalf("%s cut at %d: %v", name, cut, err)
			}
			// Every event wholly before the cut is read.
			wholeEvents := strings.Count(whole[:cut], "]}}}")
			if got != wholeEvents || tail.Complete != got {
				t.Fatalf("%s cut at %d: read %d events (tail %v), want %d", name, cut, got, tail, wholeEvents)
			}
			if cut == len(whole) && tail.CutShort() {
				t.Errorf("%s: the whole file reads as cut short: %v", name, tail)
			}
		}
	}
	// A broken event before the end is corruption, not a cut.
	broken := strings.Replace(lines.String(), `"kind":"send","time":2`, `"kind":"send","time":x`, 1)
	if _, err := ReadJournal(strings.NewReader(broken), func(network.Event) error { return nil }); err == nil || !strings.Contains(err.Error(), "record 3") {
		t.Errorf("a malformed event mid-file: err %v, want an error naming record 3", err)
	}
}

// Reading a journal back costs memory for one event at a time, not for
// the journal: a re-check of a long run must fit beside it (an 84 MB
// journal needed 526 MB when it was read whole).
func TestStreamJournalMemoryDoesNotGrowWithTheJournal(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 30 MB journal")
	}
	dir := t.TempDir()
	jf, err := CreateJournal(dir, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	body := json.RawMessage(`{"type":"gossip","values":[` + strings.Repeat("12345,", 20) + `0],"msg_id":7}`)
	const events = 200_000
	for i := range events {
		jf.Add(network.Event{Kind: network.Send, Time: time.Duration(i), Msg: network.Message{ID: int64(i), Src: "n1", Dest: "n2", Body: body}})
	}
	if err := jf.Close(); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(filepath.Join(dir, JournalName))

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	n := 0
	_, found, err := StreamJournal(dir, func(network.Event) error { n++; return nil })
	close(done)
	<-sampled
	if err != nil || !found || n != events {
		t.Fatalf("streamed %d events (found %v): %v", n, found, err)
	}
	grew := int64(peak.Load()) - int64(before.HeapInuse)
	if limit := st.Size() / 4; grew > limit {
		t.Errorf("reading a %d MB journal grew the heap by %d MB, want under %d MB", st.Size()>>20, grew>>20, limit>>20)
	}
	t.Logf("journal %d MB, heap grew by at most %.1f MB", st.Size()>>20, float64(grew)/(1<<20))
}

// WriteJournal writes a journal held in memory in the format JournalFile
// streams.
func WriteJournal(w io.Writer, journal []network.Event) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	var line []byte
	for _, e := range journal {
		line = appendEvent(line[:0], e)
		if _, err := bw.Write(line); err != nil {
			return fmt.Errorf("write journal: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	return nil
}
