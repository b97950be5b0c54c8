// Package listappend is the state machine of a strict-serializable
// list-append store (Maelstrom's txn-list-append workload): keys map to
// lists, a transaction is a sequence of micro-ops ["r", k, null] and
// ["append", k, v], and the store applies whole transactions one after
// another. It knows nothing of replication: challenges/txn-list-append
// puts every transaction that appends into one Raft log entry and applies
// entries here in log order, on every node, so every replica goes through
// the same states and the log order is the serialization order.
//
// Apply runs a transaction atomically: its reads see every transaction
// applied before it and its own earlier appends, and no transaction sees
// part of it. Read runs a read-only transaction without changing anything
// (the ReadIndex path; see docs/maelstrom-suite.md for why that keeps
// strict serializability).
package listappend

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Micro-op functions.
const (
	FRead   = "r"
	FAppend = "append"
)

// Mop is a micro-operation: a read ["r", k, null] or an append
// ["append", k, v]. Keys and values are any JSON (Maelstrom's are
// integers), kept as compact text so equal keys compare equal. In a
// completed read, List holds the key's list (nil for a key never
// appended to, written as null).
type Mop struct {
	F     string
	Key   json.RawMessage
	Value json.RawMessage   // appends: the value appended
	List  []json.RawMessage // completed reads
	read  bool              // a completed read (List nil means null)
}

// Txn is a transaction: micro-ops applied in order as one unit.
type Txn []Mop

// MarshalJSON writes the mop as Maelstrom's [f, k, v] triple.
func (m Mop) MarshalJSON() ([]byte, error) {
	switch {
	case m.F == FAppend:
		return json.Marshal([]any{m.F, m.Key, m.Value})
	case m.read && m.List != nil:
		return json.Marshal([]any{m.F, m.Key, m.List})
	default:
		return json.Marshal([]any{m.F, m.Key, nil})
	}
}

// UnmarshalJSON reads an [f, k, v] triple, refusing anything else so that
// the node can answer a malformed request with error 12.
func (m *Mop) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || len(raw) != 3 {
		return fmt.Errorf("micro-op %s is not [f, k, v]", b)
	}
	*m = Mop{}
	if err := json.Unmarshal(raw[0], &m.F); err != nil || (m.F != FRead && m.F != FAppend) {
		return fmt.Errorf("micro-op %s: f must be %q or %q", b, FRead, FAppend)
	}
	key, err := compact(raw[1])
	if err != nil || string(key) == "null" {
		return fmt.Errorf("micro-op %s: the key must be a JSON value other than null", b)
	}
	m.Key = key
	if m.F == FAppend {
		v, err := compact(raw[2])
		if err != nil || string(v) == "null" {
			return fmt.Errorf("micro-op %s: an append needs a value", b)
		}
		m.Value = v
	}
	return nil
}

func compact(b []byte) (json.RawMessage, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ReadOnly reports whether the transaction only reads.
func (t Txn) ReadOnly() bool {
	for _, m := range t {
		if m.F != FRead {
			return false
		}
	}
	return true
}

// Store is the state: every key's list. The zero value is an empty store.
// It is not safe for concurrent use; the caller serialises calls.
type Store struct {
	lists map[string][]json.RawMessage
	// Applied counts the transactions applied.
	Applied int
}

// Apply runs txn as one unit and returns it completed: each read holds
// the key's list at that point (the lists of earlier transactions plus
// this one's earlier appends; null if the key has none), appends come back
// unchanged.
func (s *Store) Apply(txn Txn) Txn {
	if s.lists == nil {
		s.lists = map[string][]json.RawMessage{}
	}
	out := make(Txn, len(txn))
	for i, m := range txn {
		k := string(m.Key)
		switch m.F {
		case FAppend:
			s.lists[k] = append(s.lists[k], m.Value)
			out[i] = Mop{F: FAppend, Key: m.Key, Value: m.Value}
		default:
			out[i] = s.readMop(m)
		}
	}
	s.Applied++
	return out
}

// Read runs a read-only transaction against the current state without
// changing it. A transaction that appends is refused: it must go through
// the log and Apply.
func (s *Store) Read(txn Txn) (Txn, error) {
	if !txn.ReadOnly() {
		return nil, fmt.Errorf("listappend: Read of a transaction that appends")
	}
	out := make(Txn, len(txn))
	for i, m := range txn {
		out[i] = s.readMop(m)
	}
	return out, nil
}

// readMop completes a read with a copy of the key's list, so a later
// append cannot change a reply already handed out.
func (s *Store) readMop(m Mop) Mop {
	l := s.lists[string(m.Key)]
	var list []json.RawMessage
	if l != nil {
		list = append(make([]json.RawMessage, 0, len(l)), l...)
	}
	return Mop{F: FRead, Key: m.Key, List: list, read: true}
}

// Len is the length of key's list (key as compact JSON).
func (s *Store) Len(key string) int { return len(s.lists[key]) }
