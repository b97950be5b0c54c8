package flyio

import (
	"slices"
	"strings"
	"testing"
)

// The table holds every challenge of Fly.io's page once, in order, with
// what the scoreboard and the tests need.
func TestTable(t *testing.T) {
	var ids []string
	for _, c := range Challenges() {
		ids = append(ids, c.ID)
		if c.Name == "" || c.Binary == "" || c.Workload == "" || c.TimeLimit <= 0 || c.Quick <= 0 || c.CPU <= 0 {
			t.Errorf("challenge %s is incomplete: %+v", c.ID, c)
		}
		if c.Latency != "op" && c.Latency != "stable" {
			t.Errorf("challenge %s: latency %q", c.ID, c.Latency)
		}
		if slices.Contains(c.Args, "--time-limit") {
			t.Errorf("challenge %s: args carry --time-limit; it belongs in time_limit", c.ID)
		}
	}
	want := []string{"1", "2", "3a", "3b", "3c", "3d", "3e", "4", "5a", "5b", "5c", "6a", "6b", "6b-partition", "6c"}
	if !slices.Equal(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	d, _ := ByID("3d")
	if d.Env["GOSSIP_PRESET"] != "latency" || !d.Quiet || len(d.Targets) != 3 {
		t.Errorf("3d = %+v", d)
	}
	if got := strings.Join(d.Bounds, "; "); !strings.Contains(got, "net.servers.msgs-per-op <= 2.9") {
		t.Errorf("3d bounds %q lack issue 11's msgs/op bound", got)
	}
	if _, ok := ByID("7"); ok {
		t.Error("ByID(7) found a challenge")
	}
}

func TestDecodeRejectsBadTables(t *testing.T) {
	for _, tc := range []struct{ name, json, want string }{
		{"not json", `[{`, "challenges.json"},
		{"bad bound", `[{"id": "9", "bounds": ["net.servers.msgs-per-op about 3"]}]`, "challenge 9"},
		{"bad metric", `[{"id": "9", "targets": [{"metric": "speed", "max": 1}]}]`, `unknown target metric "speed"`},
	} {
		if _, err := decode([]byte(tc.json)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
}

func TestCheck(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	c, _ := ByID("3d")
	got := Check(c.Targets, Figures{MsgsPerOp: f(2.9), P50MS: f(450), MaxMS: nil})
	var texts []string
	for _, tc := range got {
		texts = append(texts, tc.Text)
	}
	if strings.Join(texts, " ") != "msgs/op<30 p50<400ms max<600ms" {
		t.Errorf("texts %v", texts)
	}
	if !got[0].Met || got[1].Met || got[2].Met {
		t.Errorf("met = %v %v %v, want true false false (unmeasured max is not met)", got[0].Met, got[1].Met, got[2].Met)
	}
	two, _ := ByID("2")
	if a := Check(two.Targets, Figures{Availability: f(0.999)}); a[0].Met || a[0].Text != "avail=1" {
		t.Errorf("availability 0.999 against %v: %+v", two.Targets, a[0])
	}
}
