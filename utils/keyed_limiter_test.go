package utils

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestKeyedLimiterBurstThenRate(t *testing.T) {
	l := NewKeyedLimiter(0.5, 3, 100) // 3 at once, then one every 2 s
	t0 := time.Unix(1_000_000, 0)
	for i := range 3 {
		if wait, ok := l.Take("a", t0); !ok || wait != 0 {
			t.Fatalf("take %d: ok=%v wait=%v", i, ok, wait)
		}
	}
	wait, ok := l.Take("a", t0)
	if ok || wait != 2*time.Second {
		t.Fatalf("4th take: ok=%v wait=%v, want refused with 2s", ok, wait)
	}
	if w := l.Wait("a", t0.Add(500*time.Millisecond)); w != 1500*time.Millisecond {
		t.Fatalf("Wait after 0.5 s = %v, want 1.5s", w)
	}
	if _, ok := l.Take("b", t0); !ok {
		t.Fatal("another key is limited by a's takes")
	}
	if _, ok := l.Take("a", t0.Add(2*time.Second)); !ok {
		t.Fatal("a token refilled after 2 s was refused")
	}
	if _, ok := l.Take("a", t0.Add(2*time.Second)); ok {
		t.Fatal("a second token 2 s later was granted")
	}
}

func TestKeyedLimiterRefundAndFull(t *testing.T) {
	l := NewKeyedLimiter(1, 2, 100)
	t0 := time.Unix(1_000_000, 0)
	if !l.Full("k", t0) {
		t.Fatal("an unseen key is not full")
	}
	l.Take("k", t0)
	if l.Full("k", t0) {
		t.Fatal("full right after a take")
	}
	l.Refund("k", t0)
	if !l.Full("k", t0) {
		t.Fatal("not full after the take was refunded")
	}
	l.Refund("k", t0) // never above the burst
	l.Take("k", t0)
	l.Take("k", t0)
	if _, ok := l.Take("k", t0); ok {
		t.Fatal("a refund beyond the burst was kept")
	}
	if !l.Full("k", t0.Add(2*time.Second)) {
		t.Fatal("not full after refilling")
	}
	// Clocks read a moment apart never run a bucket backwards.
	l.Take("k", t0.Add(10*time.Second))
	l.Refund("k", t0.Add(9*time.Second))
	if !l.Full("k", t0.Add(10*time.Second)) {
		t.Fatal("a refund stamped a moment earlier was lost")
	}
	l.Refund("unseen", t0) // no bucket: nothing to do, no panic
	if l.Wait("unseen", t0) != 0 {
		t.Fatal("an unseen key must wait")
	}
}

// At capacity, refilled buckets are dropped to make room; buckets that still hold state
// are kept, so an exhausted key stays limited however many new keys arrive.
func TestKeyedLimiterBoundedMemoryKeepsExhaustedKeys(t *testing.T) {
	l := NewKeyedLimiter(1, 1, 10)
	t0 := time.Unix(1_000_000, 0)
	l.Take("attacker", t0)
	for i := range 20 {
		l.Take(fmt.Sprint("spray", i), t0)
	}
	if n := l.Len(); n > 10 {
		t.Fatalf("Len = %d, want at most 10", n)
	}
	if _, ok := l.Take("attacker", t0); ok {
		t.Fatal("an exhausted key was freed by a flood of new keys")
	}
	// A second later every bucket has refilled: a sweep makes room for new keys.
	t1 := t0.Add(2 * time.Second)
	if _, ok := l.Take("newcomer", t1); !ok {
		t.Fatal("newcomer refused")
	}
	if n := l.Len(); n != 1 {
		t.Fatalf("after the sweep Len = %d, want 1 (the newcomer)", n)
	}
	if l.Full("newcomer", t1) {
		t.Fatal("the newcomer's take was not remembered after the sweep")
	}
}

func TestKeyedLimiterConcurrentTakesNeverExceedTheBurst(t *testing.T) {
	l := NewKeyedLimiter(0.001, 10, 100)
	now := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted := 0
	for range 100 {
		wg.Go(func() {
			if _, ok := l.Take("k", now); ok {
				mu.Lock()
				granted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if granted != 10 {
		t.Fatalf("granted %d of 100 concurrent takes, want exactly the burst of 10", granted)
	}
}
