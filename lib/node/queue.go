// The in-order node's queue: requests read ahead of serving, one FIFO per
// source, served a turn each.

package node

import (
	"fmt"
	"sync"
)

// fairQueue holds an in-order node's requests between the read loop and
// the serving goroutine. Each source (a client, a peer) has its own FIFO,
// and sources take turns: the serving goroutine takes the head of the
// source whose turn it is, and a source with more waiting goes to the back
// of the line. While the node keeps up, every source has at most one
// request waiting, and turns are arrival order; when a source floods, the
// others still get one request served per round, so a flooding client
// costs a normal one at most one request's service time per source ahead
// of it, however much it sends.
type fairQueue struct {
	maxPerSource int // per source, waiting
	maxTotal     int // all sources, waiting
	maxBytes     int // bodies' bytes, all sources, waiting

	mu     sync.Mutex
	bySrc  map[string][]request
	turns  []string // sources with requests waiting, each once, in turn order
	count  int
	bytes  int
	closed bool
	wake   chan struct{} // signalled on push and close; capacity 1
}

func newFairQueue(maxPerSource, maxTotal, maxBytes int) *fairQueue {
	return &fairQueue{
		maxPerSource: maxPerSource,
		maxTotal:     maxTotal,
		maxBytes:     maxBytes,
		bySrc:        map[string][]request{},
		wake:         make(chan struct{}, 1),
	}
}

// push adds req at the back of its source's FIFO, or returns why a bound
// keeps it out. It never blocks.
func (q *fairQueue) push(req request) (refused string) {
	size := len(req.msg.Body)
	q.mu.Lock()
	src := req.h.src
	waiting := q.bySrc[src]
	switch {
	case len(waiting) >= q.maxPerSource:
		refused = fmt.Sprintf("%d requests from %s already wait to be served", q.maxPerSource, src)
	case q.count >= q.maxTotal:
		refused = fmt.Sprintf("%d requests already wait to be served", q.maxTotal)
	case q.bytes+size > q.maxBytes && q.count > 0:
		refused = fmt.Sprintf("requests of %d bytes already wait to be served", q.bytes)
	}
	if refused != "" {
		q.mu.Unlock()
		return refused
	}
	if len(waiting) == 0 {
		q.turns = append(q.turns, src)
	}
	q.bySrc[src] = append(waiting, req)
	q.count++
	q.bytes += size
	q.mu.Unlock()
	q.signal()
	return ""
}

// pop takes the next request, waiting for one; ok is false once the queue
// is closed and empty.
func (q *fairQueue) pop() (req request, ok bool) {
	for {
		q.mu.Lock()
		if len(q.turns) > 0 {
			src := q.turns[0]
			q.turns = q.turns[1:]
			waiting := q.bySrc[src]
			req = waiting[0]
			waiting[0] = request{} // let the served request's body go
			if rest := waiting[1:]; len(rest) > 0 {
				q.bySrc[src] = rest
				q.turns = append(q.turns, src)
			} else {
				delete(q.bySrc, src)
			}
			if len(q.turns) == 0 {
				q.turns = nil // drop the slice consumed from the front
			}
			q.count--
			q.bytes -= len(req.msg.Body)
			q.mu.Unlock()
			return req, true
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return request{}, false
		}
		<-q.wake
	}
}

// close lets pop return once what is waiting has been served.
func (q *fairQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *fairQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// len is the number of requests waiting.
func (q *fairQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.count
}
