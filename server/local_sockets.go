package server

import (
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/socketio"
)

// localSockets indexes this node's sockets by user. A user's second tab copies the rooms of
// a tab already here instead of asking the store: those rooms are kept current by every
// membership change (through the cluster bus, from any node), so a user with many tabs
// costs the store nothing per connect. A user has a few sockets at most, so a slice per
// user costs less memory than a set.
//
// Handshakes reserve a place (MAX_SOCKETS_PER_USER) before their socket is added, so
// concurrent handshakes of one user cannot all pass the cap; a reservation whose socket
// never connected (the client left during the handshake) lapses after reservationTTL.
type localSockets struct {
	mu      sync.Mutex
	byUser  map[string][]*socketio.Socket
	pending map[string][]time.Time
}

// reservationTTL is longer than a handshake's connect can take (the bus settle is 2 s).
const reservationTTL = 10 * time.Second

func newLocalSockets() *localSockets {
	return &localSockets{byUser: map[string][]*socketio.Socket{}, pending: map[string][]time.Time{}}
}

// reserve takes a place for one more socket of userID, unless the user already has max
// sockets here, counting handshakes in progress.
func (l *localSockets) reserve(userID string, max int, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	live := l.pending[userID][:0]
	for _, t := range l.pending[userID] {
		if now.Sub(t) < reservationTTL {
			live = append(live, t)
		}
	}
	if len(l.byUser[userID])+len(live) >= max {
		l.setPending(userID, live)
		return false
	}
	l.setPending(userID, append(live, now))
	return true
}

func (l *localSockets) setPending(userID string, p []time.Time) {
	if len(p) == 0 {
		delete(l.pending, userID)
	} else {
		l.pending[userID] = p
	}
}

// add places a connected socket, using up its handshake's reservation.
func (l *localSockets) add(userID string, s *socketio.Socket) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byUser[userID] = append(l.byUser[userID], s)
	l.unreserveLocked(userID)
}

// unreserve gives back the reservation of a handshake that was refused after reserve.
func (l *localSockets) unreserve(userID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.unreserveLocked(userID)
}

func (l *localSockets) unreserveLocked(userID string) {
	if p := l.pending[userID]; len(p) > 0 {
		l.setPending(userID, p[1:])
	}
}

func (l *localSockets) remove(userID string, s *socketio.Socket) {
	l.mu.Lock()
	defer l.mu.Unlock()
	list := l.byUser[userID]
	for i, x := range list {
		if x == s {
			list[i] = list[len(list)-1]
			list[len(list)-1] = nil
			list = list[:len(list)-1]
			break
		}
	}
	if len(list) == 0 {
		delete(l.byUser, userID)
	} else {
		l.byUser[userID] = list
	}
}

// has reports whether userID has a socket on this node.
func (l *localSockets) has(userID string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.byUser[userID]) > 0
}

// siblingRooms returns the chat rooms of a connected socket of userID, or false if the
// user has none here.
func (l *localSockets) siblingRooms(userID string) ([]string, bool) {
	l.mu.Lock()
	var sibling *socketio.Socket
	for _, s := range l.byUser[userID] {
		if s.Connected() {
			sibling = s
			break
		}
	}
	l.mu.Unlock()
	if sibling == nil {
		return nil, false
	}
	var rooms []string
	for _, r := range sibling.Rooms() {
		if strings.HasPrefix(r, "chat:") {
			rooms = append(rooms, r)
		}
	}
	return rooms, true
}

// snapshot lists every user with sockets here and those sockets.
func (l *localSockets) snapshot() map[string][]*socketio.Socket {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string][]*socketio.Socket, len(l.byUser))
	for u, socks := range l.byUser {
		out[u] = append([]*socketio.Socket(nil), socks...)
	}
	return out
}
