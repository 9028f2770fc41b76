package utils

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// waitGoroutines waits, with a deadline, for the goroutine count to fall to at most want.
func waitGoroutines(want int, within time.Duration) int {
	deadline := time.Now().Add(within)
	n := runtime.NumGoroutine()
	for n > want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

// TestTypingDoesNotLeak runs 10,000 start/stop cycles across 500 chats and 200 users —
// ended by Stop, by StopUser, by a message-style Stop after an extension, and by the
// timeout — and checks that nothing stays behind: no state, no goroutine, no heap.
func TestTypingDoesNotLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("leak test")
	}
	baseGoroutines := runtime.NumGoroutine()
	baseHeap := heapAlloc()

	var stops atomic.Int64
	onStop := func(string, string) { stops.Add(1) }
	long := NewTyping(time.Hour, onStop)
	short := NewTyping(2*time.Millisecond, onStop)

	const cycles = 10_000
	var expected int64
	for i := 0; i < cycles; i++ {
		chat := fmt.Sprintf("chat-%03d", i%500)
		user := fmt.Sprintf("user-%03d", (i*7)%200)
		switch i % 4 {
		case 0:
			long.Start(chat, user)
			long.Stop(chat, user)
		case 1:
			long.Start(chat, user)
			long.Start(chat, user) // extended, then ended by the user's last socket going
			long.StopUser(user)
		case 2:
			long.Start(chat, user)
			long.Start(chat+"-b", user)
			long.StopUser(user)
			expected++ // two states
		case 3:
			// Ends by itself. The same key comes back every 1,000 cycles; if its state
			// is still alive then, Start extends it and no second stop is due.
			if !short.Start(chat, user) {
				expected--
			}
		}
		expected++
	}
	deadline := time.Now().Add(10 * time.Second)
	for (short.Len() > 0 || stops.Load() < expected) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if long.Len() != 0 || short.Len() != 0 {
		t.Fatalf("Len after the cycles: long=%d short=%d, want 0", long.Len(), short.Len())
	}
	if got := stops.Load(); got != expected {
		t.Fatalf("onStop called %d times, want %d", got, expected)
	}
	gotGoroutines := waitGoroutines(baseGoroutines, 5*time.Second)
	long.Close()
	short.Close()
	heap := heapAlloc()
	growth := int64(heap) - int64(baseHeap)
	t.Logf("typing leak: %d cycles; goroutines baseline=%d after=%d; heap baseline=%d B after=%d B growth=%d B",
		cycles, baseGoroutines, gotGoroutines, baseHeap, heap, growth)
	if gotGoroutines > baseGoroutines {
		t.Errorf("goroutines: %d after the cycles, baseline %d", gotGoroutines, baseGoroutines)
	}
	if growth > 2<<20 {
		t.Errorf("heap grew by %d bytes (> 2 MiB) after %d cycles", growth, cycles)
	}
	runtime.KeepAlive(long)
	runtime.KeepAlive(short)
}
