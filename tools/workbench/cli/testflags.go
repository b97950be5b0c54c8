package cli

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/glomers/glomers/tools/flyio"
	"github.com/glomers/glomers/tools/workbench/network"
	"github.com/glomers/glomers/tools/workbench/registry"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// TestOptions are the parsed options of `test`.
type TestOptions struct {
	Workload        string   `json:"workload"`
	Bin             string   `json:"bin"`
	Args            []string `json:"args"`
	Nodes           []string `json:"nodes"`
	Rate            float64  `json:"rate"`
	LatencyMS       int64    `json:"latency"`
	LatencyDist     string   `json:"latency-dist"`
	Delivery        string   `json:"delivery,omitempty"`
	Nemesis         []string `json:"nemesis"`
	NemesisInterval float64  `json:"nemesis-interval"`
	Topology        string   `json:"topology"`
	Availability    string   `json:"availability,omitempty"`
	Models          []string `json:"consistency-models"`
	KeyCount        int      `json:"key-count,omitempty"`
	MaxTxnLength    int      `json:"max-txn-length"`
	MaxWritesPerKey int      `json:"max-writes-per-key"`
	TimeLimit       int64    `json:"time-limit"`
	Concurrency     int      `json:"concurrency"`
	TestCount       int      `json:"test-count"`
	LogStderr       bool     `json:"log-stderr"`
	LogNetSend      bool     `json:"log-net-send"`
	LogNetRecv      bool     `json:"log-net-recv"`
	// MaelstromVerdicts turns off the checks where the workbench is
	// stricter than Maelstrom, so verdicts match Maelstrom's exactly.
	MaelstromVerdicts bool `json:"maelstrom-verdicts,omitempty"`
	// Bounds names the Fly.io challenge this repository's node runs, so
	// the summary also judges the project's bounds for it and names its
	// node settings (maelstrom_test passes it; another node's run never
	// gets them).
	Bounds string `json:"bounds,omitempty"`
	// NodeEnv holds the --node-env NAME=VALUE settings, added to the
	// environment the nodes inherit.
	NodeEnv   []string `json:"node-env-flags,omitempty"`
	Seed      uint64   `json:"seed"`
	SeedGiven bool     `json:"-"`

	// What the run was, recorded in test.json for serve, analyze and
	// compare; set by the test command, not by options.
	Command   []string          `json:"command,omitempty"`
	BinSHA256 string            `json:"bin-sha256,omitempty"`
	Env       map[string]string `json:"node-env,omitempty"`
}

// testFlag is one option of `test`: how the parser and the help text see
// it, and how its value lands in TestOptions. Defaults are applied through
// apply too, so the default shown in --help is the one a run gets.
type testFlag struct {
	flagSpec
	// apply stores a value; nil for options handled elsewhere (the node
	// list, help) or accepted and ignored.
	apply func(o *TestOptions, v string) error
	// workbenchOnly marks options Maelstrom does not have (it refuses
	// them: `Unknown option`); the stand-in Maelstrom knows the others.
	workbenchOnly bool
}

