// The wire format: parsing an input line's header and msg_id, reading
// bounded lines, and encoding output lines.

package node

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// header is what the runtime needs from an incoming message, parsed
// field by field so that one bad field does not hide the others (a body
// with a numeric type still has a msg_id we can answer).
type header struct {
	src, dest string
	body      json.RawMessage
	typ       string
	typOK     bool // type present and a string
	msgID     int
	hasMsgID  bool
	// badMsgID is a msg_id that is present but not an integer, kept as
	// sent so the error 12 that answers it can be matched by the sender;
	// badMsgIDWhy says what is wrong with it.
	badMsgID    json.RawMessage
	badMsgIDWhy string
	inReplyTo   int
	isReply     bool // in_reply_to present, whatever its value
}

// errTooDeep is parseHeader's error for a line nested deeper than
// encoding/json's limit of 10,000 levels, which says so only in its text.
var errTooDeep = errors.New("nested deeper than the JSON decoder's limit")

// maxEchoedMsgID bounds the malformed msg_id echoed back as in_reply_to,
// so a huge one costs nothing to answer.
const maxEchoedMsgID = 64

// parseHeader returns an error describing why the line cannot be answered
// at all; problems that can be answered (bad type, bad msg_id) show up as
// typOK=false or badMsgID. The common line takes parseHeaderFast; any
// other goes through encoding/json's maps, whose semantics (exact keys,
// the last of duplicate keys wins) the fast path keeps.
func parseHeader(line []byte) (header, error) {
	if h, ok := parseHeaderFast(line); ok {
		return h, nil
	}
	return parseHeaderDecoded(line)
}

// parseHeaderDecoded is parseHeader by decoding the line into maps.
func parseHeaderDecoded(line []byte) (header, error) {
	var h header
	var env map[string]json.RawMessage
	if err := json.Unmarshal(line, &env); err != nil || env == nil {
		if err != nil && strings.Contains(err.Error(), "exceeded max depth") {
			return h, errTooDeep
		}
		return h, errors.New("not a JSON object")
	}
	if err := json.Unmarshal(env["src"], &h.src); err != nil || h.src == "" {
		return h, errors.New("no string src")
	}
	_ = json.Unmarshal(env["dest"], &h.dest) // informational only
	var body map[string]json.RawMessage
	if err := json.Unmarshal(env["body"], &body); err != nil || body == nil {
		return h, errors.New("body is not a JSON object")
	}
	h.body = env["body"]
	if raw, ok := body["in_reply_to"]; ok {
		id, err := parseMsgID(raw)
		if err != nil {
			return h, fmt.Errorf("in_reply_to %s: %w", truncate(raw), err)
		}
		h.inReplyTo, h.isReply = id, true
	}
	if raw, ok := body["msg_id"]; ok {
		id, err := parseMsgID(raw)
		if err != nil {
			h.badMsgID, h.badMsgIDWhy = raw, fmt.Sprintf("msg_id %s: %v", truncate(raw), err)
			if len(raw) > maxEchoedMsgID {
				h.badMsgID = json.RawMessage("null")
			}
		} else {
			h.msgID, h.hasMsgID = id, true
		}
	}
	if raw, ok := body["type"]; ok {
		h.typOK = json.Unmarshal(raw, &h.typ) == nil && h.typ != ""
	}
	return h, nil
}

// parseMsgID accepts a JSON integer literal in int64's range, and nothing
// else: json.Unmarshal into an int would take null as 0, and a float or a
// string holding digits is a client bug worth reporting, not guessing at.
func parseMsgID(raw json.RawMessage) (int, error) {
	text := string(bytes.TrimSpace(raw))
	switch {
	case text == "null":
		return 0, errors.New("is null, want an integer")
	case strings.HasPrefix(text, `"`):
		return 0, errors.New("is a string, want an integer")
	case text == "" || !strings.ContainsAny(text[:1], "-0123456789"):
		return 0, errors.New("is not an integer")
	case strings.ContainsAny(text, ".eE"):
		return 0, errors.New("has a fraction or exponent, want an integer")
	}
	id, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, errors.New("is out of the 64-bit integer range")
		}
		return 0, errors.New("is not an integer")
	}
	return int(id), nil
}

