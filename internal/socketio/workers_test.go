package socketio

import (
	"sync"
	"testing"
)

// Every task runs once, concurrent tasks each get a worker, and a finished worker parks
// to take the next task instead of a new goroutine being started.
func TestWorkersRunEveryTaskAndParkWhenDone(t *testing.T) {
	var p workers
	var wg sync.WaitGroup
	release := make(chan struct{})
	var mu sync.Mutex
	ran := 0
	const n = 200
	for range n {
		wg.Add(1)
		p.run(func() {
			<-release
			mu.Lock()
			ran++
			mu.Unlock()
			wg.Done()
		})
	}
	close(release) // all n ran at once: none waited for another
	wg.Wait()
	if ran != n {
		t.Fatalf("%d of %d tasks ran", ran, n)
	}
	parked := func() int {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.idle)
	}
	// Workers park after their task returns; wait for them without sleeping.
	done := make(chan struct{})
	for parked() < maxIdleWorkers {
		p.run(func() { done <- struct{}{} })
		<-done
	}
	if got := parked(); got != maxIdleWorkers {
		t.Fatalf("%d workers parked, want at most %d", got, maxIdleWorkers)
	}
	// The next task takes a parked worker rather than a new goroutine.
	p.run(func() { done <- struct{}{}; done <- struct{}{} })
	<-done
	if got := parked(); got != maxIdleWorkers-1 {
		t.Fatalf("%d workers parked while one of them runs a task, want %d", got, maxIdleWorkers-1)
	}
	<-done

	// Closing ends the parked workers; work still runs afterwards, and nothing parks.
	p.close()
	if got := parked(); got != 0 {
		t.Fatalf("%d workers parked after close", got)
	}
	p.run(func() { done <- struct{}{} })
	<-done
	if got := parked(); got != 0 {
		t.Fatalf("a worker parked after close")
	}
}
