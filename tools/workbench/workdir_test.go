package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/glomers/glomers/tools/workbench/cli"
)

// echoNodeEnv makes the test binary an echo node, so that the test needs no
// other binary (under Bazel there is no go command to build one).
const echoNodeEnv = "WORKBENCH_TEST_ECHO_NODE"

func TestMain(m *testing.M) {
	if os.Getenv(echoNodeEnv) != "" {
		serveEcho()
		return
	}
	os.Exit(m.Run())
}

// serveEcho answers init and echo on stdin/stdout, as a Maelstrom node does.
func serveEcho() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	var self string
	for in.Scan() {
		var msg struct {
			Src  string         `json:"src"`
			Body map[string]any `json:"body"`
		}
		if json.Unmarshal(in.Bytes(), &msg) != nil {
			continue
		}
		reply := map[string]any{"in_reply_to": msg.Body["msg_id"]}
		switch msg.Body["type"] {
		case "init":
			self, _ = msg.Body["node_id"].(string)
			reply["type"] = "init_ok"
		case "echo":
			reply["type"] = "echo_ok"
			reply["echo"] = msg.Body["echo"]
		default:
			continue
		}
		out, _ := json.Marshal(map[string]any{"src": self, "dest": msg.Src, "body": reply})
		fmt.Println(string(out))
	}
}

// TestBazelRunWorksInTheUsersDirectory runs the workbench as `bazel run`
// does: started in a runfiles directory, with BUILD_WORKING_DIRECTORY naming
// the directory the user typed the command in. A relative --bin resolves
// there, the store is written there (not among Bazel's outputs), and analyze
// and compare, run the same way, find that store.
func TestBazelRunWorksInTheUsersDirectory(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	user := t.TempDir()
	if err := os.MkdirAll(filepath.Join(user, "mynode"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(user, "mynode", "node")); err != nil {
		t.Fatal(err)
	}
	runfilesRoot := t.TempDir()
	runfiles := filepath.Join(runfilesRoot, "_main")
	if err := os.Mkdir(runfiles, 0o755); err != nil {
		t.Fatal(err)
	}
	standInForBazel(t, runfilesRoot)
	t.Setenv(echoNodeEnv, "1")
	t.Setenv("BUILD_WORKING_DIRECTORY", user)

	run := func(args ...string) string {
		t.Helper()
		t.Chdir(runfiles)
		if err := enterUserDirectory(); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		if code := cli.Main(args, &stdout, &stderr); code != cli.ExitValid {
			t.Fatalf("workbench %s: exit %d\n%s\n%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
		}
		return stdout.String()
	}
	for i := 0; i < 2; i++ {
		run("test", "-w", "echo", "--bin", "./mynode/node", "--node-count", "1", "--time-limit", "1", "--rate", "10")
	}

	if _, err := os.Stat(filepath.Join(user, "store", "echo", "latest", "results.json")); err != nil {
		t.Errorf("no results in the user's directory: %v", err)
	}
	if entries, _ := os.ReadDir(runfiles); len(entries) != 0 {
		t.Errorf("the runfiles directory got %d entries, want none", len(entries))
	}
	if out := run("analyze"); out == "" {
		t.Error("analyze printed nothing for the user's latest run")
	}
	if out := run("compare", "-2", "-1"); out == "" {
		t.Error("compare printed nothing for the user's last two runs")
	}

	// serve, started the same way, serves that store: its runs page lists
	// the runs. (It stops on SIGINT, as from a terminal.)
	t.Chdir(runfiles)
	if err := enterUserDirectory(); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var serveErr bytes.Buffer
	go func() { done <- cli.Main([]string{"serve", "--port", "0"}, pw, &serveErr); pw.Close() }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve: %v\n%s", err, serveErr.String())
	}
	go io.Copy(io.Discard, pr)
	m := regexp.MustCompile(`http://[^/ ]+/`).FindString(line)
	if m == "" || !strings.HasPrefix(line, "Serving store at ") {
		t.Fatalf("serve said %q", line)
	}
	resp, err := http.Get(m)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "echo") {
		t.Errorf("serve's runs page does not list the user's echo runs:\n%.400s", page)
	}
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	if code := <-done; code != cli.ExitValid {
		t.Errorf("serve exited %d: %s", code, serveErr.String())
	}
}

// standInForBazel makes dir this binary's runfiles tree for the test.
func standInForBazel(t *testing.T, dir string) {
	old := runfilesDir
	runfilesDir = func() (string, error) { return dir, nil }
	t.Cleanup(func() { runfilesDir = old })
}

// TestAWorkbenchStartedElsewhereStays: a program under `bazel run` (the
// scoreboard) starts workbenches in directories of its own; they inherit
// BUILD_WORKING_DIRECTORY but are not in their runfiles, and must stay put.
func TestAWorkbenchStartedElsewhereStays(t *testing.T) {
	standInForBazel(t, t.TempDir())
	runDir := t.TempDir()
	t.Chdir(runDir)
	t.Setenv("BUILD_WORKING_DIRECTORY", t.TempDir())
	if err := enterUserDirectory(); err != nil {
		t.Fatal(err)
	}
	if wd, _ := os.Getwd(); wd != runDir {
		t.Errorf("working directory %s, want the run directory %s", wd, runDir)
	}
}

// TestWithoutBazelRunTheDirectoryStays checks that outside `bazel run` the
// workbench stays where it was started.
func TestWithoutBazelRunTheDirectoryStays(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("BUILD_WORKING_DIRECTORY", "")
	if err := enterUserDirectory(); err != nil {
		t.Fatal(err)
	}
	if wd, _ := os.Getwd(); wd != dir {
		t.Errorf("working directory %s, want %s", wd, dir)
	}
}

func TestAMissingUserDirectoryIsAnError(t *testing.T) {
	t.Setenv("BUILD_WORKING_DIRECTORY", filepath.Join(t.TempDir(), "gone"))
	runfiles := t.TempDir()
	standInForBazel(t, runfiles)
	t.Chdir(runfiles)
	if err := enterUserDirectory(); err == nil || !strings.Contains(err.Error(), "BUILD_WORKING_DIRECTORY") {
		t.Errorf("err = %v, want one naming BUILD_WORKING_DIRECTORY", err)
	}
}
