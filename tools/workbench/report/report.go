// Package report turns a finished workbench run into things a person would
// rather look at than read: latency and throughput plots, a Lamport diagram
// of the first messages, and an index.html in the run's store directory
// (or, for a re-check, in its own directory beside the run's) that shows
// the verdict and links everything else the run left there (results,
// history, node logs). Everything is plain SVG and HTML written
// in Go, so a report needs no gnuplot, no Graphviz and no network.
package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/store"
)

// The files Write creates in the run directory.
const (
	LatencyRawFile       = store.LatencyRawName
	LatencyQuantilesFile = store.LatencyQuantilesName
	RateFile             = store.RateName
	MessagesFile         = store.MessagesName
	IndexFile            = store.IndexName
)

// Write draws the plots and the message diagram of a run into dir and then
// writes dir/index.html. Call it after the store has written the run's
// other files (results, history, node logs): index.html links only files
// that exist when it is written, so that none of its links dangle.
func Write(dir string, h history.History, journal []Event, results checker.Result) error {
	return write(dir, dir, h, journal, results)
}

// WriteBeside draws the report of the run in runDir into out, a directory
// of its own (analyze's): the diagram is drawn from the run's stored
// journal, and index.html links the run's files as well as out's. Nothing
// in runDir is written.
func WriteBeside(out, runDir string, h history.History, results checker.Result) error {
	return write(out, runDir, h, nil, results)
}

func write(dir, runDir string, h history.History, journal []Event, results checker.Result) error {
	d := gatherPerf(h)
	plots := []struct {
		name string
		svg  []byte
	}{
		{LatencyRawFile, latencyRaw(d)},
		{LatencyQuantilesFile, latencyQuantiles(d)},
		{RateFile, rate(d)},
		{MessagesFile, messagesFor(runDir, h, journal, results)},
		{TimelineFile, timeline(h)},
	}
	for _, p := range plots {
		if err := os.WriteFile(filepath.Join(dir, p.name), p.svg, 0o644); err != nil {
			return fmt.Errorf("report: write %s: %w", p.name, err)
		}
	}
	page, err := index(dir, runDir, results)
	if err != nil {
		return fmt.Errorf("report: %s: %w", IndexFile, err)
	}
	if err := os.WriteFile(filepath.Join(dir, IndexFile), page, 0o644); err != nil {
		return fmt.Errorf("report: write %s: %w", IndexFile, err)
	}
	return nil
}

// sentCount is the :net result's count of all messages sent: the run
// hands the report only the journal of the first messages, so the
// diagram's "first N of M" takes M from here.
func sentCount(results checker.Result) int {
	net, _ := asStringMap(results["net"])
	all, _ := asStringMap(net["all"])
	switch n := all["msg-count"].(type) {
	case int:
		return n
	case float64:
		return int(n)
	case json.Number:
		i, _ := n.Int64()
		return int(i)
	}
	return 0
}
