package utils

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// ErrBusy is Semaphore.Acquire's answer when every slot is taken and the wait queue is
// full, or the wait took longer than the semaphore allows.
var ErrBusy = errors.New("busy")

// Semaphore bounds costly work (password hashing): at most `slots` holders at once, at
// most `queue` more waiting, each for at most maxWait. Beyond that callers are refused at
// once rather than piling up: a queue that only grows serves no one, and every waiter
// holds its request's memory.
type Semaphore struct {
	slots   chan struct{}
	queue   int64
	waiting atomic.Int64
	maxWait time.Duration
}

// NewSemaphore returns a semaphore with slots ≥ 1 holders and queue ≥ 0 waiters.
func NewSemaphore(slots, queue int, maxWait time.Duration) *Semaphore {
	return &Semaphore{slots: make(chan struct{}, max(1, slots)), queue: int64(max(0, queue)), maxWait: maxWait}
}

// Acquire takes a slot, waiting in line if the queue has room. It returns how long it
// waited; on ErrBusy or ctx's error nothing is held. A caller that got a slot must call
// Release.
func (s *Semaphore) Acquire(ctx context.Context) (time.Duration, error) {
	select {
	case s.slots <- struct{}{}:
		return 0, nil
	default:
	}
	if s.waiting.Add(1) > s.queue {
		s.waiting.Add(-1)
		return 0, ErrBusy
	}
	defer s.waiting.Add(-1)
	start := time.Now()
	timer := time.NewTimer(s.maxWait)
	defer timer.Stop()
	// Blocked senders on a channel are served in arrival order, and a freed slot goes to
	// the first of them before any newcomer's non-blocking try: the line is FIFO.
	select {
	case s.slots <- struct{}{}:
		return time.Since(start), nil
	case <-timer.C:
		return time.Since(start), ErrBusy
	case <-ctx.Done():
		return time.Since(start), ctx.Err()
	}
}

// Release frees a slot taken by Acquire.
func (s *Semaphore) Release() { <-s.slots }

// InUse is the number of slots held.
func (s *Semaphore) InUse() int { return len(s.slots) }

// Waiting is the number of callers in line.
func (s *Semaphore) Waiting() int { return int(s.waiting.Load()) }
