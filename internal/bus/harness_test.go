package bus

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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

// client is a socket of the test, with its socket id.
type client struct {
	*testsvc.SIOClient
	id string
}

// connect opens a socket on n that joins rooms, and waits until it is connected.
func (n *node) connect(t *testing.T, rooms ...string) *client {
	t.Helper()
	c := &client{SIOClient: testsvc.DialSIO(t, n.url)}
	auth, _ := jsonMarshal(map[string]any{"rooms": rooms})
	c.Connect(string(auth))
	c.id = <-n.ids
	return c
}

func emit(n *node, rooms, except []string, event, payload string) {
	n.ns.Broadcast(socketio.BroadcastOptions{Rooms: rooms, Except: except}, n.ns.Encode(event, [][]byte{[]byte(payload)}, nil))
}
