package edn

import (
	"strings"
	"testing"
)

type verdict bool

func (v verdict) MarshalEDN() ([]byte, error) {
	if v {
		return []byte("true"), nil
	}
	return []byte(":unknown"), nil
}

func TestMarshal(t *testing.T) {
	cases := []struct {
		name string
		in   any
		want string
	}{
		{"nil", nil, "nil"},
		{"keyword", Keyword("info"), ":info"},
		{"string escapes", "a\"b\\c\nd", `"a\"b\\c\nd"`},
		{"int", 42, "42"},
		{"integral float keeps its point", 3.0, "3.0"},
		{"float", 0.25, "0.25"},
		{"slice", []any{1, "x", true}, `[1 "x" true]`},
		{"nested map stays on one line", map[string]any{"a": map[string]any{"b": map[string]any{"d": 1, "c": 2}}},
			"{:a {:b {:c 2, :d 1}}}"},
		{"quantile keys print like Maelstrom", map[float64]any{1: 97, 0.5: 77, 0: 0},
			"{0 0,\n 0.5 77,\n 1 97}"},
		{"marshaler", map[string]any{"valid?": verdict(false)}, "{:valid? :unknown}"},
		{"sorted keyword keys, one per line", map[string]any{"b": 1, "a": 2}, "{:a 2,\n :b 1}"},
		{"struct goes through json tags", struct {
			X int `json:"x-count"`
		}{3}, "{:x-count 3}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := Marshal(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSuffix(string(out), "\n"); got != c.want {
				t.Errorf("Marshal(%#v) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestMarshalRejectsUnwritable(t *testing.T) {
	if _, err := Marshal(make(chan int)); err == nil {
		t.Fatal("Marshal(chan) succeeded, want an error")
	}
}
