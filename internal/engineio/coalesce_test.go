package engineio

import (
	"testing"
	"time"
)

// Under sustained traffic, what a connection is sent within one window goes out in one
// write; the first packet after a quiet window is not held.
func TestWriteDelayGathersAWindowIntoOneWrite(t *testing.T) {
	ts := startServer(t, Options{WriteDelay: 300 * time.Millisecond})
	conn := ts.dialWS("transport=websocket")
	readText(t, conn) // open
	r := ts.nextConn()
	r.c.Send(MessagePacket(append(NewMessageBuffer(1), 'a')))
	if got, _ := readText(t, conn); got != "4a" {
		t.Fatalf("first %q", got)
	}
	// The counters move just after the write returns, so the client may read first.
	before := waitWrites(t, ts.srv, 2) // the open packet's, a's
	r.c.Send(MessagePacket(append(NewMessageBuffer(1), 'b')))
	r.c.Send(MessagePacket(append(NewMessageBuffer(1), 'c')))
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
	ts := startServer(t, Options{WriteDelay: time.Hour})
	conn := ts.dialWS("transport=websocket")
	readText(t, conn) // open
	r := ts.nextConn()
	r.c.Send(MessagePacket(append(NewMessageBuffer(1), 'a')))
	if got, _ := readText(t, conn); got != "4a" { // within readText's 5 s: not held
		t.Fatalf("first %q", got)
	}
	r.c.Send(MessagePacket(append(NewMessageBuffer(1), 'b'))) // held for the hour
	ts.srv.Close()
	if got, _ := readText(t, conn); got != "4b" {
		t.Fatalf("after close %q", got)
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
	sparse.flushNow() // the window ends: 2 held connections, no second packet
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
	dense.flushNow()
	if !dense.hold(target()) {
		t.Fatal("holding paused after a window that saved three writes")
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
