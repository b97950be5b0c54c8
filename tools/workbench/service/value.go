package service

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

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
		b.WriteByte('{')
		for i, k := range slices.Sorted(maps.Keys(x)) {
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