// The node options interact (--node-count wins over the others), so they
// are read together by parseNodes; apply is nil for them.
var testFlags = []testFlag{
	{flagSpec: flagSpec{long: "bin", value: "FILE", help: "node binary to test (required); leftover arguments are passed to it"},
		apply: func(o *TestOptions, v string) error { o.Bin = v; return nil }},
	{flagSpec: flagSpec{long: "workload", short: "w", value: "NAME", def: "lin-kv",
		help: "workload to run: " + strings.Join(registry.Names(), ", ") + " (`workbench doc NAME` describes one)"},
		apply: func(o *TestOptions, v string) error { o.Workload = v; return nil }},
	{flagSpec: flagSpec{long: "node-count", value: "NUM", help: "number of nodes, named n0…n(NUM-1); overrides --nodes"}},
	{flagSpec: flagSpec{long: "nodes", value: "LIST", repeat: true, help: "comma-separated node names"}},
	{flagSpec: flagSpec{long: "node", short: "n", value: "NAME", repeat: true, help: "a node name (repeatable)"}},
	{flagSpec: flagSpec{long: "nodes-file", value: "FILE", help: "file with one node name per line (default n1…n5 when no node option is given)"}},
	{flagSpec: flagSpec{long: "rate", value: "RATE", def: "5", help: "mean client requests per second, all clients together; 0 issues none"},
		apply: func(o *TestOptions, v string) error {
			r, err := strconv.ParseFloat(v, 64)
			if err != nil || r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
				return errors.New("must be a non-negative number")
			}
			o.Rate = r
			return nil
		}},
	{flagSpec: flagSpec{long: "latency", value: "MILLIS", def: "0", help: "mean inter-node latency in ms"},
		apply: func(o *TestOptions, v string) error {
			l, err := strconv.ParseInt(v, 10, 64)
			if err != nil || l < 0 {
				return errors.New("must be a non-negative integer (ms)")
			}
			o.LatencyMS = l
			return nil
		}},
	{flagSpec: flagSpec{long: "latency-dist", value: "DIST", def: network.Constant,
		help: strings.Join([]string{network.Constant, network.Uniform, network.Exponential}, ", ")},
		apply: func(o *TestOptions, v string) error { o.LatencyDist = v; return nil }},
	{flagSpec: flagSpec{long: "delivery", value: "MODEL", def: network.Maelstrom,
		help: "maelstrom: each node's receiver sleeps until the deadline of the message it took first, so later, earlier-due messages (client requests too) wait behind it, as in Maelstrom; ideal: every message is delivered exactly at its deadline (workbench only)"},
		apply: func(o *TestOptions, v string) error { o.Delivery = v; return nil }, workbenchOnly: true},
	{flagSpec: flagSpec{long: "nemesis", value: "FAULTS", help: "comma-separated faults to inject (only partition)"},
		apply: func(o *TestOptions, v string) error {
			for _, f := range splitList(v) {
				if f != "partition" {
					return fmt.Errorf("unknown fault %q (known: partition)", f)
				}
				o.Nemesis = append(o.Nemesis, f)
			}
			return nil
		}},
	{flagSpec: flagSpec{long: "nemesis-interval", value: "SECONDS", def: "10", help: "mean seconds between nemesis operations"},
		apply: func(o *TestOptions, v string) error {
			s, err := strconv.ParseFloat(v, 64)
			if err != nil || s <= 0 || math.IsInf(s, 0) {
				return errors.New("must be a positive number of seconds")
			}
			o.NemesisInterval = s
			return nil
		}},
	{flagSpec: flagSpec{long: "topology", value: "TYPE", def: "grid", help: "broadcast topology: " + strings.Join(registry.Topologies(), ", ")},
		apply: func(o *TestOptions, v string) error {
			for _, t := range registry.Topologies() {
				if v == t {
					o.Topology = v
					return nil
				}
			}
			return fmt.Errorf("unknown (known: %s)", strings.Join(registry.Topologies(), ", "))
		}},
	{flagSpec: flagSpec{long: "availability", value: "AVAIL", help: "required availability: total, or a fraction in [0,1]"},
		apply: func(o *TestOptions, v string) error {
			if v != "total" {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil || f < 0 || f > 1 {
					return errors.New(`must be "total" or a number between 0 and 1`)
				}
			}
			o.Availability = v
			return nil
		}},
	{flagSpec: flagSpec{long: "consistency-models", value: "MODELS", def: "strict-serializable", help: "consistency models to check (txn workloads)"},
		apply: func(o *TestOptions, v string) error {
			o.Models = splitList(v)
			if len(o.Models) == 0 {
				return errors.New("no model given")
			}
			return nil
		}},
	{flagSpec: flagSpec{long: "key-count", value: "INT", help: "keys in play at once (txn, kafka; default: the workload's own)"},
		apply: positiveInto(func(o *TestOptions) *int { return &o.KeyCount })},
	{flagSpec: flagSpec{long: "max-txn-length", value: "INT", def: "4", help: "most micro-ops per transaction"},
		apply: positiveInto(func(o *TestOptions) *int { return &o.MaxTxnLength })},
	{flagSpec: flagSpec{long: "max-writes-per-key", value: "INT", def: "16", help: "writes per key before it is retired"},
		apply: positiveInto(func(o *TestOptions) *int { return &o.MaxWritesPerKey })},
	{flagSpec: flagSpec{long: "time-limit", value: "SECONDS", def: "60", help: "length of the main phase"},
		apply: func(o *TestOptions, v string) error {
			n, err := positive(v)
			o.TimeLimit = int64(n)
			return err
		}},
	{flagSpec: flagSpec{long: "concurrency", value: "NUMBER", def: "1n", help: "client threads: N, or Kn for K per node"},
		apply: func(o *TestOptions, v string) error {
			c, err := parseConcurrency(v, len(o.Nodes))
			o.Concurrency = c
			return err
		}},
	{flagSpec: flagSpec{long: "test-count", value: "NUMBER", def: "1", help: "how many times to run the test"},
		apply: positiveInto(func(o *TestOptions) *int { return &o.TestCount })},
	{flagSpec: flagSpec{long: "node-env", value: "NAME=VALUE", repeat: true,
		help: "set an environment variable for the nodes (repeatable); test.json records these, GOSSIP_PRESET, KAFKA_MODE, GOMAXPROCS, GOGC, GOMEMLIMIT, GODEBUG and the variables named in WORKBENCH_NODE_ENV"},
		apply: func(o *TestOptions, v string) error {
			name, _, ok := strings.Cut(v, "=")
			if !ok || name == "" || strings.ContainsAny(name, " \t\n") {
				return errors.New("must be NAME=VALUE")
			}
			o.NodeEnv = append(o.NodeEnv, v)
			return nil
		}, workbenchOnly: true},
	{flagSpec: flagSpec{long: "maelstrom-verdicts", help: "judge exactly as Maelstrom does: leave the workbench's strict checks (e.g. txn reads of values nobody wrote, broadcast reads of values nobody broadcast; docs/verdicts.md) out of the verdict and the exit status"},
		apply: func(o *TestOptions, v string) error { o.MaelstromVerdicts = v == "true"; return nil }, workbenchOnly: true},
	{flagSpec: flagSpec{long: "bounds", value: "CHALLENGE", help: "this repository's challenge the node solves (e.g. 5c): the summary also judges the project's bounds for it (tools/flyio/challenges.bzl) and names its node settings (KAFKA_MODE, GOSSIP_PRESET); workbench only"},
		apply: func(o *TestOptions, v string) error {
			c, ok := flyio.ByID(v)
			if !ok {
				var ids []string
				for _, c := range flyio.Challenges() {
					ids = append(ids, c.ID)
				}
				return fmt.Errorf("unknown challenge (known: %s)", strings.Join(ids, ", "))
			}
			if c.Workload != o.Workload {
				return fmt.Errorf("challenge %s runs -w %s, not %s", v, c.Workload, o.Workload)
			}
			o.Bounds = v
			return nil
		}, workbenchOnly: true},
	{flagSpec: flagSpec{long: "log-stderr", help: "echo node stderr into the console log"},
		apply: func(o *TestOptions, v string) error { o.LogStderr = v == "true"; return nil }},
	{flagSpec: flagSpec{long: "log-net-send", help: "log every message sent"},
		apply: func(o *TestOptions, v string) error { o.LogNetSend = v == "true"; return nil }},
	{flagSpec: flagSpec{long: "log-net-recv", help: "log every message delivered"},
		apply: func(o *TestOptions, v string) error { o.LogNetRecv = v == "true"; return nil }},
	{flagSpec: flagSpec{long: "seed", value: "N", help: "random seed (default: from the clock; printed)"},
		apply: func(o *TestOptions, v string) error {
			s, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return errors.New("must be a non-negative integer")
			}
			o.Seed, o.SeedGiven = s, true
			return nil
		}, workbenchOnly: true},
	{flagSpec: flagSpec{long: "help", short: "h", help: "show this help"}},
	// Jepsen options Maelstrom accepts and ignores (it never uses SSH).
	{flagSpec: flagSpec{long: "username", value: "USER", help: "ignored (Jepsen SSH option)"}},
	{flagSpec: flagSpec{long: "password", value: "PASS", help: "ignored (Jepsen SSH option)"}},
	{flagSpec: flagSpec{long: "ssh-private-key", value: "FILE", help: "ignored (Jepsen SSH option)"}},
	{flagSpec: flagSpec{long: "strict-host-key-checking", help: "ignored (Jepsen SSH option)"}},
	{flagSpec: flagSpec{long: "no-ssh", help: "ignored (Jepsen SSH option)"}},
	{flagSpec: flagSpec{long: "leave-db-running", help: "ignored"}},
	{flagSpec: flagSpec{long: "logging-json", help: "ignored"}},
}

