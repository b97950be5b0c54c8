package store

// The files of a run directory. These names are the layout's only
// spelling: every other package asks this one for a run's files.
const (
	// Written by a workbench run.
	HistoryName     = "history.json" // one history.Op per line: what analyze re-checks
	HistoryTextName = "history.txt"  // Jepsen's tab-separated view of the same ops
	JournalName     = "net-journal.json"
	ResultsName     = "results.json"
	ResultsEDNName  = "results.edn" // also Maelstrom's results
	TestName        = "test.json"   // the test's options, seed and command line
	LogName         = "jepsen.log"  // the console log (Maelstrom's too)
	NodeLogsName    = "node-logs"   // a directory: one <node>.log each

	// Maelstrom's stores hold these instead of history.json and test.json;
	// they are only ever read.
	MaelstromHistoryName = "history.edn"
	MaelstromLogGzName   = "jepsen.log.gz"

	// The report's pictures and page, and porcupine's view of a lin-kv
	// run that cannot be linearized.
	IndexName            = "index.html"
	MessagesName         = "messages.svg" // the Lamport diagram
	LatencyRawName       = "latency-raw.svg"
	LatencyQuantilesName = "latency-quantiles.svg"
	RateName             = "rate.svg"
	TimelineName         = "timeline.html" // Jepsen's timeline of the operations
	LinearizabilityName  = "linearizability.html"

	// AnalysisName is the directory analyze writes into, one
	// subdirectory per re-check, so that re-checking a run never touches
	// a file the run (or another tool) wrote.
	AnalysisName = "analysis"
)
