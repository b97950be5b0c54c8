package network

// The network journals every send and delivery (Config.Journal: the run's
// store.JournalFile streams them to the run directory).

// record journals one event, whose body the caller has already cut to
// what the journal keeps (journalBody, outside the lock): to the journal
// file when the network has one, else in memory. n.mu must be held.
func (n *Network) record(e Event) {
	if n.cfg.Journal != nil {
		n.cfg.Journal.Add(e)
		return
	}
	n.journal = append(n.journal, e)
}

// Backlog is how many messages wait in id's inbox (0 for a non-member).
func (n *Network) Backlog(id string) int {
	msgs, _ := n.Queued(id)
	return msgs
}

// Queued is how many messages, and how many bytes of bodies, wait in id's
// inbox (zero for a non-member): what lets a node's reader refuse to queue
// without bound for a receiver that does not keep up (see
// process.maxBacklog and maxBacklogBytes).
func (n *Network) Queued(id string) (msgs int, bytes int64) {
	n.mu.Lock()
	in := n.inboxes[id]
	n.mu.Unlock()
	if in == nil {
		return 0, 0
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.q), in.bytes
}

// QueuedBytes is the bytes of bodies waiting in every inbox together.
func (n *Network) QueuedBytes() int64 { return n.queuedBytes.Load() }