// testSpecs is the parser's view of testFlags.
func testSpecs() []flagSpec {
	specs := make([]flagSpec, len(testFlags))
	for i, f := range testFlags {
		specs[i] = f.flagSpec
	}
	return specs
}

// ParseTestArgs parses and validates `test`'s arguments: the node list
// first (--concurrency Kn depends on it), then every other option in table
// order, given or defaulted, then the combinations the parts cannot judge
// alone (the network config, the workload's own constraints).
func ParseTestArgs(args []string) (*TestOptions, error) {
	p, err := parseFlags(testSpecs(), args)
	if err != nil {
		return nil, err
	}
	o := &TestOptions{Args: p.positional}
	if o.Nodes, err = parseNodes(p); err != nil {
		return nil, err
	}
	for _, f := range testFlags {
		if err := applyFlag(o, f, p); err != nil {
			return nil, err
		}
	}
	if err := validateTest(o); err != nil {
		return nil, err
	}
	return o, nil
}

// applyFlag stores one option's given value, or its default.
func applyFlag(o *TestOptions, f testFlag, p parsed) error {
	if f.apply == nil {
		return nil
	}
	vals := p.values[f.long]
	if len(vals) == 0 {
		if f.def == "" {
			return nil
		}
		vals = []string{f.def}
	}
	if !f.repeat {
		vals = vals[len(vals)-1:]
	}
	for _, v := range vals {
		if err := f.apply(o, v); err != nil {
			// Errors from parseConcurrency already name the option.
			if strings.HasPrefix(err.Error(), "--") {
				return err
			}
			return fmt.Errorf("--%s %q: %w", f.long, v, err)
		}
	}
	return nil
}

