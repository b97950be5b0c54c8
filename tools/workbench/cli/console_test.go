package cli

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMistypedOptionGetsASuggestion(t *testing.T) {
	for typed, want := range map[string]string{
		"--node-cont":   "did you mean --node-count?",
		"--time-limt=5": "did you mean --time-limit?",
		"--nemsis":      "did you mean --nemesis?",
	} {
		_, err := ParseTestArgs([]string{"-w", "echo", "--bin", "x", typed, "5"})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", typed, err, want)
		}
	}
	if _, err := ParseTestArgs([]string{"-w", "echo", "--bin", "x", "--frobnicate"}); err == nil || strings.Contains(err.Error(), "did you mean") {
		t.Errorf("a far-off option: err = %v, want no suggestion", err)
	}
}

func TestLongLinesAreCutAndFirstErrorsWrapped(t *testing.T) {
	long := " :worst-stale [" + strings.Repeat("{:element 1} ", 200) + "]"
	out := capLines("{:valid? true,\n"+long+"}", "store/x/results.edn")
	for _, l := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(l); n > maxConsoleLine {
			t.Errorf("line of %d runes: %.60q…", n, l)
		}
	}
	if !strings.Contains(out, "(in full in store/x/results.edn)") {
		t.Errorf("the cut line does not say where the value is: %q", out)
	}
	text := "value 0 lost (4 lost in all): " + strings.Repeat("and every read after ", 20)
	lines := wrapLine(text, 120)
	if len(lines) < 3 || strings.Join(strings.Fields(strings.Join(lines, " ")), " ") != strings.Join(strings.Fields(text), " ") {
		t.Errorf("wrapping lost words or did not wrap: %q", lines)
	}
	for _, l := range lines {
		if utf8.RuneCountInString(l) > 120 {
			t.Errorf("wrapped line of %d runes", utf8.RuneCountInString(l))
		}
	}
}

func TestNoColourWithNO_COLOR(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	if colourOn(os.Stdout) {
		t.Error("colour with NO_COLOR set")
	}
	if got := paint(false, colourRed, "x"); got != "x" {
		t.Errorf("paint off = %q", got)
	}
	if got := paint(true, colourRed, "x"); got != "\033[31mx\033[0m" {
		t.Errorf("paint on = %q", got)
	}
}

func TestConsoleLogLinesAreCut(t *testing.T) {
	var b strings.Builder
	c := cappedLines{&b, "store/x/jepsen.log"}
	long := "time=x level=INFO msg=\"starting test\" nodes=\"[" + strings.Repeat("n0 ", 100) + "]\"\n"
	if n, err := c.Write([]byte(long)); err != nil || n != len(long) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if got := b.String(); utf8.RuneCountInString(strings.TrimSuffix(got, "\n")) > maxConsoleLine || !strings.HasSuffix(got, "(in full in store/x/jepsen.log)\n") {
		t.Errorf("console line %q", got)
	}
}
