package server

import (
	"sync"
	"time"
)

// deliveryWindow: a message:new written to a socket less than this before the socket's
// user disconnected may not have reached them (the client may have closed while it was in
// flight, and on a loaded machine or a slow link "in flight" lasts a while), so it is
// covered by a notification. One written earlier counts as delivered: the client was
// connected and took it, and gets no notification for it (PROTOCOL.md: connected
// recipients get the event itself and no notification).
const deliveryWindow = time.Second

// deliveryRetention is how long a delivery is remembered: longer than the window the
// disconnect check looks back over.
const deliveryRetention = 10 * time.Second

// deliveries remembers when each recent message:new broadcast was first queued to this
// node's sockets (whether it was sent here or came from another node). It is noted once
// per broadcast, not per recipient: a socket that was in the chat's room when the
// message went out got it.
type deliveries struct {
	mu        sync.Mutex
	at        map[string]time.Time
	lastPrune time.Time
}

func newDeliveries() *deliveries { return &deliveries{at: map[string]time.Time{}} }

// written records that message id went out to this node's sockets at t.
func (d *deliveries) written(id string, t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.at[id]; !ok {
		d.at[id] = t
	}
	if t.Sub(d.lastPrune) > time.Second {
		d.lastPrune = t
		for k, v := range d.at {
			if t.Sub(v) > deliveryRetention {
				delete(d.at, k)
			}
		}
	}
}

// deliveredTo returns a test for "reached a socket that connected at connectedAt, before
// cutoff".
func (d *deliveries) deliveredTo(connectedAt, cutoff time.Time) func(string) bool {
	return func(id string) bool {
		d.mu.Lock()
		t, ok := d.at[id]
		d.mu.Unlock()
		return ok && !t.Before(connectedAt) && t.Before(cutoff)
	}
}

// messageIDOf extracts the message id of an outgoing message:new payload.
func messageIDOf(payload any) string {
	m, ok := payload.(map[string]any)
	if !ok {
		return ""
	}
	if msg, ok := m["message"].(interface{ MessageID() string }); ok {
		return msg.MessageID()
	}
	return ""
}
