package utils

import (
	"testing"
	"time"
)

func TestRateLimiterBurstThenRefusal(t *testing.T) {
	r := NewRateLimiter(10, 3) // 3 at once, then one per 100ms
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		if wait, ok := r.Allow(t0); !ok || wait != 0 {
			t.Fatalf("event %d of the burst: ok=%v wait=%v", i+1, ok, wait)
		}
	}
	wait, ok := r.Allow(t0)
	if ok {
		t.Fatal("the event after the burst was allowed")
	}
	if wait < 99*time.Millisecond || wait > 101*time.Millisecond {
		t.Fatalf("retry after %v, want about 100ms", wait)
	}
	// Refusals take nothing: asking again at once gives the same answer.
	if wait2, ok := r.Allow(t0); ok || wait2 != wait {
		t.Fatalf("second refusal: ok=%v wait=%v, want false %v", ok, wait2, wait)
	}
	// Half-way through, the wait has halved.
	if wait, ok := r.Allow(t0.Add(50 * time.Millisecond)); ok || wait < 49*time.Millisecond || wait > 51*time.Millisecond {
		t.Fatalf("at +50ms: ok=%v wait=%v, want refused with about 50ms", ok, wait)
	}
}

func TestRateLimiterRefillsOverTime(t *testing.T) {
	r := NewRateLimiter(10, 3)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		r.Allow(t0)
	}
	if _, ok := r.Allow(t0.Add(100 * time.Millisecond)); !ok {
		t.Fatal("one token should have refilled after 100ms")
	}
	if _, ok := r.Allow(t0.Add(100 * time.Millisecond)); ok {
		t.Fatal("only one token should have refilled after 100ms")
	}
	// A long idle refills up to the burst and no further.
	later := t0.Add(time.Hour)
	for i := 0; i < 3; i++ {
		if _, ok := r.Allow(later); !ok {
			t.Fatalf("event %d after an idle hour refused", i+1)
		}
	}
	if _, ok := r.Allow(later); ok {
		t.Fatal("the bucket refilled beyond its burst")
	}
}

func TestRateLimiterSustainedRate(t *testing.T) {
	r := NewRateLimiter(50, 1)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	allowed := 0
	for i := 0; i < 1000; i++ { // one attempt per millisecond for one second
		if _, ok := r.Allow(t0.Add(time.Duration(i) * time.Millisecond)); ok {
			allowed++
		}
	}
	if allowed < 49 || allowed > 51 {
		t.Fatalf("allowed %d events in one second at 50/s", allowed)
	}
}
