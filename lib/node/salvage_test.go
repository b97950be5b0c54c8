package node

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestEnvelopeScan(t *testing.T) {
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	for _, tc := range []struct {
		line    string
		src, id string // "" id: not answerable
	}{
		{`{"src":"c1","dest":"n0","body":{"type":"echo","msg_id":5}}`, "c1", "5"},
		{`{"body":{"msg_id":5,"type":"echo"},"src":"c1"}`, "c1", "5"},
		{` { "src" : "c1" , "body" : { "msg_id" : 12 , "x" : ` + deep + ` } } `, "c1", "12"},
		{`{"src":"c1","body":{"echo":` + deep + `,"msg_id":-3}}`, "c1", "-3"},
		{`{"src":"c\"1","body":{"msg_id":"9"}}`, `c"1`, `"9"`},
		{`{"src":"c1","body":{"msg_id":` + strings.Repeat("1", 100) + `}}`, "c1", "null"},
		{`{"src":"c1","body":{"msg_id":1.5}}`, "c1", "1.5"},
		{`{"src":"c1","body":{"msg_id":{"a":[1,2]}}}`, "c1", `{"a":[1,2]}`},
		// Keys and msg_ids elsewhere do not count.
		{`{"src":"c1","body":{"x":{"msg_id":5}}}`, "", ""},
		{`{"src":"c1","other":{"msg_id":5},"body":{}}`, "", ""},
		{`{"x":{"src":"c1"},"body":{"msg_id":5}}`, "", ""},
		{`{"src":"c1","body":{"x":"\"msg_id\":5"}}`, "", ""},
		// Replies are never answered.
		{`{"src":"n1","body":{"msg_id":5,"in_reply_to":2}}`, "", ""},
		// Not whole, not balanced, not one object, no string src.
		{`{"src":"c1","body":{"msg_id":5}`, "", ""},
		{`{"src":"c1","body":{"msg_id":5]}`, "", ""},
		{`{"src":"c1","body":{"msg_id":5}}}`, "", ""},
		{`{"src":"c1","body":{"msg_id":5}} x`, "", ""},
		{`{"src":"c1","body":{"msg_id":5,"s":"open}}`, "", ""},
		{`{"src":7,"body":{"msg_id":5}}`, "", ""},
		{`[{"src":"c1","body":{"msg_id":5}}]`, "", ""},
		{`{"src":"c1","body":["msg_id",5]}`, "", ""},
	} {
		// Whole, and in pieces of every small size, as readLine feeds it.
		for _, piece := range []int{len(tc.line), 1, 2, 3, 7} {
			var s envelopeScan
			for i := 0; i < len(tc.line); i += piece {
				s.feed([]byte(tc.line[i:min(len(tc.line), i+piece)]))
			}
			src, id, ok := s.result()
			if tc.id == "" {
				if ok {
					t.Errorf("%.80s (pieces of %d): answerable as %q/%s, want not", tc.line, piece, src, id)
				}
				continue
			}
			if !ok || src != tc.src || string(id) != tc.id {
				t.Errorf("%.80s (pieces of %d): got %q/%s/%v, want %q/%s", tc.line, piece, src, id, ok, tc.src, tc.id)
			}
		}
	}
}

// A 60 MB string costs a pass over its bytes, not their copy.
func TestEnvelopeScanKeepsLittle(t *testing.T) {
	huge := `{"src":"c2","dest":"n0","body":{"type":"broadcast","message":"` + strings.Repeat("x", 8<<20) + `","msg_id":1}}`
	allocs := testing.AllocsPerRun(1, func() {
		var s envelopeScan
		for i := 0; i < len(huge); i += 64 << 10 {
			s.feed([]byte(huge[i:min(len(huge), i+64<<10)]))
		}
		if src, id, ok := s.result(); !ok || src != "c2" || string(id) != "1" {
			t.Fatalf("got %q %s %v", src, id, ok)
		}
	})
	// The []byte conversions of the test's own pieces are most of these.
	if allocs > 200 {
		t.Errorf("%v allocations scanning 8 MiB, want a handful", allocs)
	}
}

// FuzzEnvelopeScanAgreesWithDecoder: on any line encoding/json decodes,
// the scan finds the same src and integer msg_id as the decoder, and it
// never claims a line the decoder rejects for its grammar.
func FuzzEnvelopeScanAgreesWithDecoder(f *testing.F) {
	f.Add(`{"src":"c1","dest":"n0","body":{"type":"echo","msg_id":5}}`)
	f.Add(`{"body":{"msg_id":5,"in_reply_to":1},"src":"c1"}`)
	f.Add(`{"src":"c\u0031","body":{"msg_id":5}}`)
	f.Add(`{"src":"c1","body":{"msg_id":"5","x":[{"msg_id":6}]}}`)
	f.Fuzz(func(t *testing.T, line string) {
		var s envelopeScan
		s.feed([]byte(line))
		src, id, ok := s.result()
		h, err := parseHeader([]byte(line))
		if err != nil {
			return // the scan may salvage what the decoder rejects
		}
		if !ok {
			// The decoder found a request with a msg_id the scan missed:
			// only acceptable when a key is spelled with escapes.
			if h.hasMsgID && !h.isReply && !strings.Contains(line, `\`) {
				t.Fatalf("scan missed src %q msg_id %d", h.src, h.msgID)
			}
			return
		}
		if src != h.src && !strings.Contains(line, `\`) {
			t.Fatalf("scan src %q, decoder %q", src, h.src)
		}
		if n, err := parseMsgID(id); err == nil && h.hasMsgID && n != h.msgID && !strings.Contains(line, `\`) {
			t.Fatalf("scan msg_id %d, decoder %d", n, h.msgID)
		}
	})
}

// FuzzHeaderFastAgreesWithDecoded: whenever the fast path takes a line,
// it gets exactly the header that decoding into maps gets.
func FuzzHeaderFastAgreesWithDecoded(f *testing.F) {
	for _, seed := range []string{
		`{"src":"c1","dest":"n0","body":{"type":"echo","msg_id":5,"echo":"x"}}`,
		`{"id":3,"src":"n1","dest":"n0","body":{"type":"gossip","values":[1,2,{"a":"]"}],"ack":3}}`,
		`{"src":"n1","body":{"in_reply_to":7,"type":"read_ok","msg_id":8}}`,
		`{"src":"c1","src":"c2","body":{"msg_id":1,"msg_id":2},"body":{"type":"x"}}`,
		`{"s\u0072c":"c1","body":{"type":"x","msg_id":1}}`,
		` { "src" : "c1" , "body" : { "type" : "t" , "msg_id" : -3 } } `,
		`{"src":"c1","body":{"type":"","msg_id":1.5}}`,
		`{"src":"c\u00e9","body":{"type":"x"}}`,
		`{"src":"c1","body":{"type":7}}`,
		`{"src":"c1","dest":null,"body":{}}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		fast, ok := parseHeaderFast([]byte(line))
		if !ok {
			return
		}
		slow, err := parseHeaderDecoded([]byte(line))
		if err != nil {
			t.Fatalf("fast path took a line the decoder refuses (%v)", err)
		}
		if !bytes.Equal(fast.body, slow.body) {
			t.Fatalf("body %s, decoder %s", fast.body, slow.body)
		}
		fast.body, slow.body = nil, nil
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("fast %+v, decoder %+v", fast, slow)
		}
	})
}
