package server

import (
	"sync"
	"time"
)

// reconnectWindow: a socket of a user whose last socket on this node closed less than
// this long ago counts as a reconnection (parley_reconnections_total), the sign of
// clients dropping and coming back: flaky networks, a proxy's idle timeout, a node drained.
const reconnectWindow = 5 * time.Minute

// maxDepartures bounds the memory of departures; past it, old ones are swept.
const maxDepartures = 100_000

// departures remembers when each user's last socket on this node closed.
type departures struct {
	mu sync.Mutex
	at map[string]time.Time
}

func newDepartures() *departures { return &departures{at: map[string]time.Time{}} }

// left records that userID's last socket here closed at now.
func (d *departures) left(userID string, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.at) >= maxDepartures {
		for u, t := range d.at {
			if now.Sub(t) > reconnectWindow {
				delete(d.at, u)
			}
		}
		if len(d.at) >= maxDepartures {
			clear(d.at) // all recent: a flood of departures; forget rather than grow
		}
	}
	d.at[userID] = now
}

// returned reports whether userID's socket connecting at now is a reconnection, and
// forgets the departure.
func (d *departures) returned(userID string, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.at[userID]
	if !ok {
		return false
	}
	delete(d.at, userID)
	return now.Sub(t) <= reconnectWindow
}
