package server

import (
	"sync"
	"time"
)

// expiryTimer fires once when the socket's token expires; reset moves the deadline.
type expiryTimer struct {
	mu     sync.Mutex
	timer  *time.Timer
	fire   func()
	closed bool
}

func newExpiryTimer(fire func()) *expiryTimer { return &expiryTimer{fire: fire} }

// reset schedules fire at deadline; a zero deadline means the session never expires.
func (e *expiryTimer) reset(deadline time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	if e.timer != nil {
		e.timer.Stop()
		e.timer = nil
	}
	if !deadline.IsZero() {
		e.timer = time.AfterFunc(time.Until(deadline), e.fire)
	}
}

func (e *expiryTimer) stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	if e.timer != nil {
		e.timer.Stop()
	}
}
