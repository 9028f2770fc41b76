package engineio

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// A client that stops reading is disconnected once what waits for it outgrows
// MaxQueueBytes; nothing more is queued for it after that.
func TestSlowConsumerIsDroppedWithBoundedMemory(t *testing.T) {
	slow := make(chan int, 1)
	ts := startServer(t, Options{MaxQueueBytes: 256 << 10, OnSlowConsumer: func(_ *Conn, n int) { slow <- n }})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, _, err := ws.Dial(ctx, ts.wsURL("transport=websocket")) // and never read
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := ts.nextConn()
	frame := MessagePacket(append(NewMessageBuffer(10_000), bytes.Repeat([]byte("x"), 10_000)...))
	sent := 0
	for ; sent < 20_000; sent++ { // 200 MB at most: far beyond any socket buffer
		if !r.c.Send(frame) {
			break
		}
		r.c.mu.Lock()
		queued := r.c.queued
		r.c.mu.Unlock()
		if queued > 256<<10 {
			t.Fatalf("%d bytes queued, beyond the bound", queued)
		}
	}
	if sent == 20_000 {
		t.Fatal("200 MB were queued for a client that reads nothing")
	}
	if n := recv(t, slow, "slow consumer report"); n <= 0 || n > 256<<10 {
		t.Fatalf("reported %d queued bytes", n)
	}
	if reason := recv(t, r.closed, "close"); reason != "slow consumer" {
		t.Fatalf("reason %q", reason)
	}
	if r.c.Send(frame) {
		t.Fatal("a closed connection took another packet")
	}
	if ts.srv.Len() != 0 {
		t.Fatalf("%d sessions left", ts.srv.Len())
	}
}

// Polling clients are bounded the same way: what waits between two GETs.
func TestSlowPollingConsumerIsDropped(t *testing.T) {
	ts := startServer(t, Options{MaxQueueBytes: 64 << 10})
	ts.handshake()
	r := ts.nextConn()
	p := MessagePacket(append(NewMessageBuffer(1000), strings.Repeat("y", 1000)...))
	sent := 0
	for r.c.Send(p) {
		if sent++; sent > 1000 {
			t.Fatal("no bound on a polling queue")
		}
	}
	if reason := recv(t, r.closed, "close"); reason != "slow consumer" {
		t.Fatalf("reason %q", reason)
	}
}
