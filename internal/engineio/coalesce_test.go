package engineio

import (
	"net"
	"testing"
	"time"
)

// Under sustained traffic, what a connection is sent within one window goes out in one
// write; the first packet after a quiet window is not held.
func TestWriteDelayGathersAWindowIntoOneWrite(t *testing.T) {
	ts, conn, r := heldConnection(t, 4*time.Second)
	before := ts.srv.Stats() // b waits in the window: nothing more is written meanwhile
	send(r.c, "c")
	for _, want := range []string{"4b", "4c"} {
		if got, _ := readText(t, conn); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	after := waitWrites(t, ts.srv, before.WebSocketWrites+1)
	if w, f := after.WebSocketWrites-before.WebSocketWrites, after.WebSocketFrames-before.WebSocketFrames; w != 1 || f != 2 {
		t.Fatalf("the window's two packets took %d writes carrying %d frames, want 1 and 2", w, f)
	}
}

// Closing the server does not wait for a window to end: what it holds is written first.
func TestWriteDelayIsCutShortByClose(t *testing.T) {
	ts, conn, _ := heldConnection(t, time.Hour)
	ts.srv.Close()
	if got, _ := readText(t, conn); got != "4b" {
		t.Fatalf("after close %q", got)
	}
}

// A connection that breaks the protocol while held still gets its close code.
func TestWriteDelayHeldConnectionGetsItsCloseCode(t *testing.T) {
	_, conn, _ := heldConnection(t, time.Hour)
	writeText(t, conn, "x") // not an Engine.IO packet type: a parse error
	if code := readUntilClosed(t, conn); code != 1002 {
		t.Fatalf("close code %d, want 1002", code)
	}
}

// heldConnection opens a WebSocket on a server with the given window, sends "a" (the
// first packet after a quiet window: written at once) and "b" (held in a's window).
func heldConnection(t *testing.T, window time.Duration) (*testServer, net.Conn, *recorder) {
	t.Helper()
	ts := startServer(t, Options{WriteDelay: window})
	conn := ts.dialWS("transport=websocket")
	readText(t, conn) // open
	r := ts.nextConn()
	// The client can read the open packet before its writer lets go of the connection:
	// a sent then would join that writer's queue without opening a window, and b would
	// open one instead of being held in it (failed once in CI under -race).
	waitIdle(t, r.c)
	send(r.c, "a")
	if got, _ := readText(t, conn); got != "4a" { // within readText's 5 s: not held
		t.Fatalf("first %q", got)
	}
	// The counters move just after the write returns, and the writer lets go of the
	// connection after that: wait for both, so b finds it idle.
	waitWrites(t, ts.srv, 2) // the open packet's, a's
	waitIdle(t, r.c)
	send(r.c, "b")
	if !isHeld(r.c) {
		t.Fatal("b, sent within a's window, was not held")
	}
	return ts, conn, r
}

func send(c *Conn, s string) { c.Send(MessagePacket(append(NewMessageBuffer(len(s)), s...))) }

func isHeld(c *Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws != nil && c.ws.held
}

// waitIdle waits until no writer owns c's WebSocket.
func waitIdle(t *testing.T, c *Conn) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		idle := !c.ws.writing
		c.mu.Unlock()
		if idle {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the writer never let go of the connection")
		}
		time.Sleep(time.Millisecond)
	}
}

// Holding pauses when held connections rarely get a second packet in their window (it
// would cost latency and save no write), and stays on when they do.
func TestWriteDelayHoldsOnlyWhileItGathers(t *testing.T) {
	var flushed []flushTarget
	target := func() flushTarget { return flushTarget{&Conn{}, &wsTransport{}} }
	sparse := newWriteCoalescer(time.Hour, func(ft flushTarget) { flushed = append(flushed, ft) })
	if sparse.hold(target()) {
		t.Fatal("the first packet after a quiet window was held")
	}
	if !sparse.hold(target()) || !sparse.hold(target()) {
		t.Fatal("packets within the window were not held")
	}
	endWindow(sparse) // the window ends: 2 held connections, no second packet
	if len(flushed) != 2 {
		t.Fatalf("%d held connections flushed, want 2", len(flushed))
	}
	if sparse.hold(target()) {
		t.Fatal("still holding after a window that gathered nothing")
	}

	dense := newWriteCoalescer(time.Hour, func(flushTarget) {})
	dense.hold(target())
	dense.hold(target())
	dense.gathered.Add(3) // the held connection was sent three more packets
	endWindow(dense)
	if !dense.hold(target()) {
		t.Fatal("holding paused after a window that saved three writes")
	}
	dense.flushNow() // the server closes: nothing is held from then on
	if dense.hold(target()) {
		t.Fatal("held a packet after flushNow")
	}

	// After a pause, the first window that holds anything decides alone, even when
	// quiet windows came between: a busy probe resumes holding.
	sparse.heldAvg, sparse.gatheredAvg = 100, 0 // a long sparse history
	sparse.paused = time.Now()                  // the pause is over
	sparse.opened = time.Time{}
	if sparse.hold(target()) { // opens a window: goes at once
		t.Fatal("held the first packet after the pause")
	}
	sparse.opened = time.Time{} // that window passed quietly
	if sparse.hold(target()) {
		t.Fatal("held the first packet after a quiet window")
	}
	if !sparse.hold(target()) {
		t.Fatal("the probe window did not hold")
	}
	sparse.gathered.Add(2)
	endWindow(sparse)
	if sparse.paused.After(time.Now()) {
		t.Fatal("a probe that gathered well was judged by the averages from before the pause")
	}
}

// waitWrites waits until the server has counted n WebSocket writes and returns its stats.
func waitWrites(t *testing.T, s *Server, n uint64) Stats {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := s.Stats()
		if st.WebSocketWrites >= n {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d WebSocket writes counted, want %d", st.WebSocketWrites, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// endWindow ends w's current window now, as its timer would.
func endWindow(w *writeCoalescer) {
	if w.timer.Stop() {
		w.fire()
	}
}
