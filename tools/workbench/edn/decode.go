package edn

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DecodeAll reads a sequence of EDN values, such as Maelstrom's
// history.edn (one op map per line) or its results.edn (one map).
//
// Values come back JSON-shaped, so code that reads results.json and
// history.json reads them too: a map becomes map[string]any, its keys
// written as JSON would have them (a keyword without its colon, a string
// as is, a number or anything else in its EDN text: {0.5 190} has key
// "0.5"); vectors, lists and sets become []any; keyword values become
// Keyword; integers int64 (float64 beyond its range), decimals and ratios
// float64; a tagged literal (#jepsen.history.Op{…}) is its value.
func DecodeAll(data []byte) ([]any, error) {
	d := &decoder{s: string(data)}
	var out []any
	for {
		d.skipSpace()
		if d.i >= len(d.s) {
			return out, nil
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		if v == discarded {
			continue
		}
		out = append(out, v)
	}
}

// Decode reads exactly one EDN value.
func Decode(data []byte) (any, error) {
	vs, err := DecodeAll(data)
	if err != nil {
		return nil, err
	}
	if len(vs) != 1 {
		return nil, fmt.Errorf("edn: want one value, found %d", len(vs))
	}
	return vs[0], nil
}

type decoder struct {
	s     string
	i     int
	depth int // open collections, bounded by maxDepth
}

// maxDepth bounds nesting, so a hostile file cannot exhaust the stack.
const maxDepth = 1000

// discarded marks a #_ form, which yields no value.
var discarded = &struct{}{}

func (d *decoder) errorf(format string, args ...any) error {
	line := 1 + strings.Count(d.s[:min(d.i, len(d.s))], "\n")
	return fmt.Errorf("edn: line %d: %s", line, fmt.Sprintf(format, args...))
}

func (d *decoder) skipSpace() {
	for d.i < len(d.s) {
		switch c := d.s[d.i]; {
		case c == ';':
			for d.i < len(d.s) && d.s[d.i] != '\n' {
				d.i++
			}
		case c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) value() (any, error) {
	d.skipSpace()
	if d.i >= len(d.s) {
		return nil, d.errorf("unexpected end of input")
	}
	switch c := d.s[d.i]; c {
	case '{':
		d.i++
		return d.mapBody()
	case '[':
		d.i++
		return d.seq(']')
	case '(':
		d.i++
		return d.seq(')')
	case '"':
		return d.str()
	case ':':
		d.i++
		return Keyword(d.token()), nil
	case '\\':
		return d.char()
	case '#':
		d.i++
		if d.i >= len(d.s) {
			return nil, d.errorf("unexpected end of input after #")
		}
		switch d.s[d.i] {
		case '{':
			d.i++
			return d.seq('}')
		case '_':
			d.i++
			if _, err := d.value(); err != nil {
				return nil, err
			}
			return discarded, nil
		}
		tag := d.token()
		if tag == "" {
			return nil, d.errorf("bad dispatch character after #")
		}
		return d.value()
	case ')', ']', '}':
		return nil, d.errorf("unexpected %q", c)
	}
	return d.atom()
}

func (d *decoder) mapBody() (any, error) {
	items, err := d.seq('}')
	if err != nil {
		return nil, err
	}
	xs := items.([]any)
	if len(xs)%2 != 0 {
		return nil, d.errorf("map literal with an odd number of forms")
	}
	m := make(map[string]any, len(xs)/2)
	for i := 0; i < len(xs); i += 2 {
		m[keyString(xs[i])] = xs[i+1]
	}
	return m, nil
}

func keyString(k any) string {
	switch k := k.(type) {
	case Keyword:
		return string(k)
	case string:
		return k
	case int64:
		return strconv.FormatInt(k, 10)
	case float64:
		return strconv.FormatFloat(k, 'f', -1, 64)
	case nil:
		return "nil"
	}
	return fmt.Sprint(k)
}

func (d *decoder) seq(end byte) (any, error) {
	if d.depth++; d.depth > maxDepth {
		return nil, d.errorf("nested deeper than %d", maxDepth)
	}
	defer func() { d.depth-- }()
	out := []any{}
	for {
		d.skipSpace()
		if d.i >= len(d.s) {
			return nil, d.errorf("unterminated collection (want %q)", end)
		}
		if d.s[d.i] == end {
			d.i++
			return out, nil
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		if v != discarded {
			out = append(out, v)
		}
	}
}

// token reads a symbol-like run of characters.
func (d *decoder) token() string {
	start := d.i
	for d.i < len(d.s) {
		c := d.s[d.i]
		if c == ' ' || c == ',' || c == '\n' || c == '\t' || c == '\r' || strings.IndexByte("()[]{}\";", c) >= 0 {
			break
		}
		d.i++
	}
	return d.s[start:d.i]
}

func (d *decoder) atom() (any, error) {
	tok := d.token()
	switch tok {
	case "":
		return nil, d.errorf("unexpected %q", d.s[d.i])
	case "nil":
		return nil, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	c := tok[0]
	if c >= '0' && c <= '9' || (c == '-' || c == '+') && len(tok) > 1 && tok[1] >= '0' && tok[1] <= '9' {
		return number(tok, d)
	}
	return tok, nil // a symbol: its name
}

func number(tok string, d *decoder) (any, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(tok, "N"), "M")
	if num, den, ok := strings.Cut(t, "/"); ok {
		r, ok := new(big.Rat).SetString(num + "/" + den)
		if !ok {
			return nil, d.errorf("bad ratio %q", tok)
		}
		f, _ := r.Float64()
		return f, nil
	}
	if n, err := strconv.ParseInt(t, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return nil, d.errorf("bad number %q", tok)
	}
	return f, nil
}

func (d *decoder) str() (any, error) {
	d.i++ // opening quote
	var b strings.Builder
	for d.i < len(d.s) {
		c := d.s[d.i]
		switch c {
		case '"':
			d.i++
			return b.String(), nil
		case '\\':
			if d.i+1 >= len(d.s) {
				return nil, d.errorf("unterminated string")
			}
			e := d.s[d.i+1]
			d.i += 2
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'u':
				if d.i+4 > len(d.s) {
					return nil, d.errorf("short \\u escape")
				}
				r, err := strconv.ParseUint(d.s[d.i:d.i+4], 16, 32)
				if err != nil {
					return nil, d.errorf("bad \\u escape")
				}
				b.WriteRune(rune(r))
				d.i += 4
			default:
				b.WriteByte(e) // \" \\ and anything else as itself
			}
		default:
			_, size := utf8.DecodeRuneInString(d.s[d.i:])
			b.WriteString(d.s[d.i : d.i+size])
			d.i += size
		}
	}
	return nil, d.errorf("unterminated string")
}

func (d *decoder) char() (any, error) {
	d.i++ // backslash
	tok := d.token()
	if tok == "" && d.i < len(d.s) {
		tok = d.s[d.i : d.i+1]
		d.i++
	}
	switch tok {
	case "newline":
		return "\n", nil
	case "space":
		return " ", nil
	case "tab":
		return "\t", nil
	case "return":
		return "\r", nil
	}
	return tok, nil
}
