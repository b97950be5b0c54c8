package listappend

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

func parse(t *testing.T, s string) Txn {
	t.Helper()
	var txn Txn
	if err := json.Unmarshal([]byte(s), &txn); err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return txn
}

func text(t *testing.T, txn Txn) string {
	t.Helper()
	b, err := json.Marshal(txn)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A read sees every earlier transaction's appends and its own earlier
// ones, and a missing key reads null.
func TestApplyReadsSeeEarlierAppends(t *testing.T) {
	var s Store
	got := text(t, s.Apply(parse(t, `[["r", 1, null], ["append", 1, 10], ["r", 1, null], ["r", 2, null]]`)))
	if want := `[["r",1,null],["append",1,10],["r",1,[10]],["r",2,null]]`; got != want {
		t.Errorf("first txn: %s, want %s", got, want)
	}
	got = text(t, s.Apply(parse(t, `[["append", 2, 1], ["append", 1, 11], ["r", 1, null]]`)))
	if want := `[["append",2,1],["append",1,11],["r",1,[10,11]]]`; got != want {
		t.Errorf("second txn: %s, want %s", got, want)
	}
	if s.Applied != 2 || s.Len("1") != 2 {
		t.Errorf("applied %d, len(1) %d", s.Applied, s.Len("1"))
	}
}

// Replicas that apply the same transactions in the same order return the
// same results and hold the same lists: the log order is the
// serialization order.
func TestSameLogSameResults(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var log []Txn
	for i := range 300 {
		var txn Txn
		for range 1 + rng.IntN(4) {
			k, _ := json.Marshal(rng.IntN(5))
			if rng.IntN(2) == 0 {
				txn = append(txn, Mop{F: FRead, Key: k})
			} else {
				v, _ := json.Marshal(i)
				txn = append(txn, Mop{F: FAppend, Key: k, Value: v})
			}
		}
		log = append(log, txn)
	}
	var a, b Store
	for i, txn := range log {
		ra, rb := text(t, a.Apply(txn)), text(t, b.Apply(txn))
		if ra != rb {
			t.Fatalf("entry %d: %s vs %s", i, ra, rb)
		}
	}
}

// A transaction is applied whole: a read-only transaction served between
// two entries sees all of each or none of it, and Read changes nothing.
func TestReadOnlySeesWholeTransactions(t *testing.T) {
	var s Store
	s.Apply(parse(t, `[["append", 1, 1], ["append", 2, 1]]`))
	got, err := s.Read(parse(t, `[["r", 1, null], ["r", 2, null]]`))
	if err != nil || text(t, got) != `[["r",1,[1]],["r",2,[1]]]` {
		t.Fatalf("read %s, %v", text(t, got), err)
	}
	if s.Applied != 1 {
		t.Errorf("Read counted as applied")
	}
	if _, err := s.Read(parse(t, `[["r", 1, null], ["append", 1, 2]]`)); err == nil {
		t.Error("Read accepted an append")
	}
	// A reply's list is a copy: later appends do not change it.
	s.Apply(parse(t, `[["append", 1, 2]]`))
	if text(t, got) != `[["r",1,[1]],["r",2,[1]]]` {
		t.Errorf("an earlier reply changed: %s", text(t, got))
	}
}

func TestMalformedMops(t *testing.T) {
	for _, bad := range []string{
		`[["w", 1, 2]]`, `[["r", 1]]`, `[["append", 1, null]]`, `[["r", null, null]]`, `[[1, 2, 3]]`, `{"r": 1}`,
	} {
		var txn Txn
		if err := json.Unmarshal([]byte(bad), &txn); err == nil {
			t.Errorf("%s accepted as %v", bad, txn)
		}
	}
	// Keys and values are any JSON, compared by their compact text.
	var s Store
	s.Apply(parse(t, `[["append", "k", {"a": 1}]]`))
	got := text(t, s.Apply(parse(t, `[["r", "k", null]]`)))
	if !strings.Contains(got, `[{"a":1}]`) {
		t.Errorf("read %s", got)
	}
	if !parse(t, `[["r", 1, null]]`).ReadOnly() || parse(t, `[["r", 1, null], ["append", 1, 1]]`).ReadOnly() {
		t.Error("ReadOnly")
	}
}
