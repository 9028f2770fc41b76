package bus

import (
	"sync"
	"time"
)

// recentRooms tracks rooms joined or subscribed to in the last recentWindow: broadcasts
// to rooms joined recently are also published on recentChannel, and for rooms this node
// subscribed to recently both copies are accepted once each (by broadcast id).
type recentRooms struct {
	mu         sync.Mutex
	joined     map[string]time.Time // nsp\x00room → until
	subscribed map[string]time.Time
	seen       map[string]time.Time // broadcast id → until
	lastPrune  time.Time
}

func newRecentRooms() *recentRooms {
	return &recentRooms{joined: map[string]time.Time{}, subscribed: map[string]time.Time{}, seen: map[string]time.Time{}}
}

func roomKey(nsp, room string) string { return nsp + "\x00" + room }

func (r *recentRooms) markJoined(nsp string, rooms []string) {
	until := time.Now().Add(recentWindow)
	r.mu.Lock()
	for _, room := range rooms {
		r.joined[roomKey(nsp, room)] = until
	}
	r.pruneLocked()
	r.mu.Unlock()
}

func (r *recentRooms) markSubscribed(nsp, room string) {
	r.mu.Lock()
	r.subscribed[roomKey(nsp, room)] = time.Now().Add(recentWindow)
	r.pruneLocked()
	r.mu.Unlock()
}

func (r *recentRooms) joinedRecently(nsp, room string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return time.Now().Before(r.joined[roomKey(nsp, room)])
}

// accept decides on a single-room broadcast this node received: viaRecent says whether
// it came on recentChannel. Outside the window only the room channel's copy counts;
// inside it, the first copy of each id.
func (r *recentRooms) accept(nsp, room, id string, viaRecent bool) bool {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !now.Before(r.subscribed[roomKey(nsp, room)]) {
		return !viaRecent
	}
	if id == "" {
		return !viaRecent
	}
	if _, dup := r.seen[id]; dup {
		return false
	}
	r.seen[id] = now.Add(recentWindow)
	r.pruneLocked()
	return true
}

func (r *recentRooms) pruneLocked() {
	now := time.Now()
	if now.Sub(r.lastPrune) < time.Second {
		return
	}
	r.lastPrune = now
	for _, m := range []map[string]time.Time{r.joined, r.subscribed, r.seen} {
		for k, until := range m {
			if now.After(until) {
				delete(m, k)
			}
		}
	}
}
