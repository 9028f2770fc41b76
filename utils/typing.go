package utils

import (
	"sync"
	"time"
)

// Typing holds who is typing where, in memory only (typing is never stored). Each state
// ends by itself Timeout after its last Start; Stop, StopUser and Close end states early.
// OnStop is called once for every state that ends, whatever ended it.
type Typing struct {
	mu      sync.Mutex
	timeout time.Duration
	states  map[typingKey]*typingState
	byUser  map[string]map[string]struct{} // userID → chatIDs, for StopUser
	onStop  func(chatID, userID string)
}

type typingKey struct{ chatID, userID string }

// typingState is allocated before its timer, so the timer's callback can recognise its
// own state by identity without reading a variable the starter is still writing.
type typingState struct{ timer *time.Timer }

// NewTyping returns an empty tracker.
func NewTyping(timeout time.Duration, onStop func(chatID, userID string)) *Typing {
	return &Typing{timeout: timeout, states: map[typingKey]*typingState{}, byUser: map[string]map[string]struct{}{}, onStop: onStop}
}

// Start begins or extends a typing state; it reports whether the state is new.
func (t *Typing) Start(chatID, userID string) bool {
	k := typingKey{chatID, userID}
	t.mu.Lock()
	defer t.mu.Unlock()
	if st, ok := t.states[k]; ok {
		st.timer.Reset(t.timeout)
		return false
	}
	st := &typingState{}
	st.timer = time.AfterFunc(t.timeout, func() { t.expire(k, st) })
	t.states[k] = st
	chats := t.byUser[userID]
	if chats == nil {
		chats = map[string]struct{}{}
		t.byUser[userID] = chats
	}
	chats[chatID] = struct{}{}
	return true
}

func (t *Typing) expire(k typingKey, st *typingState) {
	t.mu.Lock()
	if t.states[k] != st {
		t.mu.Unlock()
		return // stopped or restarted meanwhile
	}
	t.remove(k)
	t.mu.Unlock()
	t.onStop(k.chatID, k.userID)
}

// remove drops a state; the caller holds mu.
func (t *Typing) remove(k typingKey) {
	if st, ok := t.states[k]; ok {
		st.timer.Stop()
		delete(t.states, k)
	}
	if chats := t.byUser[k.userID]; chats != nil {
		delete(chats, k.chatID)
		if len(chats) == 0 {
			delete(t.byUser, k.userID)
		}
	}
}

// Stop ends a typing state if there is one.
func (t *Typing) Stop(chatID, userID string) {
	k := typingKey{chatID, userID}
	t.mu.Lock()
	_, ok := t.states[k]
	if ok {
		t.remove(k)
	}
	t.mu.Unlock()
	if ok {
		t.onStop(chatID, userID)
	}
}

// StopUser ends every typing state of userID (their last socket went away).
func (t *Typing) StopUser(userID string) {
	t.mu.Lock()
	var chats []string
	for chatID := range t.byUser[userID] {
		chats = append(chats, chatID)
		t.remove(typingKey{chatID, userID})
	}
	t.mu.Unlock()
	for _, chatID := range chats {
		t.onStop(chatID, userID)
	}
}

// Len is the number of live typing states (for leak tests and metrics).
func (t *Typing) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.states)
}

// Close stops every timer without calling OnStop.
func (t *Typing) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.states {
		t.remove(k)
	}
}
