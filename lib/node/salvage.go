// Salvage: the src and msg_id of a line the JSON decoder cannot take, so
// that it can still be answered.

package node

import (
	"bytes"
	"encoding/json"
)

// maxSalvaged bounds what envelopeScan keeps of a key or a value it
// looks for; a longer msg_id is echoed as null, as parseHeader does.
const maxSalvaged = 256

// envelopeScan finds the envelope's src and the body's msg_id in a line
// that encoding/json will not decode: nested deeper than its limit
// (10,000), or longer than MaxLineBytes, which is not even held in
// memory. It is fed the line in pieces and keeps only the two values and
// the depth it is at, so a 60 MB line costs a pass over its bytes (long
// strings are skipped with bytes.IndexByte) and a few hundred bytes.
//
// It checks structure, not grammar: brackets balance and match at the
// two levels it reads, strings close, nothing follows the object. That is
// enough to be sure which src and msg_id the sender meant, which is all
// an error reply needs.
type envelopeScan struct {
	depth  int
	kinds  [3]byte // '{' or '[' at depths 1 and 2
	broken bool    // unbalanced, mismatched, or text after the object
	ended  bool    // the top-level value closed

	inString bool
	escaped  bool // the string's previous byte was a backslash

	expectKey bool   // the next string at depth ≤ 2 is an object key
	inKey     bool   // reading such a key
	key       []byte // the key being read (up to maxSalvaged)
	key1      string // the depth-1 key whose value is being read

	pending  *[]byte // the field whose value starts at the next token
	capture  *[]byte // the field whose value is being read, or nil
	capDepth int     // the depth the captured value sits at
	src      []byte  // raw JSON of the envelope's src
	msgID    []byte  // raw JSON of the body's msg_id
	srcSeen  bool
	idSeen   bool
	isReply  bool // the body has in_reply_to: a reply is never answered
	overflow bool // msg_id longer than maxSalvaged
}

// feed scans the next piece of the line.
func (s *envelopeScan) feed(b []byte) {
	for i := 0; i < len(b); {
		if s.inString {
			i = s.feedString(b, i)
			continue
		}
		c := b[i]
		i++
		if s.ended {
			if !isSpace(c) {
				s.broken = true
			}
			continue
		}
		if s.pending != nil && !isSpace(c) {
			s.capture, s.pending, s.capDepth = s.pending, nil, s.depth
			*s.capture = (*s.capture)[:0]
		}
		switch c {
		case '"':
			s.inString = true
			if s.expectKey && s.depth <= 2 && s.capture == nil {
				s.inKey, s.expectKey, s.key = true, false, s.key[:0]
			}
		case '{', '[':
			s.depth++
			if s.depth <= 2 {
				s.kinds[s.depth] = c
				s.expectKey = c == '{'
			}
		case '}', ']':
			switch {
			case s.capture != nil && s.depth == s.capDepth:
				s.capture = nil // the value ended with its container
			case s.capture != nil:
				s.keep(b[i-1 : i]) // the end of a container value
			}
			open := byte('{')
			if c == ']' {
				open = '['
			}
			if s.depth == 0 || (s.depth <= 2 && s.kinds[s.depth] != open) {
				s.broken = true
				return
			}
			s.depth--
			s.expectKey = false
			if s.depth == 0 {
				s.ended = true
			}
			continue // the closing bracket belongs to no captured value
		case ',':
			if s.capture != nil && s.depth == s.capDepth {
				s.capture = nil // the value ended; a key follows
			}
			if s.capture == nil && s.depth <= 2 && s.depth > 0 && s.kinds[s.depth] == '{' {
				s.expectKey = true
			}
		case ':':
			if s.capture == nil {
				s.keyDone()
				continue
			}
		}
		if s.capture != nil {
			s.keep(b[i-1 : i])
		}
	}
}

// feedString consumes string bytes from b[i:] up to and including the
// closing quote, and returns where it stopped.
func (s *envelopeScan) feedString(b []byte, i int) int {
	rest := b[i:]
	if s.escaped {
		s.escaped = false
		s.keep(rest[:1])
		return i + 1
	}
	end := bytes.IndexByte(rest, '"')
	seg := rest
	if end >= 0 {
		seg = rest[:end]
	}
	if bs := bytes.IndexByte(seg, '\\'); bs >= 0 {
		s.keep(rest[:bs+1])
		s.escaped = true
		return i + bs + 1
	}
	if end < 0 {
		s.keep(rest)
		return len(b)
	}
	s.keep(rest[:end+1])
	s.inString = false
	if s.inKey {
		s.inKey = false
		s.key = bytes.TrimSuffix(s.key, []byte{'"'})
	}
	return i + end + 1
}

// keep appends bytes to the key or the value being read, up to
// maxSalvaged.
func (s *envelopeScan) keep(b []byte) {
	switch {
	case s.inKey:
		s.key = append(s.key, b[:min(len(b), max(0, maxSalvaged+1-len(s.key)))]...)
	case s.capture != nil:
		room := maxSalvaged - len(*s.capture)
		if len(b) > room {
			if s.capture == &s.msgID {
				s.overflow = true
			}
			b = b[:max(0, room)]
		}
		*s.capture = append(*s.capture, b...)
	}
}

// keyDone is called at a colon: the key just read names the value that
// follows, which is captured if it is src or the body's msg_id.
func (s *envelopeScan) keyDone() {
	key := string(s.key)
	s.key = s.key[:0]
	switch {
	case s.depth == 1 && s.kinds[1] == '{':
		s.key1 = key
		if key == "src" {
			s.pending, s.srcSeen = &s.src, true
		}
	case s.depth == 2 && s.kinds[2] == '{' && s.key1 == "body" && key == "msg_id":
		s.pending, s.idSeen = &s.msgID, true
	case s.depth == 2 && s.kinds[2] == '{' && s.key1 == "body" && key == "in_reply_to":
		s.isReply = true
	}
}

// result returns the src and the msg_id (raw JSON; null if over
// maxEchoedMsgID bytes) if the line was a whole, balanced object with a
// string src and a body with a msg_id and no in_reply_to.
func (s *envelopeScan) result() (src string, msgID json.RawMessage, ok bool) {
	if s.broken || !s.ended || !s.srcSeen || !s.idSeen || s.isReply {
		return "", nil, false
	}
	if err := json.Unmarshal(bytes.TrimSpace(s.src), &src); err != nil || src == "" {
		return "", nil, false
	}
	raw := bytes.TrimSpace(s.msgID)
	if s.overflow || len(raw) > maxEchoedMsgID {
		raw = []byte("null")
	}
	if len(raw) == 0 {
		return "", nil, false
	}
	return src, json.RawMessage(raw), true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
