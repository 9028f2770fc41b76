package utils

import (
	"sync"
	"time"
)

// KeyedLimiter is one token bucket per key (a client address, a handle, a pair of both):
// Burst events at once, refilled at Rate per second. Memory is bounded: at capacity,
// buckets that have refilled completely are dropped, since a full bucket carries no
// information (a key seen again starts full anyway).
type KeyedLimiter struct {
	rate  float64
	burst float64
	max   int

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// sweepEvery bounds how often a limiter at capacity scans for refilled buckets.
const sweepEvery = time.Second

// NewKeyedLimiter returns a limiter that tracks at most maxKeys keys.
func NewKeyedLimiter(rate float64, burst, maxKeys int) *KeyedLimiter {
	return &KeyedLimiter{rate: rate, burst: float64(burst), max: maxKeys, buckets: map[string]*bucket{}}
}

// level is b's token count at now. Time never runs backwards for a bucket: callers'
// clocks may be read a moment apart.
func (l *KeyedLimiter) level(b *bucket, now time.Time) float64 {
	return min(l.burst, b.tokens+max(0, now.Sub(b.last).Seconds())*l.rate)
}

// set stores the bucket's level as of now (or of its last update, if later).
func (b *bucket) set(tokens float64, now time.Time) {
	b.tokens = tokens
	if now.After(b.last) {
		b.last = now
	}
}

func (l *KeyedLimiter) wait(tokens float64) time.Duration {
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / l.rate * float64(time.Second))
}

// Take spends one token for key at now. When none is left it spends nothing and reports
// how long until one is.
func (l *KeyedLimiter) Take(key string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	tokens := l.burst
	if b != nil {
		tokens = l.level(b, now)
	}
	if tokens < 1 {
		return l.wait(tokens), false
	}
	if b == nil {
		if b = l.add(key, now); b == nil {
			return 0, true // over capacity with nothing to drop: admitted, not remembered
		}
	}
	b.set(tokens-1, now)
	return 0, true
}

// Refund gives back a token spent by Take, for an attempt that turned out not to count
// (a right password, a request refused for another reason).
func (l *KeyedLimiter) Refund(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.buckets[key]; b != nil {
		b.set(min(l.burst, l.level(b, now)+1), now)
	}
}

// Wait reports how long until key has a token at now (0: it has one), spending nothing.
func (l *KeyedLimiter) Wait(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.buckets[key]; b != nil {
		return l.wait(l.level(b, now))
	}
	return 0
}

// Full reports whether key's bucket is full at now: nothing was taken from it recently.
func (l *KeyedLimiter) Full(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	return b == nil || l.level(b, now) >= l.burst
}

// Len is the number of keys remembered.
func (l *KeyedLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// add stores a full bucket for key, dropping refilled buckets first when at capacity. It
// returns nil when every remembered key still holds state: those keys keep their limits
// and the new one is not remembered (clearing the map instead would free every key an
// attacker had exhausted).
func (l *KeyedLimiter) add(key string, now time.Time) *bucket {
	if len(l.buckets) >= l.max {
		if now.Sub(l.lastSweep) < sweepEvery {
			return nil
		}
		l.lastSweep = now
		for k, b := range l.buckets {
			if l.level(b, now) >= l.burst {
				delete(l.buckets, k)
			}
		}
		if len(l.buckets) >= l.max {
			return nil
		}
	}
	b := &bucket{tokens: l.burst, last: now}
	l.buckets[key] = b
	return b
}
