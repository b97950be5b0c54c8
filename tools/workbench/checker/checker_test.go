package checker

import (
	"encoding/json"
	"testing"
)

func TestMergeTakesTheWorst(t *testing.T) {
	cases := []struct {
		in   []Validity
		want Validity
	}{
		{nil, Valid},
		{[]Validity{Valid, Valid}, Valid},
		{[]Validity{Valid, Unknown}, Unknown},
		{[]Validity{Unknown, Invalid, Valid}, Invalid},
	}
	for _, c := range cases {
		if got := Merge(c.in...); got != c.want {
			t.Errorf("Merge(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestValidityEncodings(t *testing.T) {
	for v, want := range map[Validity]string{Valid: "true", Invalid: "false", Unknown: `"unknown"`} {
		b, err := json.Marshal(v)
		if err != nil || string(b) != want {
			t.Errorf("json(%v) = %s, %v; want %s", v, b, err, want)
		}
	}
	if b, _ := Unknown.MarshalEDN(); string(b) != ":unknown" {
		t.Errorf("edn(Unknown) = %s", b)
	}
	if (Result{}).Valid() != Unknown {
		t.Error("a result without valid? should be Unknown")
	}
}
