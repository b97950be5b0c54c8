// Command workbench is the project's Maelstrom-compatible test harness:
// `workbench test -w echo --bin ./node --node-count 1 --time-limit 10`
// runs a workload against a node binary on a simulated network and checks
// the history, writing results under ./store like Maelstrom does.
package main

import (
	"fmt"
	"os"

	"github.com/glomers/glomers/tools/workbench/cli"
)

func main() {
	if err := enterUserDirectory(); err != nil {
		fmt.Fprintln(os.Stderr, "workbench:", err)
		os.Exit(cli.ExitBadArgs)
	}
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
