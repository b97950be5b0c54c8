package main

import (
	"fmt"
	"strings"
)

// mainGo is the node: thin wiring on lib/node, as the other challenges.
func (c challenge) mainGo() string {
	var b strings.Builder
	fmt.Fprintf(&b, "// Command %s is a node for Maelstrom's %s workload (`workbench doc %s`\n", c.Name, c.Workload, c.Workload)
	fmt.Fprintf(&b, "// says what it sends and expects). Written by tools/newchallenge.\n")
	b.WriteString("package main\n\n")
	if c.solved() {
		b.WriteString(`import (
	"context"
	"encoding/json"
	"log/slog"
	"os"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

	"github.com/glomers/glomers/lib/node"
)
`)
	} else {
		b.WriteString(`import (
	"context"
	"log/slog"
	"os"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"

	"github.com/glomers/glomers/lib/node"
)
`)
	}
	fmt.Fprintf(&b, `
func main() {
	if err := newNode().Run(); err != nil {
		slog.Error(%q, "err", err)
		os.Exit(1)
	}
}

func newNode() *node.Node {
	n := node.New()
`, c.Name+" node failed")
	for _, t := range c.Types {
		fmt.Fprintf(&b, "\tn.Handle(%q, %s)\n", t, handlerName(t))
	}
	b.WriteString("\treturn n\n}\n")
	if c.solved() {
		b.WriteString(`
// echo answers with the request's payload, passed through as raw JSON.
func echo(_ context.Context, req node.Message) (any, error) {
	var body struct {
		Echo json.RawMessage ` + "`json:\"echo\"`" + `
	}
	if err := node.Decode(req, &body); err != nil {
		return nil, err
	}
	if body.Echo == nil {
		return nil, node.Errorf(maelstrom.MalformedRequest, "echo request has no echo field")
	}
	return map[string]any{"type": "echo_ok", "echo": body.Echo}, nil
}
`)
		return b.String()
	}
	for _, t := range c.Types {
		fmt.Fprintf(&b, `
// %s answers %q requests. Not written yet: it answers error 10 (not
// supported), which the workload counts as a failed operation.
func %s(_ context.Context, req node.Message) (any, error) {
	return nil, node.Errorf(maelstrom.NotSupported, "%s is not written yet (challenges/%s/main.go)")
}
`, handlerName(t), t, handlerName(t), t, c.Name)
	}
	return b.String()
}

// handlerName is the Go name of the handler of message type t:
// "commit_offsets" -> commitOffsets.
func handlerName(t string) string {
	parts := strings.Split(t, "_")
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	name := strings.Join(parts, "")
	if name == "read" || name == "write" || name == "send" {
		return name + "Request"
	}
	return name
}

// buildFile is what gazelle generates for the package, plus the Maelstrom
// test: a row with the workload's command line.
func (c challenge) buildFile() string {
	var b strings.Builder
	b.WriteString(`load("@io_bazel_rules_go//go:def.bzl", "go_binary", "go_library")
load("//tools:maelstrom_test.bzl", "maelstrom_test")

go_library(
`)
	fmt.Fprintf(&b, "    name = %q,\n", c.Name+"_lib")
	b.WriteString("    srcs = [\"main.go\"],\n")
	fmt.Fprintf(&b, "    importpath = %q,\n", "github.com/glomers/glomers/challenges/"+c.Name)
	b.WriteString(`    visibility = ["//visibility:private"],
    deps = [
        "//lib/node",
        "@com_github_jepsen_io_maelstrom_demo_go//:go",
    ],
)

go_binary(
`)
	fmt.Fprintf(&b, "    name = %q,\n", c.Name)
	fmt.Fprintf(&b, "    embed = [%q],\n", ":"+c.Name+"_lib")
	b.WriteString("    visibility = [\"//visibility:public\"],\n)\n\n")
	fmt.Fprintf(&b, "# Maelstrom's command line for %s (%s):\n", c.Workload, c.From)
	fmt.Fprintf(&b, "#   maelstrom test -w %s --bin %s %s\n", c.Workload, c.Name, strings.Join(c.Args, " "))
	b.WriteString("maelstrom_test(\n")
	fmt.Fprintf(&b, "    name = %q,\n", c.testName())
	b.WriteString("    args = [\n")
	for _, a := range c.Args {
		fmt.Fprintf(&b, "        %q,\n", a)
	}
	b.WriteString("    ],\n")
	fmt.Fprintf(&b, "    binary = %q,\n", ":"+c.Name)
	fmt.Fprintf(&b, "    workload = %q,\n", c.Workload)
	b.WriteString(")\n")
	return b.String()
}
