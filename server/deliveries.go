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

// deliveryLogSize bounds what is remembered per user: the newest message:new packets.
const deliveryLogSize = 256

// deliveries remembers, per user with sockets on this node, when recent message:new
// packets were written to them, until the sweep after their last socket closes has used it.
type deliveries struct {
	mu     sync.Mutex
	byUser map[string]*deliveryLog
}

type deliveryLog struct {
	ids  [deliveryLogSize]string
	at   [deliveryLogSize]time.Time
	next int
}

func newDeliveries() *deliveries { return &deliveries{byUser: map[string]*deliveryLog{}} }

// written records that message id went out to one of userID's sockets at t.
func (d *deliveries) written(userID, id string, t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := d.byUser[userID]
	if l == nil {
		l = &deliveryLog{}
		d.byUser[userID] = l
	}
	l.ids[l.next], l.at[l.next] = id, t
	l.next = (l.next + 1) % deliveryLogSize
}

// takeDelivered removes userID's log and returns a test for "written before cutoff".
func (d *deliveries) takeDelivered(userID string, cutoff time.Time) func(string) bool {
	d.mu.Lock()
	l := d.byUser[userID]
	delete(d.byUser, userID)
	d.mu.Unlock()
	early := map[string]struct{}{}
	if l != nil {
		for i, id := range l.ids {
			if id != "" && l.at[i].Before(cutoff) {
				early[id] = struct{}{}
			}
		}
	}
	return func(id string) bool {
		_, ok := early[id]
		return ok
	}
}

// messageIDOf extracts the message id of an outgoing message:new payload: the local
// shape (a models.MessageView inside a map) or, for packets relayed from another node
// through Redis, the decoded JSON.
func messageIDOf(payload any) string {
	m, ok := payload.(map[string]any)
	if !ok {
		return ""
	}
	switch msg := m["message"].(type) {
	case interface{ MessageID() string }:
		return msg.MessageID()
	case map[string]any:
		id, _ := msg["id"].(string)
		return id
	}
	return ""
}
