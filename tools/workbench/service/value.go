package service

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
)

// canonical returns a string that is equal for two JSON values exactly when
// Clojure's = would call them equal: integers compare by value (however
// they are spelled), floats by value, and an integer never equals a float
// (1 and 1.0 differ). Object keys are compared as strings, order ignored.
// Values are expected as decoded with json.Decoder.UseNumber; Go ints and
// float64s are accepted too, for tests.
func canonical(v any) string {
	var b strings.Builder
	writeCanonical(&b, v)
	return b.String()
}

func writeCanonical(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("nil")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		b.WriteString(strconv.Quote(x))
	case json.Number:
		writeNumber(b, string(x))
	case int:
		b.WriteString("i" + strconv.Itoa(x))
	case int64:
		b.WriteString("i" + strconv.FormatInt(x, 10))
	case float64:
		writeFloat(b, x)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanonical(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Quote(k))
			b.WriteByte(':')
			writeCanonical(b, x[k])
		}
		b.WriteByte('}')
	default:
		// Anything else (structs in tests) goes through its JSON form.
		raw, err := json.Marshal(x)
		if err != nil {
			fmt.Fprintf(b, "?%#v", x)
			return
		}
		var generic any
		d := json.NewDecoder(strings.NewReader(string(raw)))
		d.UseNumber()
		if d.Decode(&generic) != nil {
			b.WriteString("?" + string(raw))
			return
		}
		writeCanonical(b, generic)
	}
}

func writeNumber(b *strings.Builder, s string) {
	if !strings.ContainsAny(s, ".eE") {
		// JSON integers become Longs or BigInts in Maelstrom; both compare
		// by value, so normalise the spelling (leading minus of zero etc.).
		if n, ok := new(big.Int).SetString(s, 10); ok {
			b.WriteString("i" + n.String())
			return
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		b.WriteString("?" + s)
		return
	}
	writeFloat(b, f)
}

func writeFloat(b *strings.Builder, f float64) {
	if f == 0 {
		f = 0 // -0.0 equals 0.0 in Clojure
	}
	if math.IsNaN(f) {
		b.WriteString("fNaN")
		return
	}
	b.WriteString("f" + strconv.FormatFloat(f, 'g', -1, 64))
}

// prStr renders a value the way Clojure's pr-str would, for error texts
// such as "current value 3 is not 4". Strings are quoted, null is nil,
// arrays are [a b], objects are {"k" v, ...}.
func prStr(v any) string {
	var b strings.Builder
	writePr(&b, v, true)
	return b.String()
}

// str renders a value the way Clojure's str would: like prStr, except a
// top-level string is unquoted and null is empty.
func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	var b strings.Builder
	writePr(&b, v, true)
	return b.String()
}

func writePr(b *strings.Builder, v any, top bool) {
	switch x := v.(type) {
	case nil:
		b.WriteString("nil")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		b.WriteString(strconv.Quote(x))
	case json.Number:
		b.WriteString(string(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEN") {
			s += ".0"
		}
		b.WriteString(s)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(' ')
			}
			writePr(b, e, false)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Quote(k))
			b.WriteByte(' ')
			writePr(b, x[k], false)
		}
		b.WriteByte('}')
	default:
		fmt.Fprint(b, x)
	}
}
