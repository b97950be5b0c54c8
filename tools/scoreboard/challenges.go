package main

import (
	"strconv"
	"strings"
)

// Challenge is one Gossip Glomers challenge as Fly.io runs it: which
// binary, which workload, the command line from the challenge page, and
// the numeric targets the page sets beyond :valid? true.
type Challenge struct {
	ID     string // Fly.io's number: 1, 2, 3a … 6c
	Name   string
	Binary string // key of the --bin flag: echo, unique-ids, broadcast, counter, kafka, txn
	// Workload and Args are the workbench command line without --bin and
	// --time-limit, which the scoreboard adds.
	Workload string
	Args     []string
	// TimeLimit is Fly.io's; Quick is what --quick uses.
	TimeLimit, Quick int
	// Env is added to the workbench's environment (the node inherits it),
	// e.g. the gossip preset for 3d and 3e.
	Env []string
	// Final: the workload has a final phase (heal, 10 s quiet, final
	// reads), which adds about 11 s to the run.
	Final bool
	// Latency says which latency Fly.io's targets speak of: "stable"
	// (broadcast's time for a value to reach every node) or "op" (client
	// operation latency).
	Latency string
	Targets []Target
}

// Metric names, as scoreboard.json writes them.
const (
	MetricMsgsPerOp    = "msgs-per-op"
	MetricLatencyP50   = "latency-p50-ms"
	MetricLatencyMax   = "latency-max-ms"
	MetricAvailability = "availability"
)

// Target is a bound on one metric: below Max, or (for availability) at
// least Min.
type Target struct {
	Metric string  `json:"metric"`
	Max    float64 `json:"max,omitempty"`
	Min    float64 `json:"min,omitempty"`
}

// String is the target as the table prints it, e.g. "msgs/op<30".
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

// totalAvailability is the target behind --availability total.
var totalAvailability = Target{Metric: MetricAvailability, Min: 1}

func args(s string) []string { return strings.Fields(s) }

