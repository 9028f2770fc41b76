package socketio

import "sync"

// maxIdleWorkers bounds the goroutines kept parked between bursts of events.
const maxIdleWorkers = 64

// workers runs connections' event queues on goroutines that have run one before. A fresh
// goroutine starts with a small stack and, handling an event, grows it several times
// (each growth copies the whole stack: 3 % of the server's CPU in the end-to-end
// benchmark); a parked worker keeps the stack it grew. Idle connections still own no
// goroutine for handling: workers belong to the server, at most maxIdleWorkers of them
// parked.
type workers struct {
	mu     sync.Mutex
	idle   []chan func() // parked workers, most recently parked last
	closed bool          // the server closed: workers end instead of parking
}

// close ends the parked workers; later work runs on goroutines that end with it.
func (p *workers) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, ch := range p.idle {
		close(ch)
	}
	p.idle = nil
}

// run calls f on a parked worker, or on a new goroutine when none is parked.
func (p *workers) run(f func()) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		ch := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		ch <- f
		return
	}
	p.mu.Unlock()
	go p.work(f)
}

func (p *workers) work(f func()) {
	ch := make(chan func(), 1)
	for {
		f()
		p.mu.Lock()
		if p.closed || len(p.idle) >= maxIdleWorkers {
			p.mu.Unlock()
			return
		}
		p.idle = append(p.idle, ch)
		p.mu.Unlock()
		var ok bool
		if f, ok = <-ch; !ok {
			return
		}
	}
}
