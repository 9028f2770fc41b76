package utils

import "sync"

// LocalPresence counts each user's sockets on this node. A user is online while the count
// is above zero; Connect and Disconnect report the edges (first socket, last socket).
type LocalPresence struct {
	mu     sync.Mutex
	counts map[string]int
}

// NewLocalPresence returns an empty tracker.
func NewLocalPresence() *LocalPresence { return &LocalPresence{counts: map[string]int{}} }

// Connect records a socket of userID and reports whether it is the user's first.
func (p *LocalPresence) Connect(userID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[userID]++
	return p.counts[userID] == 1
}

// Disconnect records a socket gone and reports whether it was the user's last.
func (p *LocalPresence) Disconnect(userID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.counts[userID] - 1
	if n <= 0 {
		delete(p.counts, userID)
		return true
	}
	p.counts[userID] = n
	return false
}

// IsOnline reports whether userID has a socket on this node.
func (p *LocalPresence) IsOnline(userID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[userID] > 0
}
