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
