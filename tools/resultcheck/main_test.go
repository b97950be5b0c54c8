package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeResults(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "results.json")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRun(t *testing.T) {
	res := writeResults(t, `{"valid?": true, "net": {"servers": {"msgs-per-op": 2.95}},
		"workload": {"lost-count": 0, "stable-latencies": {"0.5": 240}}}`)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string // substrings of stdout
	}{
		{"bounds hold", []string{"--bound=net.servers.msgs-per-op <= 2.9 margin 5%", `--bound=workload.stable-latencies["0.5"] <= 250`, res},
			exitOK, []string{"bound   ok     net.servers.msgs-per-op = 2.95  (<= 2.9, margin 5%: <= 3.045)", `workload.stable-latencies["0.5"] = 240`}},
		{"bound missed", []string{"--bound=net.servers.msgs-per-op <= 2.9", res},
			exitMissed, []string{"MISSED", "= 2.95"}},
		{"missing key fails a bound", []string{`--bound=workload.dissemination-latencies["0.5"] <= 250`, res},
			exitMissed, []string{"ERROR", "not in the results"}},
		{"missing key is only noted when pending", []string{`--pending=workload.dissemination-latencies["0.5"] <= 250 margin 20%`, res},
			exitOK, []string{"not measured yet", "<= 250, margin 20%: <= 300"}},
		{"present pending key is judged", []string{`--pending=workload.stable-latencies["0.5"] <= 200`, res},
			exitMissed, []string{"MISSED"}},
		{"wrong reason", []string{"--reason=workload.lost-count > 0", res},
			exitMissed, []string{"reason  MISSED", "workload.lost-count = 0"}},
		{"bad expression", []string{"--bound=net.servers.msgs-per-op about 3", res}, exitBadArgs, nil},
		{"no file", []string{"--bound=valid? == true"}, exitBadArgs, nil},
		{"unreadable file", []string{"--bound=valid? == true", res + ".missing"}, exitMissed, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if got := run(tc.args, &out, &errb); got != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", got, tc.code, out.String(), errb.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}
