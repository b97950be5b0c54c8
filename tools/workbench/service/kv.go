package service

import (
	"fmt"
	"maps"

	"github.com/glomers/glomers/tools/workbench/history"
)

// Maelstrom's error codes the key/value services answer with.
const (
	codeKeyDoesNotExist    = 20
	codePreconditionFailed = 22
	textKeyDoesNotExist    = "key does not exist"
	createIfNotExistsField = "create_if_not_exists"
)

// entry is one stored value with its history.Key (its identity under
// Clojure's =), kept so comparisons don't re-render it.
type entry struct {
	key   any
	value any
	canon string
}

// kvState is one immutable map state: sequential and eventual services keep
// several of them, so an operation that changes the map returns a copy.
type kvState struct {
	m map[string]entry // canonical key -> entry
}

func newKVState() *kvState { return &kvState{m: map[string]entry{}} }

// ErrUnknownType is returned by a service for a request type it does not
// handle. Maelstrom's services throw there: the request is logged and never
// answered, so the caller times out.
type ErrUnknownType struct{ Type any }

func (e ErrUnknownType) Error() string {
	return fmt.Sprintf("unknown request type %v", e.Type)
}

func errorBody(code int, text string) map[string]any {
	return map[string]any{"type": "error", "code": code, "text": text}
}

// kvFlavour differs between lin-kv/seq-kv and lww-kv: lww-kv ignores
// create_if_not_exists and renders the CAS "from" with str, not pr-str.
type kvFlavour struct {
	honourCreate bool
	fromText     func(any) string
}

var (
	persistentKV = kvFlavour{honourCreate: true, fromText: prStr}
	lwwKV        = kvFlavour{honourCreate: false, fromText: str}
)

// apply executes a read, write or cas against s. It never modifies s: when
// the operation changes the map it returns a new state and changed=true.
// A write of the value already stored, or a cas whose to equals from,
// leaves the state equal, which is what seq-kv's "did it change?" test
// looks at.
func (f kvFlavour) apply(s *kvState, body map[string]any) (next *kvState, changed bool, reply map[string]any, err error) {
	k := body["key"]
	kc := history.Key(k)
	switch body["type"] {
	case "read":
		e, ok := s.m[kc]
		if !ok {
			return s, false, errorBody(codeKeyDoesNotExist, textKeyDoesNotExist), nil
		}
		return s, false, map[string]any{"type": "read_ok", "value": e.value}, nil
	case "write":
		v := body["value"]
		vc := history.Key(v)
		if e, ok := s.m[kc]; ok && e.canon == vc {
			return s, false, map[string]any{"type": "write_ok"}, nil
		}
		return s.with(kc, entry{key: k, value: v, canon: vc}), true, map[string]any{"type": "write_ok"}, nil
	case "cas":
		from, to := body["from"], body["to"]
		e, ok := s.m[kc]
		if !ok {
			if f.honourCreate && truthy(body[createIfNotExistsField]) {
				return s.with(kc, entry{key: k, value: to, canon: history.Key(to)}), true, map[string]any{"type": "cas_ok"}, nil
			}
			return s, false, errorBody(codeKeyDoesNotExist, textKeyDoesNotExist), nil
		}
		if history.Key(from) != e.canon {
			return s, false, errorBody(codePreconditionFailed,
				"current value "+prStr(e.value)+" is not "+f.fromText(from)), nil
		}
		tc := history.Key(to)
		if tc == e.canon {
			return s, false, map[string]any{"type": "cas_ok"}, nil
		}
		return s.with(kc, entry{key: k, value: to, canon: tc}), true, map[string]any{"type": "cas_ok"}, nil
	}
	return s, false, nil, ErrUnknownType{Type: body["type"]}
}

// truthy follows Clojure: everything but nil and false is true.
func truthy(v any) bool {
	if v == nil {
		return false
	}
	if b, ok := v.(bool); ok {
		return b
	}
	return true
}

func (s *kvState) with(kc string, e entry) *kvState {
	m := maps.Clone(s.m)
	m[kc] = e
	return &kvState{m: m}
}
