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
	before := ts.srv.Stats()
	r.c.Send(MessagePacket(append(NewMessageBuffer(1), 'b')))
	r.c.Send(MessagePacket(append(NewMessageBuffer(1), 'c')))
	for _, want := range []string{"4b", "4c"} {
		if got, _ := readText(t, conn); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	after := ts.srv.Stats()
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
