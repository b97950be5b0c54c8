// The fast path of the wire format: an ordinary line's header without
// building maps.

package node

import (
	"bytes"
	"encoding/json"
)

// parseHeaderFast parses the header of an ordinary line: valid JSON, an
// object whose src, dest and the body's type are plain ASCII strings
// (no escapes), keys without escapes, an integer msg_id or in_reply_to.
// It reports ok only when it got exactly what parseHeaderDecoded would;
// anything else (including every error) is left to that. A refused flood
// line cost 6–9 µs through the maps, most of a read loop's time per line;
// this costs a validation pass and a scan, without allocating. The body
// is a slice of line, which the read loop allocates afresh per line.
func parseHeaderFast(line []byte) (h header, ok bool) {
	if !json.Valid(line) {
		return header{}, false
	}
	i := skipSpace(line, 0)
	if i >= len(line) || line[i] != '{' {
		return header{}, false
	}
	var src, dest, body []byte
	var hasDest bool
	if !eachMember(line, i, func(key, val []byte) bool {
		switch string(key) {
		case "src":
			src = val
		case "dest":
			dest, hasDest = val, true
		case "body":
			body = val
		}
		return true
	}) {
		return header{}, false
	}
	var okSrc, okDest bool
	h.src, okSrc = plainString(src)
	if !okSrc || h.src == "" || body == nil || body[0] != '{' {
		return header{}, false
	}
	if hasDest {
		if h.dest, okDest = plainString(dest); !okDest {
			return header{}, false
		}
	}
	h.body = body
	var typ, msgID, inReplyTo []byte
	if !eachMember(body, 0, func(key, val []byte) bool {
		switch string(key) {
		case "type":
			typ = val
		case "msg_id":
			msgID = val
		case "in_reply_to":
			inReplyTo = val
		}
		return true
	}) {
		return header{}, false
	}
	if inReplyTo != nil {
		id, err := parseMsgID(inReplyTo)
		if err != nil {
			return header{}, false
		}
		h.inReplyTo, h.isReply = id, true
	}
	if msgID != nil {
		id, err := parseMsgID(msgID)
		if err != nil {
			return header{}, false
		}
		h.msgID, h.hasMsgID = id, true
	}
	if typ != nil {
		t, ok := plainString(typ)
		if !ok {
			return header{}, false
		}
		h.typ, h.typOK = t, t != ""
	}
	return h, true
}

// eachMember calls fn with the raw key (without quotes) and raw value of
// each member of the object at b[i] (which must be valid JSON), in order.
// It returns false, without calling fn further, for a key with an escape:
// the decoder would unescape it, and then it might name a field.
func eachMember(b []byte, i int, fn func(key, val []byte) bool) bool {
	i = skipSpace(b, i+1) // past '{'
	if i < len(b) && b[i] == '}' {
		return true
	}
	for i < len(b) {
		end := skipString(b, i)
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return false
		}
		i = skipSpace(b, skipSpace(b, end)+1) // past ':'
		vend := skipValue(b, i)
		if !fn(key, b[i:vend]) {
			return false
		}
		i = skipSpace(b, vend)
		if i >= len(b) || b[i] == '}' {
			return true
		}
		i = skipSpace(b, i+1) // past ','
	}
	return true
}

// skipValue returns the index just past the value at b[i] (valid JSON).
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	default:
		for i < len(b) {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}

// skipString returns the index just past the string starting at b[i].
func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// plainString is the text of a JSON string of printable ASCII without
// escapes, whose decoding is its bytes; ok is false for anything else.
func plainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	for _, c := range raw[1 : len(raw)-1] {
		if c < 0x20 || c > 0x7e || c == '\\' || c == '"' {
			return "", false
		}
	}
	return string(raw[1 : len(raw)-1]), true
}
