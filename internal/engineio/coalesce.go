package engineio

import (
	"sync"
	"time"
)

// writeCoalescer gathers WebSocket writes under sustained traffic. Each write system call
// to a loopback or LAN socket costs the same ~10-17 µs of kernel time on the measured
// machines whether it carries one frame or ten, and a connection in a busy chat receives
// a packet every few milliseconds, rarely two at once. So when packets keep coming, a
// connection that has something new waits for the end of the current window (at most
// Options.WriteDelay) and is written once with everything that arrived meanwhile. When
// the server has been quiet for a window, the first connection goes out at once and
// opens a new window: an isolated message pays no delay.
type writeCoalescer struct {
	window time.Duration
	flush  func(flushTarget)
	timer  *time.Timer

	mu      sync.Mutex
	pending []flushTarget
	armed   bool      // the timer will flush pending
	opened  time.Time // when the current window opened
}

func newWriteCoalescer(window time.Duration, flush func(flushTarget)) *writeCoalescer {
	w := &writeCoalescer{window: window, flush: flush}
	w.timer = time.AfterFunc(time.Hour, w.fire)
	w.timer.Stop()
	return w
}

// add hands ft to the flushers now if the last window has closed, else at its end.
func (w *writeCoalescer) add(ft flushTarget) {
	now := time.Now()
	w.mu.Lock()
	if !w.armed {
		if now.Sub(w.opened) >= w.window {
			w.opened = now
			w.mu.Unlock()
			w.flush(ft)
			return
		}
		w.armed = true
		w.timer.Reset(w.opened.Add(w.window).Sub(now))
	}
	w.pending = append(w.pending, ft)
	w.mu.Unlock()
}

// fire ends a window: everything gathered goes to the flushers, and the next window
// opens now.
func (w *writeCoalescer) fire() {
	w.mu.Lock()
	batch := w.pending
	w.pending = make([]flushTarget, 0, cap(batch))
	w.armed = false
	w.opened = time.Now()
	w.mu.Unlock()
	for _, ft := range batch {
		w.flush(ft)
	}
}

// flushNow hands everything gathered on at once (the server is closing).
func (w *writeCoalescer) flushNow() {
	if w.timer.Stop() {
		w.fire()
	}
}
