//go:build bench

// The 3d/3e benchmark: runs challenges/broadcast under the workbench with
// Fly.io's 3d/3e command (25 nodes, --rate 100, --latency 100,
// --time-limit 20) for each gossip preset and several seeds, and prints
// servers msgs-per-op and stable latencies with their medians over seeds.
// Each run takes about 35 s, so it is behind the bench build tag:
//
//	go test -tags bench -run TestBench3d -v -timeout 30m ./tools/workbench/workload/broadcast/
//
// The broadcast op latency (invoke → ok of f=broadcast, from history.json)
// is printed too: the latency and messages presets hold broadcast_ok until
// the value has fanned out, which moves time from the stable latency into
// the op. BENCH_PRESETS (default "latency,messages"), BENCH_SEEDS (default
// "1,2,3") and BENCH_ARGS (extra workbench flags, e.g. "--nemesis
// partition") adjust it.
package broadcast

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestBench3d(t *testing.T) {
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(here), "..", "..", "..", "..")
	dir := t.TempDir()
	for _, pkg := range []string{"./challenges/broadcast", "./tools/workbench"} {
		cmd := exec.Command("go", "build", "-o", dir+"/", pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", pkg, err, out)
		}
	}
	presets := strings.Split(envOr("BENCH_PRESETS", "latency,messages"), ",")
	seeds := strings.Split(envOr("BENCH_SEEDS", "1,2,3"), ",")
	extra := strings.Fields(os.Getenv("BENCH_ARGS"))

	for _, preset := range presets {
		var perOp, median, maxLat []float64
		for _, seed := range seeds {
			args := append([]string{"test", "-w", "broadcast", "--bin", filepath.Join(dir, "broadcast"),
				"--node-count", "25", "--time-limit", "20", "--rate", "100", "--latency", "100", "--seed", seed}, extra...)
			cmd := exec.Command(filepath.Join(dir, "workbench"), args...)
			cmd.Dir = t.TempDir()
			cmd.Env = append(os.Environ(), "GOSSIP_PRESET="+preset)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("%s seed %s: %v\n%s", preset, seed, err, tail(out))
				continue
			}
			res, err := readResults(cmd.Dir)
			if err != nil {
				t.Fatalf("%s seed %s: %v", preset, seed, err)
			}
			opLat, err := broadcastLatencies(cmd.Dir)
			if err != nil {
				t.Fatalf("%s seed %s: %v", preset, seed, err)
			}
			perOp = append(perOp, res.Net.Servers.MsgsPerOp)
			median = append(median, res.Workload.StableLatencies["0.5"])
			maxLat = append(maxLat, res.Workload.StableLatencies["1"])
			t.Logf("%-8s seed %-3s msgs-per-op %.2f  stable latency median %4.0f ms  max %4.0f ms  lost %d  broadcast op median %4.0f ms  max %4.0f ms",
				preset, seed, res.Net.Servers.MsgsPerOp, res.Workload.StableLatencies["0.5"], res.Workload.StableLatencies["1"], res.Workload.LostCount,
				med(opLat), slices.Max(append(opLat, 0)))
		}
		if len(perOp) > 0 {
			t.Logf("%-8s MEDIAN over %d seeds: msgs-per-op %.2f  median %.0f ms  max %.0f ms",
				preset, len(perOp), med(perOp), med(median), med(maxLat))
		}
	}
}

type results struct {
	Net struct {
		Servers struct {
			MsgsPerOp float64 `json:"msgs-per-op"`
		} `json:"servers"`
	} `json:"net"`
	Workload struct {
		StableLatencies map[string]float64 `json:"stable-latencies"`
		LostCount       int                `json:"lost-count"`
	} `json:"workload"`
}

func readResults(dir string) (results, error) {
	matches, _ := filepath.Glob(filepath.Join(dir, "store", "broadcast", "2*", "results.json"))
	if len(matches) == 0 {
		return results{}, fmt.Errorf("no results.json under %s", dir)
	}
	sort.Strings(matches)
	b, err := os.ReadFile(matches[len(matches)-1])
	if err != nil {
		return results{}, err
	}
	var r results
	if err := json.Unmarshal(b, &r); err != nil {
		return results{}, fmt.Errorf("%s: %w", matches[len(matches)-1], err)
	}
	return r, nil
}

// broadcastLatencies returns invoke → ok of every completed broadcast, in
// ms, from the latest run's history.json (one op per line).
func broadcastLatencies(dir string) ([]float64, error) {
	matches, _ := filepath.Glob(filepath.Join(dir, "store", "broadcast", "2*", "history.json"))
	if len(matches) == 0 {
		return nil, fmt.Errorf("no history.json under %s", dir)
	}
	sort.Strings(matches)
	b, err := os.ReadFile(matches[len(matches)-1])
	if err != nil {
		return nil, err
	}
	type op struct {
		Type    string `json:"type"`
		F       string `json:"f"`
		Process any    `json:"process"`
		Time    int64  `json:"time"`
	}
	invoked := map[any]int64{}
	var lat []float64
	for _, line := range strings.Split(string(b), "\n") {
		var o op
		if strings.TrimSpace(line) == "" || json.Unmarshal([]byte(line), &o) != nil || o.F != "broadcast" {
			continue
		}
		switch o.Type {
		case "invoke":
			invoked[o.Process] = o.Time
		case "ok":
			if at, ok := invoked[o.Process]; ok {
				lat = append(lat, float64(o.Time-at)/1e6)
			}
			delete(invoked, o.Process)
		default:
			delete(invoked, o.Process)
		}
	}
	if len(lat) == 0 {
		return []float64{0}, nil
	}
	return lat, nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func med(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
