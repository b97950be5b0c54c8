//go:build race

package txngraph

// The race detector slows the checker ~10x; big tests shrink under it.
const raceEnabled = true
