// Command newchallenge starts a new challenge in one command:
//
//	tools/bazel run //tools:new_challenge -- NAME WORKLOAD [FLYIO-ID]
//	go run ./tools/newchallenge NAME WORKLOAD [FLYIO-ID]
//
// It writes challenges/NAME/main.go (a node on lib/node with one handler
// per request type of the workload), its BUILD.bazel as gazelle would
// generate it, and the BUILD file's Maelstrom test: the workload's Maelstrom
// command line, taken from Fly.io's first challenge with that workload in
// tools/flyio/challenges.bzl (or the one FLYIO-ID names). For echo the node
// is the whole solution and its test passes; for the other workloads each
// handler answers "not supported" with a text that names the file to edit,
// so the test fails saying what is left to write.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/glomers/glomers/tools/flyio"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
		usage(stdout)
		return 0
	}
	if len(args) < 2 || len(args) > 3 {
		usage(stderr)
		return 2
	}
	var flyID string
	if len(args) == 3 {
		flyID = args[2]
	}
	c, err := plan(args[0], args[1], flyID)
	if err != nil {
		fmt.Fprintln(stderr, "new_challenge:", err)
		return 2
	}
	root, err := workspaceRoot()
	if err != nil {
		fmt.Fprintln(stderr, "new_challenge:", err)
		return 2
	}
	dir, err := c.write(root)
	if err != nil {
		fmt.Fprintln(stderr, "new_challenge:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s/main.go and %s/BUILD.bazel\n", dir, dir)
	fmt.Fprintf(stdout, "test it:  tools/bazel test //challenges/%s:%s\n", c.Name, c.testName())
	fmt.Fprintf(stdout, "      or  go build -o bin/%s ./challenges/%s && go run ./tools/workbench test -w %s --bin bin/%s %s\n",
		c.Name, c.Name, c.Workload, c.Name, strings.Join(c.Args, " "))
	if !c.solved() {
		fmt.Fprintf(stdout, "the test fails until the handlers in challenges/%s/main.go are written\n", c.Name)
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: new_challenge NAME WORKLOAD [FLYIO-ID]")
	fmt.Fprintln(w, "  writes challenges/NAME/{main.go,BUILD.bazel}: a lib/node node for WORKLOAD and its Maelstrom test")
	fmt.Fprintf(w, "  workloads: %s\n", strings.Join(workloadNames(), ", "))
	fmt.Fprintln(w, "  FLYIO-ID picks the command line of that Fly.io challenge (e.g. 3b); default: the first with WORKLOAD")
}

// workspaceRoot is where challenges/ lives: the workspace under `bazel
// run`, else the current directory (go run from the repository's root).
func workspaceRoot() (string, error) {
	root := os.Getenv("BUILD_WORKSPACE_DIRECTORY")
	if root == "" {
		var err error
		if root, err = os.Getwd(); err != nil {
			return "", err
		}
	}
	if _, err := os.Stat(filepath.Join(root, "challenges")); err != nil {
		return "", fmt.Errorf("%s has no challenges/ directory: run this from the repository's root", root)
	}
	return root, nil
}

// requestTypes are the messages each workload's clients send, as
// `workbench doc WORKLOAD` describes them.
var requestTypes = map[string][]string{
	"echo":            {"echo"},
	"unique-ids":      {"generate"},
	"broadcast":       {"broadcast", "read", "topology"},
	"g-counter":       {"add", "read"},
	"pn-counter":      {"add", "read"},
	"kafka":           {"send", "poll", "commit_offsets", "list_committed_offsets"},
	"lin-kv":          {"read", "write", "cas"},
	"txn-rw-register": {"txn"},
	"txn-list-append": {"txn"},
}

func workloadNames() []string {
	var names []string
	for _, c := range []string{"echo", "unique-ids", "broadcast", "g-counter", "pn-counter", "kafka", "lin-kv", "txn-rw-register", "txn-list-append"} {
		names = append(names, c)
	}
	return names
}

// challenge is what the scaffold writes.
type challenge struct {
	Name     string
	Workload string
	Types    []string
	// Args is Maelstrom's command line after -w and --bin, with
	// --time-limit; From names the Fly.io challenge it comes from.
	Args []string
	From string
}

var validName = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

func plan(name, workload, flyID string) (challenge, error) {
	if !validName.MatchString(name) {
		return challenge{}, fmt.Errorf("name %q: use lower-case letters, digits and dashes, starting with a letter", name)
	}
	types, ok := requestTypes[workload]
	if !ok {
		return challenge{}, fmt.Errorf("unknown workload %q (known: %s)", workload, strings.Join(workloadNames(), ", "))
	}
	c := challenge{Name: name, Workload: workload, Types: types}
	for _, fc := range flyio.Challenges() {
		if (flyID == "" && fc.Workload == workload) || fc.ID == flyID {
			if fc.Workload != workload {
				return challenge{}, fmt.Errorf("Fly.io challenge %s runs workload %s, not %s", fc.ID, fc.Workload, workload)
			}
			if len(fc.Env) > 0 {
				// The table's environment selects modes of this project's own
				// nodes (GOSSIP_PRESET, KAFKA_MODE); a new node has none.
				_ = fc.Env
			}
			c.Args = append(append([]string{}, fc.Args...), "--time-limit", fmt.Sprint(fc.TimeLimit))
			c.From = "Fly.io challenge " + fc.ID
			return c, nil
		}
	}
	if flyID != "" {
		return challenge{}, fmt.Errorf("no Fly.io challenge %q in tools/flyio/challenges.bzl", flyID)
	}
	c.Args = []string{"--node-count", "3", "--time-limit", "10"}
	c.From = "no Fly.io challenge runs " + workload + "; a short three-node run"
	return c, nil
}

// solved says whether the scaffold is already a whole solution (echo's
// trivial node is valid; every other workload needs real work).
func (c challenge) solved() bool { return c.Workload == "echo" }

func (c challenge) testName() string {
	return "maelstrom_" + strings.ReplaceAll(c.Workload, "-", "_") + "_test"
}

func (c challenge) write(root string) (string, error) {
	rel := filepath.Join("challenges", c.Name)
	dir := filepath.Join(root, rel)
	if _, err := os.Stat(dir); err == nil {
		return "", fmt.Errorf("%s exists already; pick another name", rel)
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", err
	}
	for file, text := range map[string]string{"main.go": c.mainGo(), "BUILD.bazel": c.buildFile()} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(text), 0o644); err != nil {
			return "", fmt.Errorf("write %s: %w", filepath.Join(rel, file), err)
		}
	}
	return rel, nil
}
