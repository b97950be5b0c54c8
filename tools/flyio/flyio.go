// Package flyio is the table of the challenges for Go: Fly.io's Gossip
// Glomers series and, in a suite of their own, the workloads Maelstrom's
// own course goes on to (g-set, pn-counter, txn-list-append, lin-kv). Each
// row has its binary, workload, command line, environment, Fly.io's
// targets and this project's bounds. The table is written once, in
// challenges.bzl, which the challenge BUILD files load; challenges.json is
// generated from it (tools/bazel run //tools/flyio:update) and embedded
// here so that plain go build and go run need no Bazel.
package flyio

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/glomers/glomers/tools/resultcheck/bound"
)

//go:embed challenges.json
var challengesJSON []byte

// Challenge is one row of challenges.bzl (its docstring describes the
// fields).
type Challenge struct {
	// Suite is SuiteFlyio or SuiteMaelstrom.
	Suite    string `json:"suite"`
	ID       string `json:"id"`
	Name     string `json:"name"`
	Binary   string `json:"binary"`
	Workload string `json:"workload"`
	// Args is the command line after -w and --bin, without --time-limit.
	Args []string          `json:"args"`
	Env  map[string]string `json:"env"`
	// TimeLimit is Fly.io's; Quick is the scoreboard's --quick one.
	TimeLimit int  `json:"time_limit"`
	Quick     int  `json:"quick"`
	Final     bool `json:"final"`
	// Latency says which latency Fly.io's targets speak of: "stable" or
	// "op".
	Latency string   `json:"latency"`
	Targets []Target `json:"targets"`
	// Bounds and PendingBounds are expressions of package bound.
	Bounds        []string `json:"bounds"`
	PendingBounds []string `json:"pending_bounds"`
	// CPU is the cores a run keeps busy; Quiet marks latency-sensitive
	// runs that must not share the machine with busy ones.
	CPU   float64 `json:"cpu"`
	Quiet bool    `json:"quiet"`
}

// The suites of the table.
const (
	SuiteFlyio     = "flyio"     // Fly.io's Gossip Glomers, 1 … 6c
	SuiteMaelstrom = "maelstrom" // Maelstrom's own course: CRDTs, transactions, Raft
)

// SuiteTitle names a suite for people.
func SuiteTitle(suite string) string {
	switch suite {
	case SuiteFlyio:
		return "Fly.io's Gossip Glomers"
	case SuiteMaelstrom:
		return "Maelstrom's own workloads"
	}
	return suite
}

// Metric names of Fly.io's targets.
const (
	MetricMsgsPerOp    = "msgs-per-op"
	MetricLatencyP50   = "latency-p50-ms"
	MetricLatencyMax   = "latency-max-ms"
	MetricAvailability = "availability"
)

// Target is one of Fly.io's numeric targets: the metric below Max, or
// (availability) at least Min.
type Target struct {
	Metric string  `json:"metric"`
	Max    float64 `json:"max,omitempty"`
	Min    float64 `json:"min,omitempty"`
}

var challenges = mustDecode(challengesJSON)

func mustDecode(b []byte) []Challenge {
	cs, err := decode(b)
	if err != nil {
		// The file is embedded at build time and checked by the tests.
		panic(err)
	}
	return cs
}

func decode(b []byte) ([]Challenge, error) {
	var cs []Challenge
	if err := json.Unmarshal(b, &cs); err != nil {
		return nil, fmt.Errorf("tools/flyio/challenges.json: %w", err)
	}
	for _, c := range cs {
		if c.Suite != SuiteFlyio && c.Suite != SuiteMaelstrom {
			return nil, fmt.Errorf("tools/flyio/challenges.json: challenge %s: unknown suite %q", c.ID, c.Suite)
		}
		for _, e := range append(slices.Clone(c.Bounds), c.PendingBounds...) {
			if _, err := bound.Parse(e); err != nil {
				return nil, fmt.Errorf("tools/flyio/challenges.json: challenge %s: %w", c.ID, err)
			}
		}
		for _, t := range c.Targets {
			switch t.Metric {
			case MetricMsgsPerOp, MetricLatencyP50, MetricLatencyMax, MetricAvailability:
			default:
				return nil, fmt.Errorf("tools/flyio/challenges.json: challenge %s: unknown target metric %q", c.ID, t.Metric)
			}
		}
	}
	return cs, nil
}

// Challenges lists every challenge: Fly.io's in Fly.io's order, then
// Maelstrom's. The slice is the caller's to keep; its elements share the
// table's maps and slices, which must not be modified.
func Challenges() []Challenge { return slices.Clone(challenges) }

// ByID finds a challenge by its id (1, 2, 3a … 6c, g-set, lin-kv, …).
func ByID(id string) (Challenge, bool) {
	for _, c := range challenges {
		if c.ID == id {
			return c, true
		}
	}
	return Challenge{}, false
}

// EnvList is Env as sorted KEY=VALUE strings.
func (c Challenge) EnvList() []string {
	var out []string
	for k, v := range c.Env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// ParsedBounds are the challenge's bounds, parsed (the table is checked
// when it is loaded, so this does not fail).
func (c Challenge) ParsedBounds() []bound.Bound {
	var out []bound.Bound
	for _, e := range c.Bounds {
		out = append(out, bound.MustParse(e))
	}
	return out
}

// String is the target as a table prints it, e.g. "msgs/op<30".
func (t Target) String() string {
	switch t.Metric {
	case MetricMsgsPerOp:
		return "msgs/op<" + fmtFloat(t.Max)
	case MetricLatencyP50:
		return "p50<" + fmtMS(t.Max)
	case MetricLatencyMax:
		return "max<" + fmtMS(t.Max)
	case MetricAvailability:
		if t.Min == 1 {
			return "avail=1"
		}
		return "avail≥" + fmtFloat(t.Min)
	}
	return t.Metric
}

func fmtMS(ms float64) string {
	if ms >= 1000 && ms == float64(int64(ms/1000))*1000 {
		return strconv.FormatInt(int64(ms/1000), 10) + "s"
	}
	return fmtFloat(ms) + "ms"
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Figures are a run's values of the targets' metrics (nil: not measured).
// P50MS and MaxMS are of the latency the challenge's Latency names.
type Figures struct {
	MsgsPerOp, Availability, P50MS, MaxMS *float64
}

// TargetCheck is a target with the value a run reached.
type TargetCheck struct {
	Target
	Text  string   `json:"text"`
	Value *float64 `json:"value"`
	Met   bool     `json:"met"`
}

// Check judges targets against a run's figures; a target whose metric
// was not measured is not met.
func Check(ts []Target, f Figures) []TargetCheck {
	var out []TargetCheck
	for _, t := range ts {
		tc := TargetCheck{Target: t, Text: t.String()}
		switch t.Metric {
		case MetricMsgsPerOp:
			tc.Value = f.MsgsPerOp
		case MetricLatencyP50:
			tc.Value = f.P50MS
		case MetricLatencyMax:
			tc.Value = f.MaxMS
		case MetricAvailability:
			tc.Value = f.Availability
		}
		if tc.Value != nil {
			if t.Metric == MetricAvailability {
				tc.Met = *tc.Value >= t.Min
			} else {
				tc.Met = *tc.Value < t.Max
			}
		}
		out = append(out, tc)
	}
	return out
}
