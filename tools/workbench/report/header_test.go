package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHeaderShowsWhatTheRunWas: the command line, node environment and
// binary digest from test.json are in the page's header, escaped.
func TestHeaderShowsWhatTheRunWas(t *testing.T) {
	r := newSyntheticRun(t, false)
	test := `{"workload":"broadcast","command":["workbench","test","-w","broadcast","--bin","./node <x>"],` +
		`"bin-sha256":"0123456789abcdef0123","node-env":{"GOSSIP_PRESET":"latency","KAFKA_MODE":"single"}}`
	if err := os.WriteFile(filepath.Join(r.dir, "test.json"), []byte(test), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(r.dir, r.h, r.journal, r.results); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(r.dir, IndexFile))
	page := string(b)
	header := page[strings.Index(page, "<header"):strings.Index(page, "</header>")]
	for _, want := range []string{
		"<code>workbench test -w broadcast --bin &#39;./node &lt;x&gt;&#39;</code>",
		"<code>GOSSIP_PRESET=latency KAFKA_MODE=single</code>",
		`<code title="0123456789abcdef0123">0123456789ab</code>`,
	} {
		if !strings.Contains(header, want) {
			t.Errorf("header lacks %s:\n%s", want, header)
		}
	}
}