// Challenges lists every challenge with Fly.io's command lines
// (spec/challenges.md §1). 6c uses a plain --nemesis where the page's
// text has an en dash (which would have disabled partitions).
var Challenges = []Challenge{
	{ID: "1", Name: "Echo", Binary: "echo", Workload: "echo",
		Args: args("--node-count 1"), TimeLimit: 10, Quick: 5, Latency: "op"},
	{ID: "2", Name: "Unique ID generation", Binary: "unique-ids", Workload: "unique-ids",
		Args: args("--rate 1000 --node-count 3 --availability total --nemesis partition"), TimeLimit: 30, Quick: 10, Latency: "op",
		Targets: []Target{totalAvailability}},
	{ID: "3a", Name: "Single-node broadcast", Binary: "broadcast", Workload: "broadcast",
		Args: args("--node-count 1 --rate 10"), TimeLimit: 20, Quick: 5, Final: true, Latency: "stable"},
	{ID: "3b", Name: "Multi-node broadcast", Binary: "broadcast", Workload: "broadcast",
		Args: args("--node-count 5 --rate 10"), TimeLimit: 20, Quick: 5, Final: true, Latency: "stable"},
	{ID: "3c", Name: "Fault-tolerant broadcast", Binary: "broadcast", Workload: "broadcast",
		Args: args("--node-count 5 --rate 10 --nemesis partition"), TimeLimit: 20, Quick: 10, Final: true, Latency: "stable"},
	{ID: "3d", Name: "Efficient broadcast I", Binary: "broadcast", Workload: "broadcast",
		Args: args("--node-count 25 --rate 100 --latency 100"), TimeLimit: 20, Quick: 10, Final: true, Latency: "stable",
		Env: []string{"GOSSIP_PRESET=latency"},
		Targets: []Target{
			{Metric: MetricMsgsPerOp, Max: 30},
			{Metric: MetricLatencyP50, Max: 400},
			{Metric: MetricLatencyMax, Max: 600},
		}},
	{ID: "3e", Name: "Efficient broadcast II", Binary: "broadcast", Workload: "broadcast",
		Args: args("--node-count 25 --rate 100 --latency 100"), TimeLimit: 20, Quick: 10, Final: true, Latency: "stable",
		Env: []string{"GOSSIP_PRESET=messages"},
		Targets: []Target{
			{Metric: MetricMsgsPerOp, Max: 20},
			{Metric: MetricLatencyP50, Max: 1000},
			{Metric: MetricLatencyMax, Max: 2000},
		}},
	{ID: "4", Name: "Grow-only counter", Binary: "counter", Workload: "g-counter",
		Args: args("--node-count 3 --rate 100 --nemesis partition"), TimeLimit: 20, Quick: 10, Final: true, Latency: "op"},
	{ID: "5a", Name: "Single-node Kafka-style log", Binary: "kafka", Workload: "kafka",
		Args: args("--node-count 1 --concurrency 2n --rate 1000"), TimeLimit: 20, Quick: 5, Final: true, Latency: "op"},
	// 5b runs the kafka node's straightforward lin-kv mode and 5c its
	// efficient owner mode (challenges/kafka reads KAFKA_MODE), so the
	// board shows what 5c saves.
	{ID: "5b", Name: "Multi-node Kafka-style log", Binary: "kafka", Workload: "kafka",
		Args: args("--node-count 2 --concurrency 2n --rate 1000"), TimeLimit: 20, Quick: 5, Final: true, Latency: "op",
		Env: []string{"KAFKA_MODE=kv"}},
	{ID: "5c", Name: "Efficient Kafka-style log", Binary: "kafka", Workload: "kafka",
		Args: args("--node-count 2 --concurrency 2n --rate 1000"), TimeLimit: 20, Quick: 5, Final: true, Latency: "op",
		Env: []string{"KAFKA_MODE=owner"}},
	{ID: "6a", Name: "Single-node transactions", Binary: "txn", Workload: "txn-rw-register",
		Args: args("--node-count 1 --rate 1000 --concurrency 2n --consistency-models read-uncommitted --availability total"), TimeLimit: 20, Quick: 5, Latency: "op",
		Targets: []Target{totalAvailability}},
	{ID: "6b", Name: "Read-uncommitted transactions", Binary: "txn", Workload: "txn-rw-register",
		Args: args("--node-count 2 --concurrency 2n --rate 1000 --consistency-models read-uncommitted"), TimeLimit: 20, Quick: 5, Latency: "op"},
	{ID: "6b-partition", Name: "Read-uncommitted, partitioned", Binary: "txn", Workload: "txn-rw-register",
		Args: args("--node-count 2 --concurrency 2n --rate 1000 --consistency-models read-uncommitted --availability total --nemesis partition"), TimeLimit: 20, Quick: 10, Latency: "op",
		Targets: []Target{totalAvailability}},
	{ID: "6c", Name: "Read-committed transactions", Binary: "txn", Workload: "txn-rw-register",
		Args: args("--node-count 2 --concurrency 2n --rate 1000 --consistency-models read-committed --availability total --nemesis partition"), TimeLimit: 20, Quick: 10, Latency: "op",
		Targets: []Target{totalAvailability}},
}

// Binaries are the --bin keys the challenges use.
func Binaries() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range Challenges {
		if !seen[c.Binary] {
			seen[c.Binary] = true
			out = append(out, c.Binary)
		}
	}
	return out
}

// timeLimit is the run's --time-limit.
func (c Challenge) timeLimit(quick bool) int {
	if quick {
		return c.Quick
	}
	return c.TimeLimit
}

// CommandArgs is the workbench command line for this challenge.
func (c Challenge) CommandArgs(bin string, quick bool, seed string) []string {
	a := []string{"test", "-w", c.Workload, "--bin", bin}
	a = append(a, c.Args...)
	a = append(a, "--time-limit", strconv.Itoa(c.timeLimit(quick)))
	if seed != "" {
		a = append(a, "--seed", seed)
	}
	return a
}

// expectedSeconds estimates a run's wall time: the time limit, plus the
// final phase's heal, 10 s quiet and final reads, plus start-up.
func (c Challenge) expectedSeconds(quick bool) int {
	s := c.timeLimit(quick) + 1
	if c.Final {
		s += 11
	}
	return s
}
