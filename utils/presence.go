package utils

import (
	"sync"
	"time"
)

// Presence states a node announces to the others for one of its users.
const (
	PresenceGone      = 0 // no socket and no grace on that node
	PresenceGrace     = 1 // the last socket left, offline not yet declared
	PresenceConnected = 2 // at least one socket connected
)

// Presence tracks who is online: this node's sockets per user, users in their reload grace,
// and what other nodes announced. Each node announces only its own transitions and fires
// OnOnline/OnOffline only for changes it caused, so a cluster emits each change once.
//
// A user is online while any node has a socket of theirs or holds them in grace. When the
// last socket on a node goes, the node waits Grace before declaring them offline, so a
// reload (disconnect, then connect within Grace, on any node) shows no flicker.
type Presence struct {
	mu     sync.Mutex
	grace  time.Duration
	local  map[string]int
	timers map[string]*graceState
	remote map[string]map[string]bool // userID → nodeID → connected (false: in grace there)
	// ending counts graces whose end is being announced (callbacks running): they still
	// count in Graces, so a shutdown waiting for graces also waits for what they start.
	ending int

	// Announce tells the other nodes about a local state change (nil on a single node).
	Announce func(userID string, state int)
	// OnOnline is called when a user comes online cluster-wide through this node.
	OnOnline func(userID string)
	// OnOffline is called when a user's grace on this node ends and no node holds them.
	OnOffline func(userID string, at time.Time)
}

// graceState is allocated before its timer, so the timer's callback can recognise its own
// grace by identity without reading a variable Disconnect is still writing.
type graceState struct{ timer *time.Timer }

// NewPresence returns an empty tracker with the given reload grace.
func NewPresence(grace time.Duration) *Presence {
	return &Presence{grace: grace, local: map[string]int{}, timers: map[string]*graceState{}, remote: map[string]map[string]bool{}}
}

// Connect records a new local socket of userID.
func (p *Presence) Connect(userID string) {
	p.mu.Lock()
	p.local[userID]++
	first := p.local[userID] == 1
	wasOnline := false
	if first {
		if g, ok := p.timers[userID]; ok {
			g.timer.Stop()
			delete(p.timers, userID)
			wasOnline = true
		}
		wasOnline = wasOnline || len(p.remote[userID]) > 0
	}
	announce, onOnline := p.Announce, p.OnOnline
	p.mu.Unlock()
	if !first {
		return
	}
	if announce != nil {
		announce(userID, PresenceConnected)
	}
	if !wasOnline && onOnline != nil {
		onOnline(userID)
	}
}

// Disconnect records a local socket of userID gone; the last one starts the grace. It
// reports whether that was the user's last socket on this node.
func (p *Presence) Disconnect(userID string) bool {
	p.mu.Lock()
	n := p.local[userID] - 1
	if n > 0 {
		p.local[userID] = n
		p.mu.Unlock()
		return false
	}
	delete(p.local, userID)
	g := &graceState{}
	g.timer = time.AfterFunc(p.grace, func() { p.graceOver(userID, g) })
	p.timers[userID] = g
	announce := p.Announce
	p.mu.Unlock()
	if announce != nil {
		announce(userID, PresenceGrace)
	}
	return true
}

func (p *Presence) graceOver(userID string, g *graceState) {
	p.mu.Lock()
	if p.timers[userID] != g || p.local[userID] > 0 {
		p.mu.Unlock()
		return // a socket came back, or a newer grace replaced this one
	}
	delete(p.timers, userID)
	p.ending++
	offline := len(p.remote[userID]) == 0
	announce, onOffline := p.Announce, p.OnOffline
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.ending--
		p.mu.Unlock()
	}()
	if announce != nil {
		announce(userID, PresenceGone)
	}
	if offline && onOffline != nil {
		onOffline(userID, time.Now().UTC())
	}
}

// Remote applies another node's announcement.
func (p *Presence) Remote(nodeID, userID string, state int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	nodes := p.remote[userID]
	if state == PresenceGone {
		delete(nodes, nodeID)
		if len(nodes) == 0 {
			delete(p.remote, userID)
		}
		return
	}
	if nodes == nil {
		nodes = map[string]bool{}
		p.remote[userID] = nodes
	}
	nodes[nodeID] = state == PresenceConnected
}

// NodeGone forgets everything a node announced (it stopped or crashed) and returns the
// users it held who are now on no node at all (not here, not in a grace, nowhere else).
func (p *Presence) NodeGone(nodeID string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var offline []string
	for userID, nodes := range p.remote {
		if _, ok := nodes[nodeID]; !ok {
			continue
		}
		delete(nodes, nodeID)
		if len(nodes) == 0 {
			delete(p.remote, userID)
			_, inGrace := p.timers[userID]
			if p.local[userID] == 0 && !inGrace {
				offline = append(offline, userID)
			}
		}
	}
	return offline
}

// LocalStates lists this node's users and their state, for a node that joins late.
func (p *Presence) LocalStates() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.local)+len(p.timers))
	for u := range p.timers {
		out[u] = PresenceGrace
	}
	for u := range p.local {
		out[u] = PresenceConnected
	}
	return out
}

// IsOnline reports whether userID is online anywhere (connected, or within a grace).
func (p *Presence) IsOnline(userID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, inGrace := p.timers[userID]
	return p.local[userID] > 0 || inGrace || len(p.remote[userID]) > 0
}

// Connected reports whether userID has a connected socket on any node right now; a user
// in their grace is not connected (they get notifications, not live events).
func (p *Presence) Connected(userID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.local[userID] > 0 {
		return true
	}
	for _, connected := range p.remote[userID] {
		if connected {
			return true
		}
	}
	return false
}

// Graces is the number of users whose grace is running here or whose end is being
// announced.
func (p *Presence) Graces() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.timers) + p.ending
}

// EndGraces ends every running grace now, as if its time were up: a node going away
// announces its departed users' ends itself (offline, where no other node holds them)
// rather than leave them to timers that would never fire.
func (p *Presence) EndGraces() {
	p.mu.Lock()
	pending := make(map[string]*graceState, len(p.timers))
	for u, g := range p.timers {
		g.timer.Stop()
		pending[u] = g
	}
	p.mu.Unlock()
	for u, g := range pending {
		p.graceOver(u, g)
	}
}

// Close stops the grace timers without firing them.
func (p *Presence) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for u, g := range p.timers {
		g.timer.Stop()
		delete(p.timers, u)
	}
}
