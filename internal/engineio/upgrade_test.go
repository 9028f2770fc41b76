package engineio

import (
	"strings"
	"testing"
	"time"
)

func TestUpgradeFromPollingToWebSocket(t *testing.T) {
	ts := startServer(t, Options{})
	sid, _ := ts.handshake()
	r := ts.nextConn()
	pending := make(chan string, 1)
	go func() { _, body := ts.get(ts.url("transport=polling&sid=" + sid)); pending <- body }()
	waitPending(t, ts, sid)

	ws := ts.dialWS("transport=websocket&sid=" + sid)
	writeText(t, ws, "2probe")
	if got, _ := readText(t, ws); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	if body := recv(t, pending, "pending GET"); body != "6" {
		t.Fatalf("the pending GET got %q, want a noop", body)
	}
	// Sent while the upgrade is in progress: queued, then written on the WebSocket.
	b := NewMessageBuffer(6)
	r.c.Send(MessagePacket(append(b, "during"...)))
	writeText(t, ws, "5")
	if got, _ := readText(t, ws); got != "4during" {
		t.Fatalf("after the upgrade %q", got)
	}
	if r.c.Transport() != "websocket" {
		t.Fatalf("transport %q", r.c.Transport())
	}
	writeText(t, ws, "4echo:over ws")
	if got, _ := readText(t, ws); got != "4over ws" {
		t.Fatalf("echo %q", got)
	}
	// Polling is over for this session; a second WebSocket with the same sid is closed.
	if code, _ := ts.get(ts.url("transport=polling&sid=" + sid)); code != 400 {
		t.Fatalf("GET after the upgrade: %d", code)
	}
	second := ts.dialWS("transport=websocket&sid=" + sid)
	if code := readUntilClosed(t, second); code != 1000 {
		t.Fatalf("second WebSocket close code %d", code)
	}
	writeText(t, ws, "4echo:still here")
	if got, _ := readText(t, ws); got != "4still here" {
		t.Fatalf("the session was disturbed: %q", got)
	}
}

// A GET that comes while a WebSocket with the sid is being probed is held, and the probe's
// answer does not release it: a client may send "2probe" and "5" together, and a GET read
// before them must be refused as any GET after the upgrade (the official suite's "ignores
// HTTP requests with same sid after upgrade" sends exactly that, racing the two).
func TestUpgradeRefusesAGetReadBeforeItsProbe(t *testing.T) {
	ts := startServer(t, Options{UpgradeCheck: 10 * time.Second})
	sid, _ := ts.handshake()
	ts.nextConn()
	ws := ts.dialWS("transport=websocket&sid=" + sid)
	got := make(chan int, 1)
	go func() { code, _ := ts.get(ts.url("transport=polling&sid=" + sid)); got <- code }()
	waitPending(t, ts, sid)
	writeText(t, ws, "2probe")
	if answer, _ := readText(t, ws); answer != "3probe" {
		t.Fatalf("probe answer %q", answer)
	}
	writeText(t, ws, "5")
	if code := recv(t, got, "the held GET"); code != 400 {
		t.Fatalf("the GET read before the upgrade got %d, want 400", code)
	}
	writeText(t, ws, "4echo:over ws")
	if answer, _ := readText(t, ws); answer != "4over ws" {
		t.Fatalf("echo %q", answer)
	}
}

func TestUpgradeProbeTimesOutAndPollingGoesOn(t *testing.T) {
	ts := startServer(t, Options{UpgradeTimeout: 200 * time.Millisecond})
	sid, _ := ts.handshake()
	r := ts.nextConn()
	ws := ts.dialWS("transport=websocket&sid=" + sid)
	writeText(t, ws, "2probe")
	if got, _ := readText(t, ws); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	// No "5": the probe is dropped and the session stays on polling.
	readUntilClosed(t, ws)
	b := NewMessageBuffer(4)
	r.c.Send(MessagePacket(append(b, "poll"...)))
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, body := ts.get(ts.url("transport=polling&sid=" + sid))
		if code != 200 {
			t.Fatalf("GET after a failed upgrade: %d", code)
		}
		if strings.Contains(body, "4poll") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never got the packet; last body %q", body)
		}
	}
	if r.c.Transport() != "polling" {
		t.Fatalf("transport %q", r.c.Transport())
	}
}

func TestUpgradeUnknownSessionIsRefused(t *testing.T) {
	ts := startServer(t, Options{})
	if code, body := ts.get(ts.url("transport=websocket&sid=nope")); code != 400 || !strings.Contains(body, `"code":`) {
		t.Fatalf("%d %q", code, body)
	}
}
