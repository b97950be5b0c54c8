package network

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestJournalFileStreamsWhatWriteJournalWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "net-journal.json")
	var seen int
	jf, err := CreateJournal(path, 2, func(Event) { seen++ })
	if err != nil {
		t.Fatal(err)
	}
	n := New(Config{Journal: jf})
	c0, n0 := n.Join("c0"), n.Join("n0")
	big := `{"type":"big","pad":"` + strings.Repeat("x", 10000) + `"}`
	for _, body := range []string{`{"type":"a"}`, big, `{"type":"c"}`} {
		mustSend(t, n, "c0", "n0", body)
		if _, err := recv(t, n0, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	_ = c0
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
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back []Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("journal file is not the JSON array WriteJournal writes: %v", err)
	}
	if len(back) != 6 || string(back[2].Msg.Body) != big {
		t.Errorf("file holds %d events (body 2 %d bytes), want 6 and the whole body", len(back), len(back[2].Msg.Body))
	}
	f, _ := os.Open(path)
	defer f.Close()
	streamed := 0
	if err := ReadJournal(f, func(Event) error { streamed++; return nil }); err != nil || streamed != 6 {
		t.Errorf("ReadJournal read %d events, err %v", streamed, err)
	}
}
