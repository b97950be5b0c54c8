package cli

import (
	"fmt"
	"github.com/glomers/glomers/tools/workbench/store"
	"io"
)

func init() {
	Register(Command{Name: "reshape", Summary: "rewrite stored runs as Maelstrom stores them (results.edn, history.edn)", Run: runReshape})
}

var reshapeFlags = []flagSpec{
	{long: "help", short: "h", help: "show this help"},
}

// runReshape rewrites each run directory given into the shape of
// Maelstrom's store (store.Reshape): what the stand-in Maelstrom
// launcher leaves, so that a test judges its run as it would a real
// Maelstrom's.
func runReshape(args []string, stdout, stderr io.Writer) int {
	p, err := parseFlags(reshapeFlags, args)
	if err != nil {
		return badArgs(stderr, "reshape: %v", err)
	}
	if p.last("help") == "true" {
		fmt.Fprintln(stdout, "usage: workbench reshape RUN-DIR...")
		fmt.Fprintln(stdout, "Rewrites each run as Maelstrom stores one: results.edn without the workbench's own")
		fmt.Fprintln(stdout, "figures, history.edn, and jepsen.log starting with the command line; removes")
		fmt.Fprintln(stdout, "results.json, history.json, test.json and net-journal.json.")
		printFlags(stdout, reshapeFlags)
		return ExitValid
	}
	if len(p.positional) == 0 {
		return badArgs(stderr, "reshape: no run directory given")
	}
	for _, dir := range p.positional {
		if err := store.Reshape(dir); err != nil {
			fmt.Fprintf(stderr, "workbench: %v\n", err)
			return ExitCrash
		}
	}
	return ExitValid
}
