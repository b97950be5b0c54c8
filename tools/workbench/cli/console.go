package cli

import (
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// Console manners: colour for the verdict and errors on a terminal (never
// with NO_COLOR, https://no-color.org, or TERM=dumb), lines no longer than
// maxConsoleLine (long values are in results.edn, in full), and a
// suggestion for a mistyped option.

// maxConsoleLine is the longest line the workbench prints of the results:
// past it a value is cut (results.edn has it whole), and a first-error
// line is wrapped.
const maxConsoleLine = 200

// ANSI colours of the console.
const (
	colourGreen  = "\033[32m"
	colourRed    = "\033[31m"
	colourYellow = "\033[33m"
	colourReset  = "\033[0m"
)

// colourOn reports whether w is a terminal that wants colour.
func colourOn(w io.Writer) bool {
	if _, off := os.LookupEnv("NO_COLOR"); off || os.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && isTerminal(f)
}

// paint wraps s in colour when on is set.
func paint(on bool, colour, s string) string {
	if !on {
		return s
	}
	return colour + s + colourReset
}

// capLines cuts every line of text longer than maxConsoleLine runes,
// saying where the whole value is.
func capLines(text, where string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if utf8.RuneCountInString(l) > maxConsoleLine {
			note := " … (in full in " + where + ")"
			keep := maxConsoleLine - utf8.RuneCountInString(note)
			lines[i] = string([]rune(l)[:keep]) + note
		}
	}
	return strings.Join(lines, "\n")
}

// wrapLine breaks a long line at spaces into lines of at most width
// runes, the later ones indented, so that a first error stays whole and
// readable.
func wrapLine(s string, width int) []string {
	const indent = "    "
	var out []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) > width:
			out = append(out, line)
			line = indent + word
		default:
			line += " " + word
		}
	}
	if line != "" {
		out = append(out, line)
	}
	return out
}

// suggestOption names the known option closest to a mistyped one
// (--node-cont → --node-count), or "" when none is close.
func suggestOption(typed string, specs []flagSpec) string {
	name := strings.TrimLeft(typed, "-")
	if eq := strings.IndexByte(name, '='); eq >= 0 {
		name = name[:eq]
	}
	best, bestDist := "", 3 // at most two edits away
	if len(name) <= 3 {
		bestDist = 2
	}
	for _, s := range specs {
		if d := editDistance(name, s.long); d < bestDist {
			best, bestDist = s.long, d
		}
	}
	if best == "" {
		return ""
	}
	return "--" + best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// cappedLines passes writes on with every line cut to maxConsoleLine
// runes: the console's log lines (the full ones are in jepsen.log). slog
// writes one record per call, so lines are never split across writes.
type cappedLines struct {
	w     io.Writer
	where string
}

func (c cappedLines) Write(p []byte) (int, error) {
	if _, err := io.WriteString(c.w, capLines(string(p), c.where)); err != nil {
		return 0, err
	}
	return len(p), nil
}
