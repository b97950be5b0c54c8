package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
)

// What a run records about how its nodes were started, so that two runs of
// the same command with different node settings (GOSSIP_PRESET=latency
// vs messages) can be told apart afterwards.
//
// The nodes inherit the workbench's whole environment, as under Maelstrom,
// but a shell's environment is mostly noise for this purpose (paths,
// certificates, terminal settings) and may hold credentials that must not
// land in a store `serve` publishes. So a run records an allowlist: the
// variables set with --node-env, the settings this project's nodes read
// (GOSSIP_PRESET, KAFKA_MODE), the Go runtime's (which change how any Go
// node runs), and any variable named in WORKBENCH_NODE_ENV
// (comma-separated), for nodes with settings of their own.
var recordedNames = []string{"GOSSIP_PRESET", "KAFKA_MODE", "GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GODEBUG"}

// recordedEnv returns the node environment to record from the inherited
// environ and the --node-env settings (which win, as they do for the
// nodes).
func recordedEnv(environ, nodeEnv []string) map[string]string {
	inherited := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			inherited[k] = v
		}
	}
	names := append([]string(nil), recordedNames...)
	names = append(names, splitList(inherited["WORKBENCH_NODE_ENV"])...)
	env := map[string]string{}
	for _, k := range names {
		if v, ok := inherited[k]; ok {
			env[k] = v
		}
	}
	for _, kv := range nodeEnv {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return env
}

// setNodeEnv puts the --node-env settings into the workbench's own
// environment, which the nodes inherit, and returns a function that
// restores what was there before.
func setNodeEnv(nodeEnv []string) (restore func(), err error) {
	type saved struct {
		val string
		had bool
	}
	prev := map[string]saved{}
	restore = func() {
		for k, s := range prev {
			if s.had {
				os.Setenv(k, s.val)
			} else {
				os.Unsetenv(k)
			}
		}
	}
	for _, kv := range nodeEnv {
		k, v, _ := strings.Cut(kv, "=")
		if _, done := prev[k]; !done {
			old, had := os.LookupEnv(k)
			prev[k] = saved{old, had}
		}
		if err := os.Setenv(k, v); err != nil {
			restore()
			return nil, fmt.Errorf("--node-env %s: %w", kv, err)
		}
	}
	return restore, nil
}

// fileSHA256 is the hex digest of a file.
func fileSHA256(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("digest %s: %w", name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
