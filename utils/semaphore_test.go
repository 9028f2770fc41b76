package utils

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSemaphoreBoundsHoldersAndWaiters(t *testing.T) {
	s := NewSemaphore(2, 3, 5*time.Second)
	ctx := context.Background()
	for range 2 {
		if _, err := s.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Three wait in line; the fourth is refused at once.
	results := make(chan error, 3)
	for range 3 {
		go func() {
			_, err := s.Acquire(ctx)
			results <- err
		}()
	}
	waitFor(t, func() bool { return s.Waiting() == 3 }, "three waiters")
	start := time.Now()
	if _, err := s.Acquire(ctx); !errors.Is(err, ErrBusy) {
		t.Fatalf("beyond the queue: err = %v, want ErrBusy", err)
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Fatalf("the refusal took %v, want it at once", d)
	}
	if s.InUse() != 2 {
		t.Fatalf("InUse = %d", s.InUse())
	}
	// Each release admits one waiter.
	for i := range 3 {
		s.Release()
		if err := <-results; err != nil {
			t.Fatalf("waiter %d: %v", i, err)
		}
	}
	if s.Waiting() != 0 || s.InUse() != 2 {
		t.Fatalf("Waiting=%d InUse=%d, want 0 and 2", s.Waiting(), s.InUse())
	}
	s.Release()
	s.Release()
	if s.InUse() != 0 {
		t.Fatalf("InUse = %d after releasing everything", s.InUse())
	}
}

func TestSemaphoreWaitIsBoundedInTimeAndByTheContext(t *testing.T) {
	s := NewSemaphore(1, 10, 100*time.Millisecond)
	if _, err := s.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	waited, err := s.Acquire(context.Background())
	if !errors.Is(err, ErrBusy) || waited < 100*time.Millisecond {
		t.Fatalf("err = %v after %v, want ErrBusy after maxWait", err, waited)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	if _, err := s.Acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if s.Waiting() != 0 || s.InUse() != 1 {
		t.Fatalf("Waiting=%d InUse=%d after abandoned waits", s.Waiting(), s.InUse())
	}
}

func TestSemaphoreWithoutQueueRefusesWhenFull(t *testing.T) {
	s := NewSemaphore(1, 0, time.Second)
	if _, err := s.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Acquire(context.Background()); !errors.Is(err, ErrBusy) {
		t.Fatalf("err = %v, want ErrBusy", err)
	}
}

// Under contention the number of holders never exceeds the slots.
func TestSemaphoreConcurrentHoldersNeverExceedSlots(t *testing.T) {
	s := NewSemaphore(3, 1000, 5*time.Second)
	var holders, peak atomic.Int64
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			if _, err := s.Acquire(context.Background()); err != nil {
				t.Error(err)
				return
			}
			n := holders.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(100 * time.Microsecond)
			holders.Add(-1)
			s.Release()
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 3 {
		t.Fatalf("peak holders %d, want ≤ 3", p)
	}
}
