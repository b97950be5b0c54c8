// Package edn writes Go values as EDN, the notation Maelstrom's results.edn
// uses, so that scripts written against Maelstrom's output (grepping for
// :msgs-per-op or :stable-latencies) read ours too, and reads EDN back
// (decode.go), so that runs stored by Maelstrom itself can be analysed.
//
// Mapping: map[string]any → map with keyword keys; map[float64]any,
// map[int]any, map[int64]any → map with numeric keys; Keyword → :keyword;
// strings, numbers, bools, nil, slices as usual. Map keys are sorted so the
// output is deterministic.
package edn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Keyword is written as :name.
type Keyword string

// Marshaler is implemented by values that write their own EDN.
type Marshaler interface {
	MarshalEDN() ([]byte, error)
}

// Marshal returns the EDN text of v, pretty-printed with one map entry per
// line at the top levels.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := write(&b, v, 0); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

func write(b *bytes.Buffer, v any, depth int) error {
	if v == nil {
		b.WriteString("nil")
		return nil
	}
	if m, ok := v.(Marshaler); ok {
		out, err := m.MarshalEDN()
		if err != nil {
			return err
		}
		b.Write(out)
		return nil
	}
	switch x := v.(type) {
	case Keyword:
		b.WriteString(":" + string(x))
		return nil
	case string:
		writeString(b, x)
		return nil
	case bool:
		b.WriteString(strconv.FormatBool(x))
		return nil
	case json.Number:
		b.WriteString(x.String())
		return nil
	case float64:
		writeFloat(b, x)
		return nil
	case float32:
		writeFloat(b, float64(x))
		return nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(rv.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		b.WriteString(strconv.FormatUint(rv.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		writeFloat(b, rv.Float())
	case reflect.String:
		writeString(b, rv.String())
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(rv.Bool()))
	case reflect.Slice, reflect.Array:
		return writeVector(b, rv, depth)
	case reflect.Map:
		return writeMap(b, rv, depth)
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			b.WriteString("nil")
			return nil
		}
		return write(b, rv.Elem().Interface(), depth)
	case reflect.Struct:
		return writeStruct(b, v, depth)
	default:
		return fmt.Errorf("edn: cannot write %T", v)
	}
	return nil
}

// writeVector writes a slice or an array as an EDN vector.
func writeVector(b *bytes.Buffer, rv reflect.Value, depth int) error {
	b.WriteByte('[')
	for i := 0; i < rv.Len(); i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		if err := write(b, rv.Index(i).Interface(), depth+1); err != nil {
			return err
		}
	}
	b.WriteByte(']')
	return nil
}

// writeStruct writes a struct through its JSON form, so that its field
// tags decide the names.
func writeStruct(b *bytes.Buffer, v any, depth int) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("edn: %T: %w", v, err)
	}
	var generic any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&generic); err != nil {
		return fmt.Errorf("edn: %T: %w", v, err)
	}
	return write(b, generic, depth)
}

type entry struct {
	sortKey string
	num     float64
	isNum   bool
	key     reflect.Value
	val     reflect.Value
}

func writeMap(b *bytes.Buffer, rv reflect.Value, depth int) error {
	entries := make([]entry, 0, rv.Len())
	for _, k := range rv.MapKeys() {
		e := entry{key: k, val: rv.MapIndex(k)}
		switch k.Kind() {
		case reflect.String:
			e.sortKey = k.String()
		case reflect.Int, reflect.Int64, reflect.Int32:
			e.isNum, e.num = true, float64(k.Int())
		case reflect.Float64, reflect.Float32:
			e.isNum, e.num = true, k.Float()
		default:
			e.sortKey = fmt.Sprint(k.Interface())
		}
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].isNum && entries[j].isNum {
			return entries[i].num < entries[j].num
		}
		return entries[i].sortKey < entries[j].sortKey
	})
	// Top-level maps (and the maps directly inside them) get one entry per
	// line, like Clojure's pretty printer; deeper maps stay on one line.
	sep := ", "
	if depth < 2 && len(entries) > 1 {
		sep = ",\n" + strings.Repeat(" ", depth+1)
	}
	b.WriteByte('{')
	for i, e := range entries {
		if i > 0 {
			b.WriteString(sep)
		}
		switch {
		case e.key.Kind() == reflect.String:
			b.WriteString(":" + keywordName(e.key.String()))
		case e.isNum && e.num == math.Trunc(e.num):
			// Quantile maps print {0 …, 0.5 …, 1 …} as Maelstrom does.
			b.WriteString(strconv.FormatInt(int64(e.num), 10))
		default:
			if err := write(b, e.key.Interface(), depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(' ')
		if err := write(b, e.val.Interface(), depth+1); err != nil {
			return err
		}
	}
	b.WriteByte('}')
	return nil
}

// keywordName makes a map key usable as a keyword. Keys that are not
// keyword-safe (spaces, leading digits are fine in EDN keywords but slashes
// and spaces are not) are still written, with the unsafe runes replaced.
func keywordName(s string) string {
	if s == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == ',' || r == '"' || r == '{' || r == '}' || r == '[' || r == ']' || r == '(' || r == ')' {
			return '_'
		}
		return r
	}, s)
}

func writeString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

func writeFloat(b *bytes.Buffer, f float64) {
	switch {
	case math.IsNaN(f):
		b.WriteString("##NaN")
	case math.IsInf(f, 1):
		b.WriteString("##Inf")
	case math.IsInf(f, -1):
		b.WriteString("##-Inf")
	case f == math.Trunc(f) && math.Abs(f) < 1e15:
		// Integral floats keep a decimal point so they read back as doubles.
		b.WriteString(strconv.FormatFloat(f, 'f', 1, 64))
	default:
		b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	}
}
