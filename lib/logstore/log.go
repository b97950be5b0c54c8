// Package logstore holds Kafka-style logs for Gossip Glomers challenge 5:
// append-only per-key logs with dense offsets from 0 and per-key committed
// offsets, kept either in one node's memory (Log) or as individual keys in
// Maelstrom's lin-kv (KVLog), plus the key → owner routing that lets
// several in-memory logs form one cluster (Owner, SplitByOwner).
package logstore

import (
	"encoding/json"
	"hash/fnv"
	"sort"
)

// Entry is one message at its offset; it marshals as [offset, msg], the
// pair poll_ok carries.
type Entry struct {
	Offset int64
	Msg    json.RawMessage
}

func (e Entry) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{e.Offset, e.Msg})
}

func (e *Entry) UnmarshalJSON(b []byte) error {
	var pair [2]json.RawMessage
	if err := json.Unmarshal(b, &pair); err != nil {
		return err
	}
	if err := json.Unmarshal(pair[0], &e.Offset); err != nil {
		return err
	}
	e.Msg = pair[1]
	return nil
}

// Log is a set of in-memory logs. Like the other protocol types of lib/
// it holds no lock: the caller serialises calls (one mutex in its wiring).
type Log struct {
	msgs      map[string][]json.RawMessage
	committed map[string]int64
}

// NewLog returns an empty Log.
func NewLog() *Log {
	return &Log{msgs: map[string][]json.RawMessage{}, committed: map[string]int64{}}
}

// Append adds msg to key's log and returns its offset.
func (l *Log) Append(key string, msg json.RawMessage) int64 {
	l.msgs[key] = append(l.msgs[key], msg)
	return int64(len(l.msgs[key]) - 1)
}

// Read returns up to limit entries of key starting at offset from (all of
// them if limit <= 0). An offset past the end returns nothing.
func (l *Log) Read(key string, from int64, limit int) []Entry {
	msgs := l.msgs[key]
	if from < 0 {
		from = 0
	}
	var out []Entry
	for o := from; o < int64(len(msgs)); o++ {
		if limit > 0 && len(out) == limit {
			break
		}
		out = append(out, Entry{Offset: o, Msg: msgs[o]})
	}
	return out
}

// Poll reads every requested key from its offset and leaves out keys with
// nothing to return (Maelstrom allows that, and its checker does not cope
// with a key only ever polled empty).
func (l *Log) Poll(offsets map[string]int64, limit int) map[string][]Entry {
	out := map[string][]Entry{}
	for k, from := range offsets {
		if es := l.Read(k, from, limit); len(es) > 0 {
			out[k] = es
		}
	}
	return out
}

// Commit records that key has been processed up to offset; committed
// offsets never move backwards.
func (l *Log) Commit(key string, offset int64) {
	if cur, ok := l.committed[key]; !ok || offset > cur {
		l.committed[key] = offset
	}
}

// Committed returns the committed offsets of the keys that have one.
func (l *Log) Committed(keys []string) map[string]int64 {
	out := map[string]int64{}
	for _, k := range keys {
		if o, ok := l.committed[k]; ok {
			out[k] = o
		}
	}
	return out
}

// Owner is the node responsible for key: a hash of the key over the node
// list, so every node computes the same owner without talking.
func Owner(key string, nodes []string) string {
	if len(nodes) == 0 {
		return ""
	}
	h := fnv.New32a()
	h.Write([]byte(key))
	return nodes[int(h.Sum32()%uint32(len(nodes)))]
}

// SplitByOwner groups keys by their owner; each group is sorted.
func SplitByOwner(keys []string, nodes []string) map[string][]string {
	out := map[string][]string{}
	for _, k := range keys {
		o := Owner(k, nodes)
		out[o] = append(out[o], k)
	}
	for _, ks := range out {
		sort.Strings(ks)
	}
	return out
}
