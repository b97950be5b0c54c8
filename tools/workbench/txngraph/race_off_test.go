//go:build !race

package txngraph

const raceEnabled = false
