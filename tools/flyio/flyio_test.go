package flyio

import (
	"slices"
	"strings"
	"testing"
)

// The table holds every challenge of Fly.io's page once, in order, with
// what the scoreboard and the tests need.
func TestTable(t *testing.T) {
	ids := map[string][]string{}
	for _, c := range Challenges() {
		ids[c.Suite] = append(ids[c.Suite], c.ID)
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
	if !slices.Equal(ids[SuiteFlyio], want) {
		t.Errorf("Fly.io ids %v, want %v", ids[SuiteFlyio], want)
	}
	// Maelstrom's own workloads that Fly.io's series leaves out, after Fly.io's.
	want = []string{"g-set", "g-set-partition", "pn-counter", "pn-counter-partition", "txn-list-append", "txn-list-append-partition", "lin-kv", "lin-kv-5"}
	if !slices.Equal(ids[SuiteMaelstrom], want) {
		t.Errorf("Maelstrom ids %v, want %v", ids[SuiteMaelstrom], want)
	}
	if len(ids) != 2 {
		t.Errorf("suites %v, want flyio and maelstrom", ids)
	}
	all := Challenges()
	if all[len(ids[SuiteFlyio])-1].ID != "6c" {
		t.Error("Maelstrom's rows do not follow Fly.io's")
	}
	// Maelstrom's Raft chapter's final command, as its documentation writes it.
	lk, _ := ByID("lin-kv")
	if got := strings.Join(lk.Args, " "); got != "--node-count 3 --concurrency 4n --rate 30 --nemesis partition --nemesis-interval 10" || lk.TimeLimit != 60 || lk.Binary != "lin-kv" {
		t.Errorf("lin-kv row: %q, time limit %d, binary %s", got, lk.TimeLimit, lk.Binary)
	}
	ta, _ := ByID("txn-list-append")
	if got := strings.Join(ta.Args, " "); got != "--node-count 2 --rate 100" || ta.TimeLimit != 10 {
		t.Errorf("txn-list-append row: %q, time limit %d", got, ta.TimeLimit)
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
		{"bad bound", `[{"suite": "flyio", "id": "9", "bounds": ["net.servers.msgs-per-op about 3"]}]`, "challenge 9"},
		{"bad metric", `[{"suite": "flyio", "id": "9", "targets": [{"metric": "speed", "max": 1}]}]`, `unknown target metric "speed"`},
		{"no suite", `[{"id": "9"}]`, `unknown suite ""`},
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
