package utils

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

type stopLog struct {
	mu    sync.Mutex
	stops []string
	ch    chan string
}

func newStopLog() *stopLog { return &stopLog{ch: make(chan string, 20000)} }

func (l *stopLog) onStop(chatID, userID string) {
	k := chatID + "/" + userID
	l.mu.Lock()
	l.stops = append(l.stops, k)
	l.mu.Unlock()
	l.ch <- k
}

func (l *stopLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.stops)
}

func (l *stopLog) wait(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case k := <-l.ch:
			if k == want {
				return
			}
		case <-deadline:
			t.Fatalf("onStop(%s) was not called", want)
		}
	}
}

func TestTypingStartNewThenExtend(t *testing.T) {
	l := newStopLog()
	ty := NewTyping(time.Hour, l.onStop)
	defer ty.Close()
	if !ty.Start("c1", "u1") {
		t.Fatal("the first Start is not new")
	}
	if ty.Start("c1", "u1") {
		t.Fatal("a second Start is new, want an extension")
	}
	if !ty.Start("c2", "u1") || !ty.Start("c1", "u2") {
		t.Fatal("Start in another chat or by another user is not new")
	}
	if ty.Len() != 3 {
		t.Fatalf("Len = %d, want 3", ty.Len())
	}
	if l.count() != 0 {
		t.Fatal("onStop called without a stop")
	}
}

func TestTypingTimesOutOnce(t *testing.T) {
	l := newStopLog()
	ty := NewTyping(20*time.Millisecond, l.onStop)
	defer ty.Close()
	start := time.Now()
	ty.Start("c1", "u1")
	l.wait(t, "c1/u1")
	if time.Since(start) < 20*time.Millisecond {
		t.Fatal("the state ended before its timeout")
	}
	if ty.Len() != 0 {
		t.Fatalf("Len = %d after the timeout", ty.Len())
	}
	// Neither a late Stop nor StopUser reports it again.
	ty.Stop("c1", "u1")
	ty.StopUser("u1")
	// A sentinel with the same timeout started now ends after any stray timer of c1/u1.
	ty.Start("sentinel", "s")
	l.wait(t, "sentinel/s")
	if n := l.count(); n != 2 {
		t.Fatalf("onStop called %d times, want once for c1/u1 and once for the sentinel", n)
	}
}

func TestTypingExtendPushesTheTimeoutBack(t *testing.T) {
	l := newStopLog()
	ty := NewTyping(200*time.Millisecond, l.onStop)
	defer ty.Close()
	start := time.Now()
	ty.Start("c1", "u1")
	// Extend every few milliseconds until twice the timeout has passed. (If the machine
	// stalls longer than the timeout between two extensions, the state really ended and
	// the extension is new: the test says so instead of failing.)
	for time.Since(start) < 400*time.Millisecond {
		if ty.Start("c1", "u1") {
			t.Skip("machine too slow: the state expired between two extensions")
		}
		time.Sleep(5 * time.Millisecond) // pacing the extensions, not waiting for a result
	}
	if ty.Len() != 1 || l.count() != 0 {
		t.Fatalf("an extended state ended: Len=%d stops=%d", ty.Len(), l.count())
	}
	l.wait(t, "c1/u1")
}

func TestTypingStop(t *testing.T) {
	l := newStopLog()
	ty := NewTyping(time.Hour, l.onStop)
	defer ty.Close()
	ty.Start("c1", "u1")
	ty.Start("c1", "u2")
	ty.Stop("c1", "u1")
	ty.Stop("c1", "u1") // already stopped
	ty.Stop("c9", "u1") // never started
	if l.count() != 1 || l.stops[0] != "c1/u1" {
		t.Fatalf("stops = %v, want [c1/u1]", l.stops)
	}
	if ty.Len() != 1 {
		t.Fatalf("Len = %d, want 1", ty.Len())
	}
	if !ty.Start("c1", "u1") {
		t.Fatal("Start after Stop is not new")
	}
}

func TestTypingStopUserEndsEveryChatOfTheUser(t *testing.T) {
	l := newStopLog()
	ty := NewTyping(time.Hour, l.onStop)
	defer ty.Close()
	for _, c := range []string{"c1", "c2", "c3"} {
		ty.Start(c, "u1")
	}
	ty.Start("c1", "u2")
	ty.StopUser("u1")
	got := map[string]bool{}
	for _, s := range l.stops {
		got[s] = true
	}
	if len(l.stops) != 3 || !got["c1/u1"] || !got["c2/u1"] || !got["c3/u1"] {
		t.Fatalf("stops = %v, want the three chats of u1", l.stops)
	}
	if ty.Len() != 1 {
		t.Fatalf("Len = %d, want u2's state only", ty.Len())
	}
	ty.StopUser("u1")
	ty.StopUser("nobody")
	if l.count() != 3 {
		t.Fatal("StopUser of a user with no state called onStop")
	}
}

func TestTypingCloseStopsWithoutCallbacks(t *testing.T) {
	l := newStopLog()
	ty := NewTyping(20*time.Millisecond, l.onStop)
	ty.Start("c1", "u1")
	ty.Start("c2", "u2")
	ty.Close()
	if ty.Len() != 0 {
		t.Fatalf("Len = %d after Close", ty.Len())
	}
	other := newStopLog()
	sentinel := NewTyping(20*time.Millisecond, other.onStop)
	defer sentinel.Close()
	sentinel.Start("s", "s")
	other.wait(t, "s/s")
	if l.count() != 0 {
		t.Fatalf("onStop called %d times after Close", l.count())
	}
}

// Every state that begins ends exactly once, however starts and timeouts interleave.
func TestTypingEveryStateEndsExactlyOnce(t *testing.T) {
	var mu sync.Mutex
	stops := map[string]int{}
	var began, ended int
	ty := NewTyping(time.Millisecond, func(c, u string) {
		mu.Lock()
		stops[c+"/"+u]++
		ended++
		mu.Unlock()
	})
	defer ty.Close()
	var wg sync.WaitGroup
	var beganMu sync.Mutex
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				c := fmt.Sprintf("c%d", i%5)
				if ty.Start(c, fmt.Sprintf("u%d", g%2)) {
					beganMu.Lock()
					began++
					beganMu.Unlock()
				}
				if i%7 == 0 {
					ty.Stop(c, fmt.Sprintf("u%d", g%2))
				}
			}
		}(g)
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for ty.Len() > 0 && time.Now().Before(deadline) {
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
	if ty.Len() != 0 {
		t.Fatalf("Len = %d long after every timeout", ty.Len())
	}
	mu.Lock()
	defer mu.Unlock()
	beganMu.Lock()
	defer beganMu.Unlock()
	if began != ended {
		t.Fatalf("%d states began and %d ended", began, ended)
	}
}
