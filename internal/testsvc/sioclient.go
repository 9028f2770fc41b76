package testsvc

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// SIOClient is a Socket.IO client at the packet level, over WebSocket: tests send and
// read the exact Engine.IO packets the official client would. It answers pings by itself;
// binary messages arrive as "bin:" + their bytes.
type SIOClient struct {
	t    testing.TB
	Conn net.Conn
	in   chan string
}

// DialSIO opens a WebSocket to url (…/socket.io/?EIO=4&transport=websocket) and reads
// the Engine.IO open packet. The connection closes when the test ends.
func DialSIO(t testing.TB, url string) *SIOClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dial(ctx, url)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &SIOClient{t: t, Conn: conn, in: make(chan string, 4096)}
	var r io.Reader = conn
	if br != nil {
		r = io.MultiReader(br, conn) // frames that came with the handshake response
	}
	go c.read(r)
	if open := c.Next(); !strings.HasPrefix(open, "0{") {
		t.Fatalf("open packet %q", open)
	}
	return c
}

func (c *SIOClient) read(r io.Reader) {
	defer close(c.in)
	rw := struct {
		io.Reader
		io.Writer
	}{bufio.NewReader(r), c.Conn}
	for {
		data, op, err := wsutil.ReadServerData(rw)
		if err != nil {
			return
		}
		s := string(data)
		if op == ws.OpBinary {
			s = "bin:" + s
		} else if s == "2" {
			_ = wsutil.WriteClientText(c.Conn, []byte("3"))
			continue
		}
		c.in <- s
	}
}

// Send writes a text packet.
func (c *SIOClient) Send(s string) {
	c.t.Helper()
	if err := wsutil.WriteClientText(c.Conn, []byte(s)); err != nil {
		c.t.Fatalf("send %q: %v", s, err)
	}
}

// SendBinary writes a binary packet (an attachment).
func (c *SIOClient) SendBinary(b []byte) {
	c.t.Helper()
	if err := wsutil.WriteClientBinary(c.Conn, b); err != nil {
		c.t.Fatalf("send binary: %v", err)
	}
}

// Next is the next packet, failing the test after 5 s or if the connection closed.
func (c *SIOClient) Next() string {
	c.t.Helper()
	select {
	case s, ok := <-c.in:
		if !ok {
			c.t.Fatal("the connection closed")
		}
		return s
	case <-time.After(5 * time.Second):
		c.t.Fatal("timed out waiting for a packet")
		return ""
	}
}

// NextWithin is the next packet, or "" after d.
func (c *SIOClient) NextWithin(d time.Duration) string {
	select {
	case s := <-c.in:
		return s
	case <-time.After(d):
		return ""
	}
}

// Quiet fails the test if a packet arrives within d.
func (c *SIOClient) Quiet(d time.Duration) {
	c.t.Helper()
	if s := c.NextWithin(d); s != "" {
		c.t.Fatalf("unexpected packet %q", s)
	}
}

// Closed waits until the server closes the connection.
func (c *SIOClient) Closed() {
	c.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-c.in:
			if !ok {
				return
			}
		case <-deadline:
			c.t.Fatal("the connection stayed open")
		}
	}
}

// Connect joins the main namespace with the auth JSON (or none) and returns the sid.
func (c *SIOClient) Connect(auth string) string {
	c.t.Helper()
	c.Send("40" + auth)
	got := c.Next()
	if !strings.HasPrefix(got, `40{"sid":"`) {
		c.t.Fatalf("CONNECT answer %q", got)
	}
	return strings.TrimSuffix(strings.TrimPrefix(got, `40{"sid":"`), `"}`)
}