// readLine returns the next line without its newline. A line longer than
// max is consumed and reported as tooLong instead of being buffered; it
// is fed to scan instead, which finds its src and msg_id so that it can
// be answered.
func readLine(r *bufio.Reader, max int, scan *envelopeScan) (line []byte, tooLong bool, err error) {
	*scan = envelopeScan{}
	for {
		frag, err := r.ReadSlice('\n')
		switch {
		case tooLong:
			scan.feed(frag)
		case len(line)+len(frag) > max+1: // +1: the newline itself
			tooLong = true
			scan.feed(line)
			scan.feed(frag)
			line = nil
		default:
			line = append(line, frag...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimSuffix(line, []byte{'\n'}), tooLong, err
	}
}

// Encoded is a message body already encoded as a JSON object, which the
// runtime sends without re-encoding: it only splices in_reply_to (or
// msg_id) in after the opening brace. Return it from a handler whose
// reply is large and shared between requests, such as a read of every
// value, so that a read costs a copy rather than an encoding. The caller
// guarantees it is one valid JSON object without in_reply_to or msg_id.
type Encoded []byte

// encodedBody is a body in parts that make one JSON object when joined:
// an Encoded body is spliced, not copied.
type encodedBody [][]byte

// bytes joins the parts (for the rare reader of a body on its way out).
func (b encodedBody) bytes() []byte { return bytes.Join(b, nil) }

// encodeBody encodes body as a JSON object with key set to val (no key
// if key is ""). An Encoded body is used as it is, key spliced in after
// its opening brace; any other body is marshalled and split into its
// fields, so that key replaces a field of the same name and numbers stay
// exactly as the caller wrote them.
func encodeBody(body any, key string, val json.RawMessage) (encodedBody, error) {
	if enc, ok := body.(Encoded); ok {
		if len(enc) < 2 || enc[0] != '{' || enc[len(enc)-1] != '}' {
			return nil, fmt.Errorf("encoded body %s is not a JSON object", truncate(enc))
		}
		if key == "" {
			return encodedBody{enc}, nil
		}
		head := make([]byte, 0, len(key)+len(val)+5)
		head = append(head, '{')
		head = strconv.AppendQuote(head, key)
		head = append(head, ':')
		head = append(head, val...)
		rest := enc[1:] // everything after the opening brace
		if len(bytes.TrimSpace(rest)) > 1 {
			head = append(head, ',')
		}
		return encodedBody{head, rest}, nil
	}
	fields, err := bodyFields(body)
	if err != nil {
		return nil, err
	}
	if key != "" {
		fields[key] = val
	}
	raw, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("marshal body: %w", err)
	}
	return encodedBody{raw}, nil
}

// write sends one message: the line is assembled around the encoded body
// rather than marshalled again, which would re-validate every byte of it,
// and the body is copied only into the output's pending bytes.
func (n *Node) write(dest string, body encodedBody) error {
	head := make([]byte, 0, len(dest)+40)
	head = append(head, `{"src":`...)
	head = appendJSONString(head, n.ID())
	head = append(head, `,"dest":`...)
	head = appendJSONString(head, dest)
	head = append(head, `,"body":`...)
	parts := make([][]byte, 0, len(body)+2)
	parts = append(append(append(parts, head), body...), lineEnd)
	return n.out().write(parts...)
}

var lineEnd = []byte("}\n")

// appendJSONString appends s as a JSON string. Node ids and client ids
// are plain ASCII, which needs no escaping and no allocation; anything
// else goes through the encoder.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// bodyFields marshals a body and splits it into its top-level fields, so
// the runtime can add msg_id or in_reply_to without re-encoding values
// (numbers stay exactly as the caller wrote them).
func bodyFields(body any) (map[string]json.RawMessage, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("marshal body: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, fmt.Errorf("body %s is not a JSON object", truncate(raw))
	}
	return fields, nil
}

func truncate(b []byte) string {
	const max = 200
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
