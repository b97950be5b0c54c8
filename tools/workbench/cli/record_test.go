package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glomers/glomers/tools/workbench/store/storetest"
)

func TestRecordedEnvKeepsNodeSettingsOnly(t *testing.T) {
	env := recordedEnv([]string{"PATH=/bin", "HOME=/root", "GOSSIP_PRESET=latency", "LC_ALL=C", "GITHUB_TOKEN=x",
		"GOMAXPROCS=2", "GOPATH=/go", "KAFKA_MODE=replicated", "MY_NODE_FANOUT=3", "WORKBENCH_NODE_ENV=MY_NODE_FANOUT, OTHER"},
		[]string{"KAFKA_MODE=single", "EXTRA=ok"})
	want := map[string]string{"GOSSIP_PRESET": "latency", "GOMAXPROCS": "2", "KAFKA_MODE": "single", "EXTRA": "ok", "MY_NODE_FANOUT": "3"}
	if len(env) != len(want) {
		t.Errorf("got %v, want %v", env, want)
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q (all: %v)", k, env[k], v, env)
		}
	}
}

func TestSetNodeEnvRestores(t *testing.T) {
	t.Setenv("WB_A", "old")
	os.Unsetenv("WB_B")
	restore, err := setNodeEnv([]string{"WB_A=new", "WB_B=x=y"})
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("WB_A") != "new" || os.Getenv("WB_B") != "x=y" {
		t.Errorf("not set: %q %q", os.Getenv("WB_A"), os.Getenv("WB_B"))
	}
	restore()
	if _, had := os.LookupEnv("WB_B"); had || os.Getenv("WB_A") != "old" {
		t.Errorf("not restored: %q", os.Getenv("WB_A"))
	}
}

// TestRunRecordsWhatItWas runs a test and checks that test.json holds the
// command line, the binary's digest and the node environment, and that
// analyze shows them.
func TestRunRecordsWhatItWas(t *testing.T) {
	needNode(t)
	t.Setenv("GOSSIP_PRESET", "messages")
	code, out := runCLI(t, "-w", "echo", "--bin", testNode, "--node-count", "1", "--time-limit", "1", "--rate", "10",
		"--node-env", "KAFKA_MODE=single")
	if code != ExitValid {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	l := latestRun(t, out)
	var rec struct {
		Command   []string          `json:"command"`
		BinSHA256 string            `json:"bin-sha256"`
		NodeEnv   map[string]string `json:"node-env"`
	}
	b, _ := os.ReadFile(filepath.Join(l.Dir, "test.json"))
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	if strings.Join(rec.Command, " ") != "workbench test -w echo --bin "+testNode+" --node-count 1 --time-limit 1 --rate 10 --node-env KAFKA_MODE=single" {
		t.Errorf("command: %q", rec.Command)
	}
	if sum, _ := exec.Command("sha256sum", testNode).Output(); len(sum) < 64 || rec.BinSHA256 != string(sum[:64]) {
		t.Errorf("bin-sha256 %q, sha256sum says %.64s", rec.BinSHA256, sum)
	}
	if rec.NodeEnv["GOSSIP_PRESET"] != "messages" || rec.NodeEnv["KAFKA_MODE"] != "single" || rec.NodeEnv["PATH"] != "" {
		t.Errorf("node-env: %v", rec.NodeEnv)
	}
	if _, set := os.LookupEnv("KAFKA_MODE"); set {
		t.Error("--node-env leaked into the workbench's environment after the run")
	}
	var stdout, stderr bytes.Buffer
	if code := runAnalyze([]string{"-t", l.Dir}, &stdout, &stderr); code != ExitValid {
		t.Fatalf("analyze: %d %s", code, stderr.String())
	}
	for _, want := range []string{"command: workbench test -w echo", "node binary sha256: " + rec.BinSHA256, "node environment: GOSSIP_PRESET=messages KAFKA_MODE=single"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("analyze output lacks %q:\n%s", want, stdout.String())
		}
	}
}

// maelstromStore holds two real Maelstrom runs; tests work on copies
// (Bazel's runfiles are symlinks, which the store's reader refuses).
const maelstromStore = "../store/testdata/maelstrom-store"

func TestAnalyzeReadsMaelstromRuns(t *testing.T) {
	for _, tc := range []struct{ dir, command string }{
		{"echo/20261202T032124.135+0000", "command: lein run test -w echo --bin ./echo --node-count 1 --time-limit 10"},
		{"broadcast/20261202T032146.864+0000", "command: lein run test -w broadcast --bin ./broadcast --node-count 5"},
	} {
		dir := filepath.Join(storetest.Copy(t, maelstromStore), tc.dir)
		var stdout, stderr bytes.Buffer
		if code := runAnalyze([]string{"-t", dir}, &stdout, &stderr); code != ExitValid {
			t.Errorf("analyze %s: exit %d\n%s%s", tc.dir, code, stdout.String(), stderr.String())
		}
		if !strings.Contains(stdout.String(), tc.command) || !strings.Contains(stdout.String(), "Everything looks good") {
			t.Errorf("analyze %s:\n%s", tc.dir, stdout.String())
		}
	}
}
