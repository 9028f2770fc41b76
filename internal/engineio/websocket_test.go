package engineio

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

func TestWebSocketHandshakeEchoAndBinary(t *testing.T) {
	ts := startServer(t, Options{})
	conn := ts.dialWS("transport=websocket")
	open, _ := readText(t, conn)
	var o map[string]any
	if !strings.HasPrefix(open, "0") || json.Unmarshal([]byte(open[1:]), &o) != nil {
		t.Fatalf("open %q", open)
	}
	if up, _ := o["upgrades"].([]any); len(up) != 0 {
		t.Fatalf("a WebSocket session offers no upgrades: %v", o["upgrades"])
	}
	r := ts.nextConn()
	writeText(t, conn, "4echo:hello")
	if got, op := readText(t, conn); got != "4hello" || op != ws.OpText {
		t.Fatalf("echo %q %v", got, op)
	}
	if err := wsutil.WriteClientBinary(conn, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, r.messages, "binary"); got != "echo:hello" {
		t.Fatalf("first message %q", got)
	}
	if got := recv(t, r.messages, "binary"); got != "bin:\x01\x02\x03" {
		t.Fatalf("binary %q", got)
	}
	r.c.Send(BinaryPacket([]byte{7}))
	if got, op := readText(t, conn); got != "\x07" || op != ws.OpBinary {
		t.Fatalf("binary out %q %v", got, op)
	}
}

func TestWebSocketHeartbeat(t *testing.T) {
	ts := startServer(t, Options{PingInterval: 100 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
	conn := ts.dialWS("transport=websocket")
	readText(t, conn)
	r := ts.nextConn()
	for i := 0; i < 3; i++ {
		if got, _ := readText(t, conn); got != "2" {
			t.Fatalf("round %d: %q", i, got)
		}
		writeText(t, conn, "3")
	}
	readText(t, conn) // a ping left unanswered
	if reason := recv(t, r.closed, "close"); reason != "ping timeout" {
		t.Fatalf("reason %q", reason)
	}
}

func TestWebSocketProtocolViolationsClose(t *testing.T) {
	ts := startServer(t, Options{MaxPayload: 1000})
	cases := []struct {
		name   string
		send   func(t *testing.T, c interface{ Write([]byte) (int, error) })
		code   ws.StatusCode
		reason string
	}{
		{"invalid Engine.IO packet", func(t *testing.T, c interface{ Write([]byte) (int, error) }) {
			_ = wsutil.WriteClientText(c, []byte("abc"))
		}, 1002, "parse error"},
		{"message over maxPayload", func(t *testing.T, c interface{ Write([]byte) (int, error) }) {
			_ = wsutil.WriteClientText(c, []byte("4"+strings.Repeat("x", 2000)))
		}, 1009, "transport error"},
		{"invalid UTF-8 in a text frame", func(t *testing.T, c interface{ Write([]byte) (int, error) }) {
			_ = wsutil.WriteClientText(c, []byte("4\xff\xfe"))
		}, 1007, "parse error"},
		{"an unmasked client frame", func(t *testing.T, c interface{ Write([]byte) (int, error) }) {
			_ = ws.WriteFrame(c, ws.NewTextFrame([]byte("4x")))
		}, 1002, "parse error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn := ts.dialWS("transport=websocket")
			readText(t, conn)
			r := ts.nextConn()
			// The client can read the open packet before the server's writer lets go of
			// the connection; a violation then finds the writer busy, and failWS closes
			// without its close frame (see there). Wait for the writer, so the close
			// frame is what is checked.
			waitIdle(t, r.c)
			tc.send(t, conn)
			if code := readUntilClosed(t, conn); code != tc.code {
				t.Fatalf("close code %d, want %d", code, tc.code)
			}
			if reason := recv(t, r.closed, "close"); reason != tc.reason {
				t.Fatalf("reason %q, want %q", reason, tc.reason)
			}
		})
	}
}

func TestWebSocketClientCloseAndControlFrames(t *testing.T) {
	ts := startServer(t, Options{})
	conn := ts.dialWS("transport=websocket")
	readText(t, conn)
	r := ts.nextConn()
	// A WebSocket ping is answered with a pong carrying its payload.
	if err := ws.WriteFrame(conn, ws.MaskFrame(ws.NewPingFrame([]byte("hi")))); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	f, err := ws.ReadFrame(conn)
	if err != nil || f.Header.OpCode != ws.OpPong || string(f.Payload) != "hi" {
		t.Fatalf("pong: %v %v %q", err, f.Header.OpCode, f.Payload)
	}
	// A fragmented message is reassembled.
	_ = ws.WriteFrame(conn, ws.MaskFrame(ws.NewFrame(ws.OpText, false, []byte("4frag"))))
	_ = ws.WriteFrame(conn, ws.MaskFrame(ws.NewFrame(ws.OpContinuation, true, []byte("mented"))))
	if got := recv(t, r.messages, "fragments"); got != "fragmented" {
		t.Fatalf("reassembled %q", got)
	}
	// The Engine.IO close packet ends the session.
	writeText(t, conn, "1")
	if reason := recv(t, r.closed, "close"); reason != "transport close" {
		t.Fatalf("reason %q", reason)
	}
}

func TestWebSocketServerCloseFlushesFirst(t *testing.T) {
	ts := startServer(t, Options{})
	conn := ts.dialWS("transport=websocket")
	readText(t, conn)
	r := ts.nextConn()
	for i := 0; i < 100; i++ {
		b := NewMessageBuffer(3)
		r.c.Send(MessagePacket(append(b, "end"...)))
	}
	r.c.Close()
	for i := 0; i < 100; i++ {
		if got, _ := readText(t, conn); got != "4end" {
			t.Fatalf("message %d: %q", i, got)
		}
	}
	if code := readUntilClosed(t, conn); code != 1000 {
		t.Fatalf("close code %d", code)
	}
}

func TestWebSocketKeepsOrderUnderConcurrentSends(t *testing.T) {
	ts := startServer(t, Options{})
	conn := ts.dialWS("transport=websocket")
	readText(t, conn)
	r := ts.nextConn()
	const senders, each = 4, 2000
	var wg sync.WaitGroup
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				b := NewMessageBuffer(8)
				b = append(b, byte('a'+s))
				b = append(b, []byte(strings.Repeat("0", 0))...)
				r.c.Send(MessagePacket(append(b, []byte(itoa(i))...)))
			}
		}(s)
	}
	next := make([]int, senders)
	for n := 0; n < senders*each; n++ {
		got, _ := readText(t, conn)
		s := int(got[1] - 'a')
		if got[2:] != itoa(next[s]) {
			t.Fatalf("sender %d: got %q, want %d", s, got, next[s])
		}
		next[s]++
	}
	wg.Wait()
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
