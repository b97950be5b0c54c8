package raft

import (
	"fmt"
	"math/rand"
	"slices"
	"time"
)

// Config holds one node's identity and every tunable of the protocol.
type Config struct {
	// ID is this node's id; it must be one of Peers.
	ID string
	// Peers lists every node of the cluster, self included, in the same
	// order on every node (Maelstrom's init node_ids).
	Peers []string
	// ElectionTimeout is the base time a follower waits without hearing
	// from a leader before it campaigns; each wait is drawn at random from
	// [ElectionTimeout, 2*ElectionTimeout) so that candidates rarely
	// collide. A leader steps down (CheckQuorum) if it has not heard from a
	// majority for one ElectionTimeout.
	ElectionTimeout time.Duration
	// HeartbeatInterval is how long a leader lets a follower go without a
	// message; it must be well below ElectionTimeout so a healthy leader is
	// never deposed by a timeout.
	HeartbeatInterval time.Duration
	// MaxEntriesPerMsg caps the entries in one append message so a line
	// stays far below what naive Maelstrom readers accept; a longer backlog
	// takes several messages.
	MaxEntriesPerMsg int
	// MaxInflight caps the append messages with entries in flight to one
	// follower in the replicate state. 1 makes every append wait for the
	// previous one's answer, so entries proposed meanwhile travel together
	// (batching); more pipelines them (less waiting, more messages).
	MaxInflight int
	// LazyReplication sends new entries at once only to as many followers
	// as a commit needs (quorum-1, the eager ones); the others receive
	// them batched with their heartbeats. Commits wait for the same
	// majority either way; what changes is that the lagging minority
	// costs one append per heartbeat instead of one per entry. An eager
	// follower that stops answering is replaced by a lazy one within
	// resendAfter.
	LazyReplication bool
	// PreVote makes a node that timed out first ask whether it could win
	// (without raising its term) and campaign only if a majority says yes,
	// so a node rejoining after a partition cannot depose a healthy leader
	// by arriving with a higher term (Raft thesis §9.6).
	PreVote bool
	// Rand draws the election timeouts; seed it for reproducible tests.
	// Nil means a generator seeded from the ID and the start time.
	Rand *rand.Rand
}

// DefaultConfig returns a fresh config for node id in a cluster of peers,
// sized for Maelstrom's networks (latency 0–100 ms): a leader is found
// within a few hundred milliseconds of a partition healing.
func DefaultConfig(id string, peers []string) Config {
	return Config{
		ID:                id,
		Peers:             slices.Clone(peers),
		ElectionTimeout:   300 * time.Millisecond,
		HeartbeatInterval: 100 * time.Millisecond,
		MaxEntriesPerMsg:  256,
		MaxInflight:       1,
		LazyReplication:   true,
		PreVote:           true,
	}
}

// Validate reports a config that cannot work.
func (c Config) Validate() error {
	switch {
	case c.ID == "":
		return fmt.Errorf("raft config: empty ID")
	case !slices.Contains(c.Peers, c.ID):
		return fmt.Errorf("raft config: ID %q is not among Peers %v", c.ID, c.Peers)
	case c.ElectionTimeout <= 0:
		return fmt.Errorf("raft config: ElectionTimeout %v must be positive", c.ElectionTimeout)
	case c.HeartbeatInterval <= 0 || c.HeartbeatInterval >= c.ElectionTimeout:
		return fmt.Errorf("raft config: HeartbeatInterval %v must be in (0, ElectionTimeout %v)", c.HeartbeatInterval, c.ElectionTimeout)
	case c.MaxEntriesPerMsg <= 0:
		return fmt.Errorf("raft config: MaxEntriesPerMsg %d must be positive", c.MaxEntriesPerMsg)
	case c.MaxInflight <= 0:
		return fmt.Errorf("raft config: MaxInflight %d must be positive", c.MaxInflight)
	}
	seen := map[string]bool{}
	for _, p := range c.Peers {
		if p == "" || seen[p] {
			return fmt.Errorf("raft config: Peers %v has an empty or repeated id", c.Peers)
		}
		seen[p] = true
	}
	return nil
}
