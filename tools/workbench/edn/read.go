package edn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Read parses one EDN value, the way Maelstrom's results.edn and
// history.edn hold them, into the shapes a JSON decoder with UseNumber
// gives: maps become map[string]any (keyword keys lose their colon, other
// keys are written as EDN text, so {0.5 12} reads as {"0.5": 12}),
// vectors, lists and sets become []any, keywords and symbols strings,
// numbers json.Number, nil nil. A tagged literal (#jepsen.history.Op{…})
// reads as its value. Anything after the value other than whitespace is
// an error.
func Read(data []byte) (any, error) {
	r := &reader{s: data}
	v, err := r.value()
	if err != nil {
		return nil, err
	}
	r.skip()
	if r.i < len(r.s) {
		return nil, r.errorf("unexpected %q after the value", r.s[r.i])
	}
	return v, nil
}

// readDepthLimit bounds nesting so a hostile file cannot exhaust the stack.
const readDepthLimit = 1000

type reader struct {
	s     []byte
	i     int
	depth int
}

func (r *reader) errorf(format string, a ...any) error {
	line := 1 + bytes.Count(r.s[:min(r.i, len(r.s))], []byte("\n"))
	return fmt.Errorf("edn: line %d: %s", line, fmt.Sprintf(format, a...))
}

// skip passes whitespace, commas and comments.
func (r *reader) skip() {
	for r.i < len(r.s) {
		switch c := r.s[r.i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			r.i++
		case c == ';':
			for r.i < len(r.s) && r.s[r.i] != '\n' {
				r.i++
			}
		default:
			return
		}
	}
}

func (r *reader) value() (any, error) {
	r.skip()
	if r.i >= len(r.s) {
		return nil, r.errorf("unexpected end of input")
	}
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > readDepthLimit {
		return nil, r.errorf("nested deeper than %d", readDepthLimit)
	}
	switch c := r.s[r.i]; c {
	case '{':
		r.i++
		return r.mapBody('}')
	case '[':
		r.i++
		return r.seq(']')
	case '(':
		r.i++
		return r.seq(')')
	case '"':
		return r.str()
	case ':':
		r.i++
		return r.token(), nil
	case '#':
		r.i++
		if r.i < len(r.s) && r.s[r.i] == '{' {
			r.i++
			return r.seq('}')
		}
		if r.i < len(r.s) && r.s[r.i] == '_' { // discard the next value
			r.i++
			if _, err := r.value(); err != nil {
				return nil, err
			}
			return r.value()
		}
		if r.token() == "" {
			return nil, r.errorf("bad dispatch character")
		}
		return r.value() // tagged literal: keep the value, drop the tag
	case '\\':
		r.i++
		tok := r.token()
		if tok == "" && r.i < len(r.s) {
			tok = string(r.s[r.i])
			r.i++
		}
		return map[string]string{"newline": "\n", "space": " ", "tab": "\t", "return": "\r"}[tok] + singleChar(tok), nil
	case '}', ']', ')':
		return nil, r.errorf("unexpected %q", c)
	}
	tok := r.token()
	switch tok {
	case "":
		return nil, r.errorf("unexpected %q", r.s[r.i])
	case "nil":
		return nil, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	if n, ok := number(tok); ok {
		return n, nil
	}
	return tok, nil // a symbol
}

func singleChar(tok string) string {
	if utf8.RuneCountInString(tok) == 1 {
		return tok
	}
	return ""
}

// token reads a symbol, keyword name or number.
func (r *reader) token() string {
	start := r.i
	for r.i < len(r.s) {
		c := r.s[r.i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ';' ||
			c == '{' || c == '}' || c == '[' || c == ']' || c == '(' || c == ')' || c == '"' {
			break
		}
		r.i++
	}
	return string(r.s[start:r.i])
}

// number reads EDN integers and floats (with Clojure's N and M suffixes).
func number(tok string) (json.Number, bool) {
	t := strings.TrimSuffix(strings.TrimSuffix(tok, "N"), "M")
	if t == "" || !(t[0] >= '0' && t[0] <= '9' || (len(t) > 1 && (t[0] == '-' || t[0] == '+'))) {
		return "", false
	}
	if _, err := strconv.ParseFloat(t, 64); err != nil {
		return "", false
	}
	return json.Number(strings.TrimPrefix(t, "+")), true
}

func (r *reader) seq(end byte) ([]any, error) {
	out := []any{}
	for {
		r.skip()
		if r.i >= len(r.s) {
			return nil, r.errorf("unterminated collection (want %q)", end)
		}
		if r.s[r.i] == end {
			r.i++
			return out, nil
		}
		v, err := r.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

func (r *reader) mapBody(end byte) (map[string]any, error) {
	items, err := r.seq(end)
	if err != nil {
		return nil, err
	}
	if len(items)%2 != 0 {
		return nil, r.errorf("map with an odd number of forms")
	}
	m := make(map[string]any, len(items)/2)
	for i := 0; i < len(items); i += 2 {
		m[keyString(items[i])] = items[i+1]
	}
	return m, nil
}

// keyString names a map key: strings and keywords as they are, anything
// else as its EDN text.
func keyString(k any) string {
	switch x := k.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case nil:
		return "nil"
	}
	b, err := Marshal(k)
	if err != nil {
		return fmt.Sprint(k)
	}
	return strings.TrimSpace(string(b))
}

func (r *reader) str() (string, error) {
	r.i++ // opening quote
	var b strings.Builder
	for r.i < len(r.s) {
		c := r.s[r.i]
		switch c {
		case '"':
			r.i++
			return b.String(), nil
		case '\\':
			if r.i+1 >= len(r.s) {
				return "", r.errorf("unterminated string")
			}
			r.i++
			switch e := r.s[r.i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'u':
				if r.i+4 >= len(r.s) {
					return "", r.errorf("bad \\u escape")
				}
				n, err := strconv.ParseUint(string(r.s[r.i+1:r.i+5]), 16, 32)
				if err != nil {
					return "", r.errorf("bad \\u escape")
				}
				b.WriteRune(rune(n))
				r.i += 4
			default:
				b.WriteByte(e)
			}
			r.i++
		default:
			b.WriteByte(c)
			r.i++
		}
	}
	return "", r.errorf("unterminated string")
}
