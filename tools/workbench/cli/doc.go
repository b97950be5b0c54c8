package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/glomers/glomers/tools/workbench/registry"
	"github.com/glomers/glomers/tools/workbench/workload"
)

func init() {
	Register(Command{Name: "doc", Summary: "describe the workloads' messages (all, or one: doc WORKLOAD)", Run: runDoc})
}

func runDoc(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(stdout, "usage: workbench doc [WORKLOAD]")
		fmt.Fprintln(stdout, "\nWithout WORKLOAD, lists the workloads; with one, shows every request the")
		fmt.Fprintln(stdout, "workbench sends for it and the reply it accepts, with examples.")
		return ExitValid
	}
	switch len(args) {
	case 0:
		fmt.Fprintln(stdout, "Workloads (run `workbench doc NAME` for one's messages):")
		for _, n := range registry.Names() {
			w, _ := registry.Lookup(n)
			fmt.Fprintf(stdout, "  %-16s %s\n", n, w.Doc.About)
		}
		fmt.Fprintln(stdout)
		writeProtocol(stdout)
		return ExitValid
	case 1:
		w, known := registry.Lookup(args[0])
		if !known {
			return badArgs(stderr, "doc: unknown workload %q (known: %s)", args[0], strings.Join(registry.Names(), ", "))
		}
		writeDoc(stdout, args[0], w.Doc)
		return ExitValid
	}
	return badArgs(stderr, "doc: expected at most one workload, got %d arguments", len(args))
}

// writeProtocol describes what every workload shares: the envelope, init
// and errors.
func writeProtocol(w io.Writer) {
	fmt.Fprintln(w, `Every node reads one JSON message per line on stdin and writes replies to stdout:
  {"src": "c1", "dest": "n0", "body": {"type": "...", "msg_id": 1, ...}}
A reply's body carries "in_reply_to": the request's msg_id. First, each node gets
  {"type": "init", "node_id": "n0", "node_ids": ["n0", "n1", "n2"]}  ->  {"type": "init_ok"}
Errors are {"type": "error", "code": C, "text": "..."}; codes 0 (timeout), 1 (node not found),
10 (not supported), 11 (temporarily unavailable), 12 (malformed request), 13 (crash),
14 (abort), 20 (key does not exist), 21 (key already exists), 22 (precondition failed),
30 (txn conflict). Replies with missing or extra keys count as malformed.`)
}

// writeDoc prints one workload's messages.
func writeDoc(w io.Writer, name string, d workload.Doc) {
	fmt.Fprintf(w, "%s: %s\n", name, d.About)
	for _, r := range d.RPCs {
		fmt.Fprintf(w, "\n%s — %s", r.Request["type"], r.About)
		if r.Setup {
			fmt.Fprint(w, " (setup)")
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "  request  %s\n", example(r.Request, "msg_id", 1))
		fmt.Fprintf(w, "  reply    %s\n", example(r.Reply, "in_reply_to", 1))
		if len(r.Errors) > 0 {
			codes := make([]string, len(r.Errors))
			for i, c := range r.Errors {
				codes[i] = fmt.Sprintf("%d (%s)", c, workload.ErrorName(c))
			}
			fmt.Fprintf(w, "  errors   %s\n", strings.Join(codes, ", "))
		}
	}
	fmt.Fprintln(w)
	writeProtocol(w)
}

// example renders a body as one line of JSON with type first, then the
// envelope key, then the rest sorted, as a person would write it.
func example(body map[string]any, idKey string, id int) string {
	keys := make([]string, 0, len(body))
	for k := range body {
		if k != "type" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := []string{fmt.Sprintf(`"type": %s`, mustJSON(body["type"])), fmt.Sprintf(`%q: %d`, idKey, id)}
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%q: %s", k, mustJSON(body[k])))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
