package process

import (
	"strings"
	"testing"

	"github.com/glomers/glomers/tools/workbench/network"
)

func TestParseEnvelope(t *testing.T) {
	for _, tc := range []struct {
		line, err string
	}{
		{`{"src":"n0","dest":"c1","body":{"type":"echo_ok","in_reply_to":1}}`, ""},
		{`{"id":3,"src":"n0","dest":"n1","body":{"type":"x"}}`, ""},
		{`{"src":"n0","dest":"n1","body":null}`, ""},
		{`{"src":"n0","dest":"n1","body":[1,2]}`, "body is not a JSON object"},
		{`{"src":"n0","dest":"n1","body":"hi"}`, "body is not a JSON object"},
		{`this is not JSON`, "not well-formed JSON"},
		{`{"src":"n0","dest":"n1","body":{}} trailing`, "trailing"},
		{`[1,2]`, "not well-formed JSON"},
		{`{"src":"n0","dest":"n1"}`, `missing required key "body"`},
		{`{"dest":"n1","body":{}}`, `missing required key "src"`},
		{`{"src":1,"dest":"n1","body":{}}`, "src is not a string"},
		{`{"src":null,"dest":"n1","body":{}}`, "not null"},
		{`{"src":"n0","dest":"n1","body":{},"extra":true}`, `unexpected top-level key "extra"`},
		{`{"id":"x","src":"n0","dest":"n1","body":{}}`, "id is not an integer"},
		{`{"id":1.5,"src":"n0","dest":"n1","body":{}}`, "id is not an integer"},
	} {
		_, _, _, err := ParseEnvelope([]byte(tc.line))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tc.line, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want one containing %q", tc.line, err, tc.err)
		}
	}
}

func TestAppendDelivery(t *testing.T) {
	got := string(AppendDelivery(nil, network.Message{ID: 7, Src: "c1", Dest: "n0", Body: []byte(`{"type":"echo","echo":"hi \"x\""}`)}))
	want := `{"id":7,"src":"c1","dest":"n0","body":{"type":"echo","echo":"hi \"x\""}}` + "\n"
	if got != want {
		t.Errorf("got %s want %s", got, want)
	}
}

func TestRing(t *testing.T) {
	r := ring{size: 3}
	for _, s := range []string{"a", "b", "c", "d", "e"} {
		r.add(s)
	}
	if got := strings.Join(r.lines(), ""); got != "cde" {
		t.Errorf("ring kept %q, want the last three cde", got)
	}
}
