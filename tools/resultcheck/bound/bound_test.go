package bound

import (
	"encoding/json"
	"strings"
	"testing"
)

// A results map as the workbench writes it (numbers decoded as
// json.Number, quantile keys with dots).
const results = `{
  "valid?": false,
  "availability": {"ok-fraction": 1, "valid?": true},
  "net": {"servers": {"msgs-per-op": 2.86}},
  "workload": {
    "valid?": false,
    "lost-count": 3,
    "stable-latencies": {"0": 0, "0.5": 240, "1.0": 330},
    "anomaly-types": ["G1a", "G0"],
    "first-error": "op 1 completed info with error net-timeout"
  },
  "node-errors": ["node n0 wrote an invalid line to stdout (not well-formed JSON: x)"]
}`

func decode(t *testing.T) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(results))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCheck(t *testing.T) {
	res := decode(t)
	for _, tc := range []struct {
		expr string
		held bool
	}{
		{"net.servers.msgs-per-op <= 2.9", true},
		{"net.servers.msgs-per-op <= 2.8", false},
		{"net.servers.msgs-per-op <= 2.8 margin 5%", true},  // limit 2.94
		{"net.servers.msgs-per-op <= 2.7 margin 5%", false}, // limit 2.835
		{"net.servers.msgs-per-op < 2.86", false},
		{"net.servers.msgs-per-op<2.87", true},
		{"availability.ok-fraction >= 1.0", true},
		{"availability.ok-fraction > 1", false},
		{"availability.ok-fraction >= 1.1 margin 0.1", true}, // limit 1.0
		{"availability.ok-fraction >= 1.2 margin 0.1", false},
		{`workload.stable-latencies["0.5"] <= 250`, true},
		{`workload.stable-latencies["0.5"] <= 200 margin 20%`, true}, // limit 240
		{`workload.stable-latencies["0.5"] < 200 margin 20%`, false},
		{`workload.stable-latencies["1"] <= 330`, true}, // "1" finds "1.0"
		{`workload["stable-latencies"]["0"] == 0`, true},
		{"workload.valid? == false", true},
		{"valid? == true", false},
		{"workload.valid? != true", true},
		{"workload.lost-count > 0", true},
		{"workload.lost-count == 3", true},
		{`workload.anomaly-types contains "G1a"`, true},
		{`workload.anomaly-types contains "G1c"`, false},
		{`workload.first-error contains "net-timeout"`, true},
		{`node-errors contains "not well-formed JSON"`, true},
		{`workload contains "lost-count"`, true},
		{`workload.first-error contains "margin word"`, false},
	} {
		b, err := Parse(tc.expr)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.expr, err)
			continue
		}
		o := b.Check(res)
		if o.Problem != "" {
			t.Errorf("%q: problem %s", tc.expr, o.Problem)
		}
		if o.Held != tc.held {
			t.Errorf("%q: held = %v, want %v (%s)", tc.expr, o.Held, tc.held, o.Line())
		}
	}
}

func TestCheckProblems(t *testing.T) {
	res := decode(t)
	for _, expr := range []string{
		`workload.dissemination-latencies["0.5"] <= 250`, // missing key
		"workload.first-error < 3",                       // not a number
		"net.servers.msgs-per-op.x == 1",                 // path through a number
	} {
		o := MustParse(expr).Check(res)
		if o.Held || o.Problem == "" {
			t.Errorf("%q: held=%v problem=%q, want a problem", expr, o.Held, o.Problem)
		}
		if !strings.HasPrefix(o.Line(), "ERROR") {
			t.Errorf("%q: line %q, want ERROR", expr, o.Line())
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, expr := range []string{
		"",
		"net.servers.msgs-per-op",
		"net.servers.msgs-per-op ~ 3",
		"net.servers.msgs-per-op <=",
		`net.servers.msgs-per-op <= "high"`,
		"net.servers.msgs-per-op <= 2.9 margin",
		"net.servers.msgs-per-op <= 2.9 margin -1",
		"net.servers.msgs-per-op <= 2.9 margin x%",
		"workload.valid? == false margin 1",
		"workload.valid? == fals",
		`workload["0.5" <= 3`,
		"workload..x == 1",
		"workload.x == 1 2",
		"workload.x containsx 1",
	} {
		if b, err := Parse(expr); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", expr, b)
		}
	}
}

func TestLineAndString(t *testing.T) {
	res := decode(t)
	b := MustParse(`net.servers.msgs-per-op <= 2.9   margin 5%`)
	if got, want := b.String(), "net.servers.msgs-per-op <= 2.9 margin 5%"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got, want := b.Check(res).Line(), "ok     net.servers.msgs-per-op = 2.86  (<= 2.9, margin 5%: <= 3.045)"; got != want {
		t.Errorf("Line = %q, want %q", got, want)
	}
	q := MustParse(`workload.stable-latencies["0.5"] <= 200`)
	if got, want := q.String(), `workload.stable-latencies["0.5"] <= 200`; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	// A numeric key prints in brackets however it was written.
	if got, want := MustParse(`workload.stable-latencies.1 <= 2`).String(), `workload.stable-latencies["1"] <= 2`; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got := q.Check(res).Line(); !strings.HasPrefix(got, "MISSED") || !strings.Contains(got, "= 240") {
		t.Errorf("Line = %q, want MISSED with the value 240", got)
	}
}
