package engineio

import (
	"sync"
	"sync/atomic"
	"time"
)

// writeCoalescer gathers WebSocket writes under sustained traffic. Each write system call
// to a loopback or LAN socket costs about the same kernel time (10-17 µs on the measured
// machine) whether it carries one frame or ten, and writes bunched in time cost less each
// than the same writes spread out. So while packets keep coming, a connection that is
// sent something waits for the end of the current window (at most Options.WriteDelay),
// and is then written once with everything sent to it meanwhile, together with the other
// connections of the window.
//
// Holding is only done while it pays: when the server has been quiet for a window, the
// first packet goes at once and opens a new window; and when, over recent windows, fewer
// than one in minGatherRatio held connections got a second packet (traffic spread thin,
// as with many rooms that each speak now and then), holding pauses for pauseWindows
// windows, then one window probes again. So latency is traded for system calls only
// where calls are saved. Measured with bench/loadgen: in the closed-loop e2e shape 0.7
// (2 ms) to 1.1 (4 ms) second packets per held connection; at 1,000 msgs/s open loop,
// 0.01-0.03.
type writeCoalescer struct {
	window time.Duration
	flush  func(flushTarget)
	timer  *time.Timer

	// gathered counts packets sent to connections already held in this window.
	gathered atomic.Int64

	mu      sync.Mutex
	pending []flushTarget
	spare   []flushTarget // the previous window's slice, emptied, for the next one
	armed   bool          // the timer will flush pending
	opened  time.Time     // when the current window opened
	paused  time.Time     // no holding before this
	probing bool          // the next window that holds is the first after a pause
	closed  bool          // the server is closing: nothing is held any more
	// Recent windows' held connections and second packets (moving averages).
	heldAvg, gatheredAvg float64
}

const (
	minGatherRatio = 5  // at least one second packet per 5 held connections
	pauseWindows   = 50 // windows without holding once recent windows gathered too little
	averageWindows = 8  // how many recent windows the averages weigh, about
)

func newWriteCoalescer(window time.Duration, flush func(flushTarget)) *writeCoalescer {
	w := &writeCoalescer{window: window, flush: flush}
	w.timer = time.AfterFunc(time.Hour, w.fire)
	w.timer.Stop()
	return w
}

// hold takes ft until the current window ends, or reports false: then the caller hands
// it to the flushers now. The caller holds ft.c.mu and marks ft.t held when true.
func (w *writeCoalescer) hold(ft flushTarget) bool {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false
	}
	if !w.armed {
		if now.Before(w.paused) {
			return false
		}
		if now.Sub(w.opened) >= w.window {
			w.opened = now
			if !w.paused.IsZero() {
				// The next window that holds anything probes (fire clears it then).
				w.probing, w.paused = true, time.Time{}
			}
			return false
		}
		w.armed = true
		w.timer.Reset(w.opened.Add(w.window).Sub(now))
	}
	w.pending = append(w.pending, ft)
	return true
}

// fire ends a window: every held connection goes to the flushers, and the next window
// opens now, or holding pauses if this one gathered too little.
func (w *writeCoalescer) fire() {
	w.mu.Lock()
	batch := w.pending
	w.pending, w.spare = w.spare[:0], nil
	w.armed = false
	w.opened = time.Now()
	held, gathered := float64(len(batch)), float64(w.gathered.Swap(0))
	if w.probing {
		// After a pause the averages are stale: this window alone says what traffic is now.
		w.heldAvg, w.gatheredAvg, w.probing = held, gathered, false
	} else {
		w.heldAvg += (held - w.heldAvg) / averageWindows
		w.gatheredAvg += (gathered - w.gatheredAvg) / averageWindows
	}
	if w.gatheredAvg*minGatherRatio < w.heldAvg {
		w.paused = w.opened.Add(pauseWindows * w.window)
	}
	w.mu.Unlock()
	for _, ft := range batch {
		ft.c.mu.Lock()
		ft.t.held = false
		ft.c.mu.Unlock()
		w.flush(ft)
	}
	clear(batch) // drop the connections
	w.mu.Lock()
	if w.spare == nil {
		w.spare = batch
	}
	w.mu.Unlock()
}

// flushNow hands everything held on at once and holds nothing from then on (the server
// is closing).
func (w *writeCoalescer) flushNow() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	if w.timer.Stop() {
		w.fire()
	}
}
