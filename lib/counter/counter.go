// Package counter is a grow-only counter kept in Maelstrom's seq-kv, for
// nodes that hold no state of their own. Each node owns one key holding
// the sum of the deltas added through it, and only that node writes it, so
// adds never contend across nodes. A read sums every node's key after
// first writing a value nobody has written before to a scratch key: seq-kv
// runs a write that changes its state on its newest state and from then on
// never shows this node anything older, so the reads that follow include
// every add acknowledged before the read began. Without that write, a node
// that only reads may be shown an arbitrarily old state for ever.
package counter

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"

	maelstrom "github.com/jepsen-io/maelstrom/demo/go"
)

// Store is the part of a key/value service client the counter uses;
// *kv.KV (lib/kv) is one. Error replies carry *maelstrom.RPCError.
type Store interface {
	ReadInt(ctx context.Context, key string) (int, error)
	Write(ctx context.Context, key string, value any) error
	CAS(ctx context.Context, key string, from, to any, createIfMissing bool) error
}

// Counter is one node's view of the shared counter. It is safe for
// concurrent use. Unlike the protocol types of lib/ (lib/gossip, lib/txn),
// which return messages and leave locking to the caller, a Counter is a
// client of a service: it does its own I/O, and its lock must be held
// across a CAS round trip, which no caller should do with its own lock.
type Counter struct {
	store Store
	self  string
	nodes []string

	mu   sync.Mutex // serialises this node's adds, so its key has one writer at a time
	mine int        // what this node believes its key holds
	// nonce makes every freshness write unique; seq-kv treats a write of
	// the value already there as a no-op that does not catch us up.
	nonce int
}

// New returns the counter for node self in a cluster of nodes (self
// included: a read sums every listed node's share).
func New(store Store, self string, nodes []string) (*Counter, error) {
	if !slices.Contains(nodes, self) {
		return nil, fmt.Errorf("counter: node %q is not in the node list %v", self, nodes)
	}
	return &Counter{store: store, self: self, nodes: append([]string(nil), nodes...)}, nil
}

// Key is the store key holding node's share of the total.
func Key(node string) string { return "counter-" + node }

// scratchKey is where node writes its freshness values.
func scratchKey(node string) string { return "fresh-" + node }

// Add adds delta through this node. It returns once the store holds the
// new share. On an error whose outcome is unknown (a timeout) the add may
// still happen; the next Add re-reads the share before building on it.
// A negative delta (the counter only grows) or one that would overflow
// this node's share is refused with a *maelstrom.RPCError of code 12
// (malformed-request) and changes nothing.
func (c *Counter) Add(ctx context.Context, delta int) error {
	if delta < 0 {
		return maelstrom.NewRPCError(maelstrom.MalformedRequest, fmt.Sprintf("add %d: a grow-only counter takes no negative delta", delta))
	}
	if delta == 0 {
		return nil // nothing to store; acknowledging is exact
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if c.mine > math.MaxInt-delta {
			return maelstrom.NewRPCError(maelstrom.MalformedRequest, fmt.Sprintf("add %d: this node's share %d would overflow", delta, c.mine))
		}
		err := c.store.CAS(ctx, Key(c.self), c.mine, c.mine+delta, true)
		if err == nil {
			c.mine += delta
			return nil
		}
		if maelstrom.ErrorCode(err) != maelstrom.PreconditionFailed {
			// Unknown outcome: re-read on the next add rather than guess.
			if stored, rerr := c.store.ReadInt(ctx, Key(c.self)); rerr == nil {
				c.mine = stored
			}
			return fmt.Errorf("add %d: %w", delta, err)
		}
		// Our cached share was stale (an earlier add whose reply we lost
		// did happen). Our own key reads fresh: our own writes caught us up.
		stored, err := c.store.ReadInt(ctx, Key(c.self))
		if err != nil {
			return fmt.Errorf("add %d: re-read own share: %w", delta, err)
		}
		c.mine = stored
	}
}

// Read returns the total of every node's share, as of no earlier than the
// moment Read was called.
func (c *Counter) Read(ctx context.Context) (int, error) {
	c.mu.Lock()
	c.nonce++
	fresh := c.self + "-" + strconv.Itoa(c.nonce)
	c.mu.Unlock()
	if err := c.store.Write(ctx, scratchKey(c.self), fresh); err != nil {
		return 0, fmt.Errorf("read: freshness write: %w", err)
	}
	total := 0
	for _, n := range c.nodes {
		share, err := c.store.ReadInt(ctx, Key(n))
		switch {
		case err == nil:
			if share < 0 || total > math.MaxInt-share {
				return 0, fmt.Errorf("read: %s's share %d is negative or overflows the total %d", n, share, total)
			}
			total += share
		case maelstrom.ErrorCode(err) == maelstrom.KeyDoesNotExist:
			// That node has added nothing yet.
		default:
			return 0, fmt.Errorf("read %s's share: %w", n, err)
		}
	}
	return total, nil
}
