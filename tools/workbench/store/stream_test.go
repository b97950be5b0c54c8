package store

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/glomers/glomers/tools/workbench/history"
)

func TestHistoryWriterStreamsWhatWriteHistoryWrites(t *testing.T) {
	h := history.History{
		{Type: history.Invoke, Process: 0, F: "generate", Time: 5},
		{Type: history.OK, Process: 0, F: "generate", Value: 12, Time: 9, Node: "n0"},
		{Type: history.Info, Process: history.NemesisProcess, F: "start-partition", Value: map[string]any{"n0": []any{"n1"}}, Time: 11},
		{Type: history.Fail, Process: 1, F: "read", Error: []any{"key-does-not-exist", "no"}, Time: 12, Final: true},
	}
	h.Reindex()
	whole, streamed := t.TempDir(), t.TempDir()
	if err := (&Run{Dir: whole}).WriteHistory(h); err != nil {
		t.Fatal(err)
	}
	w, err := CreateHistory(streamed)
	if err != nil {
		t.Fatal(err)
	}
	for i, op := range h {
		w.Add(op)
		if i == 1 {
			// What is flushed is on disk while the run goes on.
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if back, err := LoadHistory(streamed, 0); err != nil || len(back) != 2 {
				t.Fatalf("after a flush, %d ops on disk (%v), want 2", len(back), err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"history.json", "history.txt"} {
		a, _ := os.ReadFile(filepath.Join(whole, name))
		b, _ := os.ReadFile(filepath.Join(streamed, name))
		if string(a) != string(b) || len(a) == 0 {
			t.Errorf("%s differs:\n%s\nstreamed:\n%s", name, a, b)
		}
	}
	back, err := LoadHistory(streamed, len(h))
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(h) || back[1].Value != json.Number("12") || back[1].Node != "n0" || !back[3].Final ||
		!reflect.DeepEqual(back[3].Error, []any{"key-does-not-exist", "no"}) {
		t.Errorf("loaded back %+v", back)
	}
}

func TestHistoryWriterKeepsTheFileLoadableForAnUnencodableValue(t *testing.T) {
	dir := t.TempDir()
	w, err := CreateHistory(dir)
	if err != nil {
		t.Fatal(err)
	}
	w.Add(history.Op{Index: 0, Type: history.Invoke, F: "add", Value: math.NaN()})
	w.Add(history.Op{Index: 1, Type: history.OK, F: "add", Value: 1})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	back, err := LoadHistory(dir, 0)
	if err != nil || len(back) != 2 || back[0].Value == nil || back[0].Error != nil {
		t.Errorf("loaded %+v, %v; want both ops, the NaN described", back, err)
	}
}
