package setfull

import (
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// steps builds a history; times are in milliseconds.
type steps struct{ h history.History }

func (s *steps) op(typ history.Type, process int, f string, value any, ms int64) *steps {
	s.h = append(s.h, history.Op{Index: len(s.h), Type: typ, Process: process, F: f, Value: value, Time: ms * int64(time.Millisecond)})
	return s
}

func (s *steps) call(process int, f string, in, out any, invokeMs, okMs int64) *steps {
	return s.op(history.Invoke, process, f, in, invokeMs).op(history.OK, process, f, out, okMs)
}

// The add f is a parameter: with "add", add ops are the elements and
// anything else is not, so the same history judged with "broadcast" has
// nothing to check.
func TestCheckCountsTheGivenAddF(t *testing.T) {
	s := &steps{}
	s.call(0, "add", int64(1), int64(1), 0, 1)
	s.call(0, "add", int64(2), int64(2), 2, 3)
	s.call(1, "read", nil, []any{int64(1), int64(2)}, 10, 11)
	s.call(1, "read", nil, []any{int64(1)}, 20, 21) // 2 missing from the last read: lost
	res := Check(s.h, "add")
	if res.Valid() != checker.Invalid || res["lost-count"] != 1 || res["attempt-count"] != 2 {
		t.Fatalf("add: valid? %v lost-count %v attempt-count %v", res.Valid(), res["lost-count"], res["attempt-count"])
	}
	if fe, _ := res["first-error"].(string); !strings.HasPrefix(fe, "value 2 lost") {
		t.Errorf("first-error %q", fe)
	}
	res = Check(s.h, "broadcast")
	if res.Valid() != checker.Unknown || res["attempt-count"] != 0 {
		t.Errorf("broadcast: valid? %v attempt-count %v", res.Valid(), res["attempt-count"])
	}
	if fe, _ := res["first-error"].(string); !strings.Contains(fe, "no broadcast value became stable") {
		t.Errorf("first-error %q", fe)
	}
}

// Strict names the add in its reason.
func TestStrictNamesTheVerb(t *testing.T) {
	s := &steps{}
	s.call(0, "add", int64(1), int64(1), 0, 1)
	s.call(1, "read", nil, []any{int64(1), int64(999)}, 10, 11)
	res := Strict(Check(s.h, "add"), workload.Options{}, "added")
	if res.Valid() != checker.Invalid || !strings.Contains(res["first-error"].(string), "nobody added, e.g. 999") {
		t.Errorf("strict: %v %v", res.Valid(), res["first-error"])
	}
}
