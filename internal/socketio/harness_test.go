package socketio

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// startTestServer serves srv (built by build) on a real loopback listener.
func startTestServer(t testing.TB, opts Options, build func(*Server)) (*Server, string) {
	t.Helper()
	srv := NewServer(opts)
	build(srv)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
	})
	return srv, "ws" + strings.TrimPrefix(hs.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
}

// rawClient is a Socket.IO client at the packet level: it writes and reads the frames
// the official client would, and answers pings.
type rawClient struct {
	t    testing.TB
	conn net.Conn
	r    io.Reader
	in   chan string
}

func dial(t testing.TB, url string) *rawClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dial(ctx, url)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c := &rawClient{t: t, conn: conn, r: conn, in: make(chan string, 4096)}
	if br != nil {
		c.r = io.MultiReader(br, conn)
	}
	t.Cleanup(func() { conn.Close() })
	go c.read()
	if open := c.next(); !strings.HasPrefix(open, "0{") {
		t.Fatalf("open packet %q", open)
	}
	return c
}

func (c *rawClient) read() {
	defer close(c.in)
	r := bufio.NewReader(c.r)
	for {
		data, op, err := wsutil.ReadServerData(struct {
			io.Reader
			io.Writer
		}{r, c.conn})
		if err != nil {
			return
		}
		s := string(data)
		if op == ws.OpBinary {
			s = "bin:" + s
		} else if s == "2" {
			_ = wsutil.WriteClientText(c.conn, []byte("3"))
			continue
		}
		c.in <- s
	}
}

func (c *rawClient) send(s string) {
	c.t.Helper()
	if err := wsutil.WriteClientText(c.conn, []byte(s)); err != nil {
		c.t.Fatalf("send %q: %v", s, err)
	}
}

func (c *rawClient) sendBinary(b []byte) {
	c.t.Helper()
	if err := wsutil.WriteClientBinary(c.conn, b); err != nil {
		c.t.Fatalf("send binary: %v", err)
	}
}

// next is the next message (Engine.IO packet), failing after 5 s or if the connection
// closed.
func (c *rawClient) next() string {
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

// closed waits until the server closes the connection.
func (c *rawClient) closed() {
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

// quiet fails if a packet arrives within d.
func (c *rawClient) quiet(d time.Duration) {
	c.t.Helper()
	select {
	case s, ok := <-c.in:
		if ok {
			c.t.Fatalf("unexpected packet %q", s)
		}
	case <-time.After(d):
	}
}

// connect joins the main namespace and returns the socket id.
func (c *rawClient) connect(auth string) string {
	c.t.Helper()
	c.send("40" + auth)
	got := c.next()
	if !strings.HasPrefix(got, `40{"sid":"`) {
		c.t.Fatalf("CONNECT answer %q", got)
	}
	return strings.TrimSuffix(strings.TrimPrefix(got, `40{"sid":"`), `"}`)
}
