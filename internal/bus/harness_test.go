package bus

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
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/testsvc"
)

// node is one Socket.IO server joined to the test's Redis through its own Bus. Each
// socket joins the rooms listed in its auth ({"rooms":[...]}).
type node struct {
	srv *socketio.Server
	ns  *socketio.Namespace
	bus *Bus
	url string
	ids chan string
}

func startNode(t *testing.T, r *testsvc.Redis) *node {
	t.Helper()
	n := &node{ids: make(chan string, 16)}
	n.srv = socketio.NewServer(socketio.Options{})
	n.ns = n.srv.Namespace("/", socketio.Handlers{Connected: func(s *socketio.Socket) {
		var auth struct{ Rooms []string }
		_ = jsonUnmarshal(s.Handshake().Auth, &auth)
		s.Join(auth.Rooms...)
		n.ids <- s.ID()
	}})
	opts, _ := redis.ParseURL(r.URL())
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.MaxRetries = time.Second, time.Second, time.Second, -1
	opts.DialerRetries = 1
	opts.ContextTimeoutEnabled = true
	client := redis.NewClient(opts)
	n.bus = New(Options{Client: client, Server: n.srv, Log: zerolog.Nop()})
	n.srv.SetBus(n.bus)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	n.bus.Start(ctx)
	cancel()
	hs := httptest.NewServer(n.srv)
	n.url = "ws" + strings.TrimPrefix(hs.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	t.Cleanup(func() {
		n.srv.Close()
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		n.bus.Close(ctx)
		cancel()
		_ = client.Close()
	})
	return n
}

// client is a WebSocket Socket.IO client at the packet level.
type client struct {
	t    *testing.T
	conn net.Conn
	in   chan string
	id   string
}

// connect opens a socket on n that joins rooms, and waits until it is connected.
func (n *node) connect(t *testing.T, rooms ...string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dial(ctx, n.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &client{t: t, conn: conn, in: make(chan string, 4096)}
	var r io.Reader = conn
	if br != nil {
		r = io.MultiReader(br, conn)
	}
	go func() {
		defer close(c.in)
		rd := bufio.NewReader(r)
		for {
			data, op, err := wsutil.ReadServerData(struct {
				io.Reader
				io.Writer
			}{rd, conn})
			if err != nil {
				return
			}
			s := string(data)
			if op == ws.OpBinary {
				s = "bin:" + s
			} else if s == "2" {
				_ = wsutil.WriteClientText(conn, []byte("3"))
				continue
			}
			c.in <- s
		}
	}()
	c.next() // open packet
	auth, _ := jsonMarshal(map[string]any{"rooms": rooms})
	if err := wsutil.WriteClientText(conn, append([]byte("40"), auth...)); err != nil {
		t.Fatal(err)
	}
	if got := c.next(); !strings.HasPrefix(got, `40{"sid":"`) {
		t.Fatalf("CONNECT answer %q", got)
	}
	c.id = <-n.ids
	return c
}

func (c *client) next() string {
	c.t.Helper()
	select {
	case s, ok := <-c.in:
		if !ok {
			c.t.Fatal("connection closed")
		}
		return s
	case <-time.After(5 * time.Second):
		c.t.Fatal("timed out waiting for a packet")
	}
	return ""
}

// nextWithin returns the next packet, or "" after d.
func (c *client) nextWithin(d time.Duration) string {
	select {
	case s := <-c.in:
		return s
	case <-time.After(d):
		return ""
	}
}

func emit(n *node, rooms, except []string, event, payload string) {
	n.ns.Broadcast(socketio.BroadcastOptions{Rooms: rooms, Except: except}, n.ns.Encode(event, [][]byte{[]byte(payload)}, nil))
}
