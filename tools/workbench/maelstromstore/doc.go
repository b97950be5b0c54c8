// Package maelstromstore holds the tests that hold the workbench to
// Maelstrom: its checkers run on histories Maelstrom recorded, and its
// runs are compared with Maelstrom's reference runs (testdata and
// /work/shared/maelstrom-reference). Reading a Maelstrom store is the
// store package's (store.Load reads results.edn and history.edn); this
// package has no production code of its own.
package maelstromstore
