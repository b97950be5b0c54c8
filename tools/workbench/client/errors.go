package client

import (
	"errors"
	"fmt"
)

// ErrTimeout is returned by Conn.Call when no reply arrived in time.
var ErrTimeout = errors.New("net-timeout")

// RPCError is an error reply from a node: {"type":"error","code":…}.
type RPCError struct {
	Code int
	Text string
}

func (e *RPCError) Error() string {
	return fmt.Sprintf("error %d (%s): %s", e.Code, ErrorName(e.Code), e.Text)
}

// Maelstrom's error registry (resources/errors.edn).
var errorNames = map[int]string{
	0:  "timeout",
	1:  "node-not-found",
	10: "not-supported",
	11: "temporarily-unavailable",
	12: "malformed-request",
	13: "crash",
	14: "abort",
	20: "key-does-not-exist",
	21: "key-already-exists",
	22: "precondition-failed",
	30: "txn-conflict",
}

var definite = map[int]bool{1: true, 10: true, 11: true, 12: true, 14: true, 20: true, 21: true, 22: true, 30: true}

// ErrorName is the Maelstrom name of an error code ("unknown" if none).
func ErrorName(code int) string {
	if n, ok := errorNames[code]; ok {
		return n
	}
	return "unknown"
}

// Definite reports whether an error code means the op certainly did not happen.
func Definite(code int) bool { return definite[code] }