// validateTest checks what depends on several options at once.
func validateTest(o *TestOptions) error {
	if o.Bin == "" {
		return errors.New("expected a --bin BINARY to test (see `workbench test --help`)")
	}
	w, ok := registry.Lookup(o.Workload)
	if !ok {
		return fmt.Errorf("unknown workload %q (known: %s)", o.Workload, strings.Join(registry.Names(), ", "))
	}
	err := (network.Config{Latency: time.Duration(o.LatencyMS) * time.Millisecond, Dist: o.LatencyDist, Delivery: o.Delivery}).Validate()
	if errors.Is(err, network.ErrNoMeanLatency) {
		return errors.New("--latency-dist exponential needs a positive --latency")
	}
	if err != nil {
		return err
	}
	if w.Validate != nil {
		if err := w.Validate(o.WorkloadOptions()); err != nil {
			return fmt.Errorf("%s: %w", o.Workload, err)
		}
	}
	return nil
}

// parseNodes reads the node list: --node-count wins; else --nodes, --node
// and --nodes-file together; else Jepsen's default n1…n5.
func parseNodes(p parsed) ([]string, error) {
	var nodes []string
	if p.has("node-count") {
		n, err := positive(p.last("node-count"))
		if err != nil {
			return nil, fmt.Errorf("--node-count %q: %w", p.last("node-count"), err)
		}
		for i := 0; i < n; i++ {
			nodes = append(nodes, "n"+strconv.Itoa(i))
		}
		return nodes, nil
	}
	for _, list := range p.values["nodes"] {
		nodes = append(nodes, splitList(list)...)
	}
	nodes = append(nodes, p.values["node"]...)
	if f := p.last("nodes-file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--nodes-file: %w", err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				nodes = append(nodes, line)
			}
		}
	}
	if len(nodes) == 0 {
		nodes = []string{"n1", "n2", "n3", "n4", "n5"}
	}
	seen := map[string]bool{}
	for _, n := range nodes {
		if seen[n] {
			return nil, fmt.Errorf("node %q listed twice", n)
		}
		seen[n] = true
		if network.IsClient(n) {
			return nil, fmt.Errorf("node name %q starts with \"c\", which the network reserves for clients", n)
		}
	}
	return nodes, nil
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func positive(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, errors.New("must be a positive integer")
	}
	return n, nil
}

// positiveInto makes an apply func that stores a positive integer.
func positiveInto(field func(*TestOptions) *int) func(*TestOptions, string) error {
	return func(o *TestOptions, v string) error {
		n, err := positive(v)
		*field(o) = n
		return err
	}
}

// parseConcurrency reads "N" or "Kn" (K per node).
func parseConcurrency(s string, nodes int) (int, error) {
	mult := 1
	num := s
	if strings.HasSuffix(s, "n") {
		mult, num = nodes, strings.TrimSuffix(s, "n")
	}
	k, err := strconv.Atoi(num)
	if err != nil || k <= 0 {
		return 0, fmt.Errorf("--concurrency %q: must be a positive integer, optionally followed by n (per node)", s)
	}
	return k * mult, nil
}

// WorkloadOptions converts the CLI options into what workloads read.
func (o *TestOptions) WorkloadOptions() workload.Options {
	return workload.Options{
		Nodes: o.Nodes, Concurrency: o.Concurrency, Rate: o.Rate,
		TimeLimit: time.Duration(o.TimeLimit) * time.Second,
		Latency:   time.Duration(o.LatencyMS) * time.Millisecond,
		Topology:  o.Topology, KeyCount: o.KeyCount, MaxTxnLength: o.MaxTxnLength,
		MaxWritesPerKey: o.MaxWritesPerKey, ConsistencyModels: o.Models,
		Availability: o.Availability, Nemesis: o.Nemesis,
		MaelstromVerdicts: o.MaelstromVerdicts,
	}
}

// testUsage prints `test --help`, generated from the flag table.
func testUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: workbench test --bin FILE [options] [-- node args]")
	fmt.Fprintln(w, "\nRuns a workload against a node binary and stores the run under ./store.")
	fmt.Fprintln(w, "\noptions:")
	printFlags(w, testSpecs())
	fmt.Fprintln(w, "\nExit status: 0 valid, 1 invalid, 2 unknown, 254 bad arguments, 255 crashed.")
	fmt.Fprintln(w, "A run that fails only the workbench's strict checks (marked [strict]; Maelstrom would accept")
	fmt.Fprintln(w, "it, and the verdict says so) exits 1, unless --maelstrom-verdicts is given.")
}
