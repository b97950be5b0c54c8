package raft

import "time"

// progressState is how a leader sends to one follower.
type progressState int

const (
	// probe: the leader does not know where the follower's log matches its
	// own; it sends one append at a time (at most one per heartbeat) and
	// moves next back on each rejection.
	probe progressState = iota
	// replicate: the follower's log matched at next-1; the leader streams
	// entries, up to MaxInflight messages ahead of its acknowledgements.
	replicate
)

func (s progressState) String() string {
	if s == replicate {
		return "replicate"
	}
	return "probe"
}

// inflight is an append with entries that has not been acknowledged.
type inflight struct {
	last   uint64 // index of its last entry
	sentAt time.Time
}

// progress is what a leader knows of one follower (§5.3's nextIndex and
// matchIndex, and etcd's flow-control states). One is made per follower in
// New and kept for the node's life. What survives a change of term is what
// stays true: match, capped at the commit index the node had when it left
// office (those entries are committed, so no later leader truncates them
// on the follower or here, whereas an acknowledged but uncommitted entry
// may have been replaced). Everything else is this term's.
type progress struct {
	match, next uint64
	state       progressState
	inflights   []inflight
	probeSent   bool      // probe: an append is outstanding
	lastSent    time.Time // a heartbeat is due HeartbeatInterval after it
	// recentActive: heard from in this CheckQuorum period.
	recentActive bool
	// round: the highest read round the follower echoed in this term.
	round uint64
	// eager: gets entries as soon as they are appended (LazyReplication).
	eager bool
}

// becomeLeader starts a term in office: probe from the end of the log,
// never below what the follower is known to hold.
func (p *progress) becomeLeader(last uint64) {
	p.state = probe
	p.next = max(last+1, p.match+1)
	p.inflights = nil
	p.probeSent = false
	p.lastSent = time.Time{}
	p.recentActive = false
	p.round = 0
	p.eager = false
}

// leaveLeadership keeps only what stays true in later terms.
func (p *progress) leaveLeadership(commit uint64) {
	p.match = min(p.match, commit)
	p.inflights = nil
}

func (p *progress) becomeProbe(next uint64) {
	p.state = probe
	p.next = max(next, p.match+1)
	p.inflights = nil
	p.probeSent = false
}

func (p *progress) becomeReplicate() {
	p.state = replicate
	p.next = p.match + 1
	p.inflights = nil
	p.probeSent = false
}

// ack frees the in-flight appends that index acknowledges.
func (p *progress) ack(index uint64) {
	i := 0
	for i < len(p.inflights) && p.inflights[i].last <= index {
		i++
	}
	p.inflights = p.inflights[i:]
}

// resendAfter is how long an append may go unacknowledged before the
// leader assumes it lost and probes again: two heartbeats or half an
// election timeout, whichever is longer, well above a healthy round trip.
func resendAfter(cfg Config) time.Duration {
	return max(2*cfg.HeartbeatInterval, cfg.ElectionTimeout/2)
}

// dueAt is when the leader must next send to this follower: a heartbeat
// after HeartbeatInterval of silence.
func (p *progress) dueAt(cfg Config) time.Time {
	return p.lastSent.Add(cfg.HeartbeatInterval)
}
