// Package cli is the workbench's command line, shaped like Maelstrom's:
// `workbench <command> [options]`, GNU-style long options (--flag value,
// --flag=value, -w echo), leftover positional arguments passed on to the
// node binary, and Jepsen's exit codes. Commands register themselves in a
// table, so `analyze` and `serve` can be added in their own files.
package cli

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Exit codes, as Jepsen's CLI uses them.
const (
	ExitValid   = 0
	ExitInvalid = 1
	ExitUnknown = 2
	ExitBadArgs = 254
	ExitCrash   = 255
)

// Command is one subcommand.
type Command struct {
	Name    string
	Summary string
	// Run gets the arguments after the command name and returns the
	// process exit code.
	Run func(args []string, stdout, stderr io.Writer) int
}

var commands = map[string]Command{}

// Register adds a command; call it from an init func in the command's file.
func Register(c Command) { commands[c.Name] = c }

// Main runs the command named by args[0] and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 2 && args[0] == "help" {
		// `workbench help test` is `workbench test --help`.
		c, ok := commands[args[1]]
		if !ok {
			return badArgs(stderr, "help: unknown command %q (known: %s)", args[1], strings.Join(commandNames(), ", "))
		}
		return c.Run([]string{"--help"}, stdout, stderr)
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return ExitBadArgs
		}
		return ExitValid
	}
	c, ok := commands[args[0]]
	if !ok {
		return badArgs(stderr, "unknown command %q (known: %s)", args[0], strings.Join(commandNames(), ", "))
	}
	return c.Run(args[1:], stdout, stderr)
}

func commandNames() []string {
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: workbench <command> [options]")
	fmt.Fprintln(w, "\ncommands:")
	for _, n := range commandNames() {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].Summary)
	}
	fmt.Fprintln(w, "\nRun `workbench help <command>` for a command's options, and")
	fmt.Fprintln(w, "`workbench doc [WORKLOAD]` for what a workload sends and expects.")
}

// badArgs prints a one-line error and returns ExitBadArgs.
func badArgs(stderr io.Writer, format string, a ...any) int {
	fmt.Fprintf(stderr, "workbench: "+format+"\n", a...)
	return ExitBadArgs
}

// flagSpec describes one option.
type flagSpec struct {
	long   string // without dashes
	short  string // one letter, or ""
	value  string // name of the value in help; "" for a boolean flag
	repeat bool   // may be given several times (values accumulate)
	def    string // default shown in help
	help   string
}

// parsed is the result of parsing a command line against specs.
type parsed struct {
	values     map[string][]string // by long name; booleans hold "true"/"false"
	positional []string
}

func (p parsed) has(name string) bool { _, ok := p.values[name]; return ok }

func (p parsed) last(name string) string {
	v := p.values[name]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// parseFlags parses GNU-style options. Arguments that do not start with
// "-" are positional (and so is everything after "--").
func parseFlags(specs []flagSpec, args []string) (parsed, error) {
	byLong := map[string]*flagSpec{}
	byShort := map[string]*flagSpec{}
	for i := range specs {
		byLong[specs[i].long] = &specs[i]
		if specs[i].short != "" {
			byShort[specs[i].short] = &specs[i]
		}
	}
	p := parsed{values: map[string][]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			p.positional = append(p.positional, args[i+1:]...)
			break
		}
		// "-1" is a run index (compare -2 -1), not an option: no option
		// has a digit for its short name.
		if !strings.HasPrefix(a, "-") || a == "-" || isNegativeNumber(a) {
			p.positional = append(p.positional, a)
			continue
		}
		var spec *flagSpec
		var inline *string
		if strings.HasPrefix(a, "--") {
			name := a[2:]
			if eq := strings.IndexByte(name, '='); eq >= 0 {
				v := name[eq+1:]
				inline = &v
				name = name[:eq]
			}
			spec = byLong[name]
		} else {
			name := a[1:2]
			spec = byShort[name]
			if len(a) > 2 {
				v := strings.TrimPrefix(a[2:], "=")
				inline = &v
			}
		}
		if spec == nil {
			if guess := suggestOption(a, specs); guess != "" {
				return p, fmt.Errorf("unknown option %q; did you mean %s?", a, guess)
			}
			return p, fmt.Errorf("unknown option %q", a)
		}
		var val string
		switch {
		case spec.value == "" && inline == nil:
			val = "true"
		case spec.value == "":
			if *inline != "true" && *inline != "false" {
				return p, fmt.Errorf("option --%s takes no value (got %q)", spec.long, *inline)
			}
			val = *inline
		case inline != nil:
			val = *inline
		default:
			if i+1 >= len(args) {
				return p, fmt.Errorf("option --%s needs a value (%s)", spec.long, spec.value)
			}
			i++
			val = args[i]
		}
		if spec.repeat {
			p.values[spec.long] = append(p.values[spec.long], val)
		} else {
			p.values[spec.long] = []string{val}
		}
	}
	return p, nil
}

func isNegativeNumber(a string) bool {
	if len(a) < 2 {
		return false
	}
	for _, c := range a[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func printFlags(w io.Writer, specs []flagSpec) {
	for _, s := range specs {
		name := "    --" + s.long
		if s.short != "" {
			name = "-" + s.short + ", --" + s.long
		}
		if s.value != "" {
			name += " " + s.value
		}
		line := fmt.Sprintf("  %-34s %s", name, s.help)
		if s.def != "" {
			line += " (default " + s.def + ")"
		}
		fmt.Fprintln(w, line)
	}
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
