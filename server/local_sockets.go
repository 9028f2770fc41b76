package server

import (
	"strings"
	"sync"

	"github.com/parley-chat/parley/internal/socketio"
)

// localSockets indexes this node's sockets by user. A user's second tab copies the rooms of
// a tab already here instead of asking the store: those rooms are kept current by every
// membership change (through the cluster bus, from any node), so a user with many tabs
// costs the store nothing per connect.
type localSockets struct {
	mu     sync.Mutex
	byUser map[string]map[*socketio.Socket]struct{}
}

func newLocalSockets() *localSockets {
	return &localSockets{byUser: map[string]map[*socketio.Socket]struct{}{}}
}

func (l *localSockets) add(userID string, s *socketio.Socket) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.byUser[userID]
	if m == nil {
		m = map[*socketio.Socket]struct{}{}
		l.byUser[userID] = m
	}
	m[s] = struct{}{}
}

func (l *localSockets) remove(userID string, s *socketio.Socket) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if m := l.byUser[userID]; m != nil {
		delete(m, s)
		if len(m) == 0 {
			delete(l.byUser, userID)
		}
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
	for s := range l.byUser[userID] {
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
