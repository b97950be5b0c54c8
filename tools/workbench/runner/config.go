package runner

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/glomers/glomers/tools/workbench/network"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// A run's configuration: what the caller sets, and the defaults validate fills in
// before anything is opened, so the rest of the run reads one settled Config.

// Config is everything one run needs.
type Config struct {
	Workload *workload.Workload
	Opts     workload.Options
	Bin      string   // node binary
	Args     []string // appended to the node's command line
	// Seed derives every random source of the run (generator, rate
	// schedule, nemesis, latency, services), so one seed reproduces the
	// op values, gaps and partition schedule.
	Seed            uint64
	LatencyDist     string        // constant, uniform, exponential
	Delivery        string        // network.Maelstrom (default) or network.Ideal
	NemesisInterval time.Duration // mean gap between nemesis ops (default 10 s)
	// NodeLog returns the stderr log path of a node ("" discards).
	NodeLog    func(node string) string
	LogStderr  bool
	LogNetSend bool
	LogNetRecv bool
	Logger     *slog.Logger
	// Services starts Maelstrom's services (lin-kv, seq-kv, lww-kv,
	// lin-tso) on the network and returns their stop function. The cli
	// sets it to registry.Services; nil starts none.
	Services func(ctx context.Context, net *network.Network, rng *rand.Rand, log *slog.Logger) (stop func())
	// Progress, if set, receives a one-line live status every 250 ms
	// (carriage-return updated), or with ProgressLines a whole line every
	// 5 s (for a pipe or a log, where a live line would be noise).
	Progress      io.Writer
	ProgressLines bool
	// Dir receives history.json, history.txt and net-journal.json as the
	// run goes (the store's run directory), so that memory stays flat
	// however long the run is. "" streams them to a temporary directory
	// that is removed when Run returns.
	Dir string

	InitTimeout  time.Duration // per node init (default 10 s)
	RecoveryWait time.Duration // quiet period before the final phase (default 10 s)
	FinalTimeout time.Duration // bound on the final phase (default 60 s)
	KillGrace    time.Duration // SIGTERM→SIGKILL grace at teardown (default 0)
}

// validate refuses a config no run can be made of and fills in the
// defaults of the rest.
func (cfg *Config) validate() error {
	if cfg.Workload == nil {
		return errors.New("no workload")
	}
	if len(cfg.Opts.Nodes) == 0 {
		return errors.New("no nodes")
	}
	if cfg.Opts.Concurrency <= 0 {
		cfg.Opts.Concurrency = len(cfg.Opts.Nodes)
	}
	setDefault(&cfg.InitTimeout, 10*time.Second)
	setDefault(&cfg.RecoveryWait, 10*time.Second)
	setDefault(&cfg.FinalTimeout, 60*time.Second)
	setDefault(&cfg.NemesisInterval, 10*time.Second)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return nil
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d <= 0 {
		*d = v
	}
}
