package network

// The network journals every send and delivery (Config.Journal: the run's
// store.JournalFile streams them to the run directory).

// record journals one event: to the journal file when the network has
// one, else in memory. n.mu must be held.
func (n *Network) record(e Event) {
	if n.cfg.Journal != nil {
		n.cfg.Journal.Add(e)
		return
	}
	n.journal = append(n.journal, e)
}

// Backlog is how many messages wait in id's inbox (0 for a non-member):
// what lets a node's reader refuse to queue without bound for a receiver
// that does not keep up (see process.maxBacklog).
func (n *Network) Backlog(id string) int {
	n.mu.Lock()
	in := n.inboxes[id]
	n.mu.Unlock()
	if in == nil {
		return 0
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.q)
}
