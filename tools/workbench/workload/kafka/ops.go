package kafka

import (
	"fmt"
	"sort"

	"github.com/glomers/glomers/tools/workbench/history"
)

// sendMop is one [send k v] micro-op; v is either the message (invoked,
// or an info/fail completion) or [offset message] (ok).
type sendMop struct {
	key       string
	value     any
	vkey      string // canonical form of value, for comparisons
	offset    int64
	hasOffset bool
}

// pair is one [offset message] a poll returned.
type pair struct {
	offset int64
	value  any
	vkey   string
}

// pollMop is one [poll {k [[o m] …]}] micro-op (empty for an invocation).
type pollMop struct {
	keys []string // sorted, for deterministic output
	msgs map[string][]pair
}

// parsedOp is a completion with its send and poll micro-ops read out of its
// value, so that the checks compare keys and offsets instead of raw JSON.
type parsedOp struct {
	op    history.Op
	sends []sendMop
	polls []pollMop
}

func keyString(k any) string {
	if s, ok := k.(string); ok {
		return s
	}
	return history.Key(k)
}

func fname(f any) string {
	switch x := f.(type) {
	case string:
		return x
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(f)
}

// parseOp reads an op's value: a list of send and poll micro-ops.
func parseOp(op history.Op) parsedOp {
	o := parsedOp{op: op}
	mops, _ := op.Value.([]any)
	for _, m := range mops {
		mop, ok := m.([]any)
		if !ok || len(mop) == 0 {
			continue
		}
		switch fname(mop[0]) {
		case "send":
			if len(mop) < 3 {
				continue
			}
			s := sendMop{key: keyString(mop[1]), value: mop[2]}
			if pv, ok := mop[2].([]any); ok && len(pv) == 2 {
				s.value = pv[1]
				if off, ok := history.Int(pv[0]); ok {
					s.offset, s.hasOffset = off, true
				}
			}
			s.vkey = history.Key(s.value)
			o.sends = append(o.sends, s)
		case "poll":
			p := pollMop{msgs: map[string][]pair{}}
			if len(mop) >= 2 {
				if msgs, ok := mop[1].(map[string]any); ok {
					for k, list := range msgs {
						p.keys = append(p.keys, k)
						pairs, _ := list.([]any)
						ps := []pair{}
						for _, x := range pairs {
							pv, ok := x.([]any)
							if !ok || len(pv) != 2 {
								continue
							}
							off, ok := history.Int(pv[0])
							if !ok {
								continue
							}
							ps = append(ps, pair{offset: off, value: pv[1], vkey: history.Key(pv[1])})
						}
						p.msgs[k] = ps
					}
					sort.Strings(p.keys)
				}
			}
			o.polls = append(o.polls, p)
		}
	}
	return o
}

// reads returns, per key, the values this op polled, in order.
func (o parsedOp) reads() map[string][]pair {
	out := map[string][]pair{}
	for _, p := range o.polls {
		for _, k := range p.keys {
			out[k] = append(out[k], p.msgs[k]...)
		}
	}
	return out
}

// readKeys is the sorted list of keys this op polled (even empty ones).
func (o parsedOp) readKeys() []string {
	seen := map[string]bool{}
	var ks []string
	for _, p := range o.polls {
		for _, k := range p.keys {
			if !seen[k] {
				seen[k] = true
				ks = append(ks, k)
			}
		}
	}
	sort.Strings(ks)
	return ks
}

// writes returns, per key, the sends of this op, in order.
func (o parsedOp) writes() map[string][]sendMop {
	out := map[string][]sendMop{}
	for _, s := range o.sends {
		out[s.key] = append(out[s.key], s)
	}
	return out
}

// maxPollOffsets is the highest offset polled per key (-1 for a key that
// came back empty). Only ok and info ops count.
func (o parsedOp) maxPollOffsets() map[string]int64 {
	out := map[string]int64{}
	if o.op.Type != history.OK && o.op.Type != history.Info {
		return out
	}
	for _, p := range o.polls {
		for _, k := range p.keys {
			m := int64(-1)
			for _, x := range p.msgs[k] {
				m = max(m, x.offset)
			}
			if cur, ok := out[k]; !ok || m > cur {
				out[k] = m
			}
		}
	}
	return out
}

// maxSendOffsets is the highest offset sent per key (ok and info ops with
// known offsets).
func (o parsedOp) maxSendOffsets() map[string]int64 {
	out := map[string]int64{}
	if o.op.Type != history.OK && o.op.Type != history.Info {
		return out
	}
	for _, s := range o.sends {
		if !s.hasOffset {
			continue
		}
		if cur, ok := out[s.key]; !ok || s.offset > cur {
			out[s.key] = max(s.offset, 0)
		}
	}
	return out
}

func (o parsedOp) maxOffsets() map[string]int64 {
	out := o.maxPollOffsets()
	for k, off := range o.maxSendOffsets() {
		if cur, ok := out[k]; !ok || off > cur {
			out[k] = off
		}
	}
	return out
}
