package socketio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testsvc"
)

func TestConnectWritesConnectAfterConnected(t *testing.T) {
	joined := make(chan []string, 1)
	_, url := startTestServer(t, Options{}, func(s *Server) {
		s.Namespace("/", Handlers{Connected: func(sock *Socket) {
			sock.Join("r1", "r2")
			sock.Emit("hello", [][]byte{[]byte(`1`)}, nil) // before CONNECT is written
			joined <- sock.Rooms()
		}})
	})
	c := testsvc.DialSIO(t, url)
	c.Connect("")
	if got := c.Next(); got != `42["hello",1]` {
		t.Fatalf("after CONNECT: %q", got)
	}
	if rooms := <-joined; strings.Join(rooms, ",") != "r1,r2" {
		t.Fatalf("rooms %v", rooms)
	}
}

func TestConnectRefusals(t *testing.T) {
	_, url := startTestServer(t, Options{}, func(s *Server) {
		s.Namespace("/", Handlers{Authorize: func(h *Handshake) (any, error) {
			if string(h.Auth) == `{"token":"good"}` {
				return "user-1", nil
			}
			if string(h.Auth) == `{"token":"boom"}` {
				return nil, errors.New("store down")
			}
			return nil, &ConnectError{Message: "UNAUTHORIZED", Data: map[string]string{"code": "UNAUTHORIZED"}}
		}})
	})
	c := testsvc.DialSIO(t, url)
	c.Send("40/random,")
	if got := c.Next(); got != `44/random,{"message":"Invalid namespace"}` {
		t.Fatalf("unknown namespace: %q", got)
	}
	c.Send(`40{"token":"bad"}`)
	if got := c.Next(); got != `44{"message":"UNAUTHORIZED","data":{"code":"UNAUTHORIZED"}}` {
		t.Fatalf("refused: %q", got)
	}
	c.Send(`40{"token":"boom"}`)
	if got := c.Next(); got != `44{"message":"store down"}` {
		t.Fatalf("failed: %q", got)
	}
	// The connection survives refusals; a later CONNECT can succeed.
	c.Connect(`{"token":"good"}`)
}

func TestConnectTimeout(t *testing.T) {
	_, url := startTestServer(t, Options{ConnectTimeout: 200 * time.Millisecond}, func(s *Server) {
		s.Namespace("/", Handlers{})
	})
	c := testsvc.DialSIO(t, url)
	start := time.Now()
	c.Closed()
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("closed after %v", d)
	}
}

// A CONNECT still being authorized when the connect timeout fires is waited for; refused
// after it, the connection is closed a timeout later, not left open with no socket.
func TestConnectTimeoutOutlastsASlowRefusal(t *testing.T) {
	const timeout = 200 * time.Millisecond
	release := make(chan struct{})
	time.AfterFunc(2*timeout, func() { close(release) })
	_, url := startTestServer(t, Options{ConnectTimeout: timeout}, func(s *Server) {
		s.Namespace("/", Handlers{Authorize: func(*Handshake) (any, error) {
			<-release // outlasts the first timeout
			return nil, &ConnectError{Message: "UNAUTHORIZED"}
		}})
	})
	c := testsvc.DialSIO(t, url)
	c.Send("40")
	if got := c.Next(); got != `44{"message":"UNAUTHORIZED"}` {
		t.Fatalf("refused: %q", got)
	}
	c.Closed()
}

func TestEventsRunOneAtATimeInOrderAndAckOnce(t *testing.T) {
	var inFlight, maxInFlight atomic.Int32
	var mu sync.Mutex
	var order []string
	_, url := startTestServer(t, Options{}, func(s *Server) {
		s.Namespace("/", Handlers{Event: func(_ *Socket, e *Event) {
			n := inFlight.Add(1)
			if n > maxInFlight.Load() {
				maxInFlight.Store(n)
			}
			time.Sleep(50 * time.Microsecond) // give a concurrent dispatch a chance to show
			mu.Lock()
			order = append(order, string(e.Arg(0)))
			mu.Unlock()
			inFlight.Add(-1)
			e.Ack([][]byte{e.Arg(0)}, nil)
			if e.Ack([][]byte{[]byte(`"again"`)}, nil) {
				t.Error("a second Ack was sent")
			}
		}})
	})
	c := testsvc.DialSIO(t, url)
	c.Connect("")
	const n = 500
	for i := 0; i < n; i++ {
		c.Send(fmt.Sprintf(`42%d["e",%d]`, i, i))
	}
	for i := 0; i < n; i++ {
		if got, want := c.Next(), fmt.Sprintf(`43%d[%d]`, i, i); got != want {
			t.Fatalf("ack %d: %q, want %q", i, got, want)
		}
	}
	c.Quiet(100 * time.Millisecond) // no second acks
	if maxInFlight.Load() != 1 {
		t.Fatalf("%d events of one connection ran at once", maxInFlight.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	for i, got := range order {
		if got != fmt.Sprint(i) {
			t.Fatalf("event %d handled as %s", i, got)
		}
	}
}

func TestBinaryEventsAndAcks(t *testing.T) {
	_, url := startTestServer(t, Options{}, func(s *Server) {
		s.Namespace("/", Handlers{Event: func(sock *Socket, e *Event) {
			if e.WantsAck() {
				e.Ack(e.Args, e.Attachments)
				return
			}
			sock.Emit("back", e.Args, e.Attachments)
		}})
	})
	c := testsvc.DialSIO(t, url)
	c.Connect("")
	c.Send(`452-["m",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	c.SendBinary([]byte{1, 2})
	c.SendBinary([]byte{3})
	for _, want := range []string{`452-["back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, "bin:\x01\x02", "bin:\x03"} {
		if got := c.Next(); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	c.Send(`451-9["m",{"_placeholder":true,"num":0}]`)
	c.SendBinary([]byte{7})
	for _, want := range []string{`461-9[{"_placeholder":true,"num":0}]`, "bin:\x07"} {
		if got := c.Next(); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	// A text packet where an attachment was due is a protocol error.
	c.Send(`451-["m",{"_placeholder":true,"num":0}]`)
	c.Send(`42["m"]`)
	c.Closed()
}

func TestProtocolErrorsClose(t *testing.T) {
	_, url := startTestServer(t, Options{}, func(s *Server) { s.Namespace("/", Handlers{}) })
	for _, bad := range []string{`42{}`, `4abc`, `42abc["m"]`, `42["disconnect"]`, `44{"message":"x"}`} {
		c := testsvc.DialSIO(t, url)
		c.Connect("")
		c.Send(bad)
		c.Closed()
	}
	// An event for a namespace the connection never joined.
	c := testsvc.DialSIO(t, url)
	c.Connect("")
	c.Send(`42/other,["m"]`)
	c.Closed()
}

func TestBroadcastRoomsAndExcept(t *testing.T) {
	var ns *Namespace
	ids := make(chan string, 3)
	_, url := startTestServer(t, Options{}, func(s *Server) {
		ns = s.Namespace("/", Handlers{Connected: func(sock *Socket) {
			sock.Join("all")
			if strings.Contains(string(sock.Handshake().Auth), "vip") {
				sock.Join("vip")
			}
			ids <- sock.ID()
		}})
	})
	a, b, v := testsvc.DialSIO(t, url), testsvc.DialSIO(t, url), testsvc.DialSIO(t, url)
	aID := a.Connect(`{}`)
	<-ids
	b.Connect(`{}`)
	<-ids
	v.Connect(`{"vip":1}`)
	<-ids
	ns.Broadcast(BroadcastOptions{Rooms: []string{"all"}, Except: []string{aID}}, ns.Encode("x", [][]byte{[]byte(`1`)}, nil))
	ns.Broadcast(BroadcastOptions{Rooms: []string{"all"}, Except: []string{"vip"}}, ns.Encode("y", nil, nil))
	ns.Broadcast(BroadcastOptions{Rooms: []string{"vip", "all"}}, ns.Encode("z", nil, nil)) // once each
	ns.Broadcast(BroadcastOptions{Rooms: []string{aID}}, ns.Encode("mine", nil, nil))       // a socket's own room
	want := map[*testsvc.SIOClient][]string{
		a: {`42["y"]`, `42["z"]`, `42["mine"]`},
		b: {`42["x",1]`, `42["y"]`, `42["z"]`},
		v: {`42["x",1]`, `42["z"]`},
	}
	for c, packets := range want {
		for _, p := range packets {
			if got := c.Next(); got != p {
				t.Fatalf("got %q, want %q", got, p)
			}
		}
		c.Quiet(50 * time.Millisecond)
	}
}

func TestDisconnects(t *testing.T) {
	reasons := make(chan string, 4)
	socks := make(chan *Socket, 4)
	_, url := startTestServer(t, Options{}, func(s *Server) {
		s.Namespace("/", Handlers{
			Connected:    func(sock *Socket) { socks <- sock },
			Disconnected: func(_ *Socket, reason string) { reasons <- reason },
		})
	})
	c := testsvc.DialSIO(t, url)
	c.Connect("")
	<-socks
	c.Send("41")
	if r := <-reasons; r != "client namespace disconnect" {
		t.Fatalf("reason %q", r)
	}
	c.Connect("") // the connection stays; the namespace can be joined again
	sock := <-socks
	sock.Disconnect(true)
	if got := c.Next(); got != "41" {
		t.Fatalf("server disconnect: %q", got)
	}
	c.Closed()
	if r := <-reasons; r != "server namespace disconnect" {
		t.Fatalf("reason %q", r)
	}
	c = testsvc.DialSIO(t, url)
	c.Connect("")
	<-socks
	c.Conn.Close()
	if r := <-reasons; r != "transport close" {
		t.Fatalf("reason %q", r)
	}
}

func TestPanickingHandlerClosesOnlyItsConnection(t *testing.T) {
	panics := make(chan error, 1)
	_, url := startTestServer(t, Options{OnPanic: func(err error) { panics <- err }}, func(s *Server) {
		s.Namespace("/", Handlers{Event: func(_ *Socket, e *Event) {
			if e.Name == "boom" {
				panic("boom")
			}
			e.Ack(nil, nil)
		}})
	})
	bad, good := testsvc.DialSIO(t, url), testsvc.DialSIO(t, url)
	bad.Connect("")
	good.Connect("")
	bad.Send(`42["boom"]`)
	bad.Closed()
	if err := <-panics; !strings.Contains(err.Error(), "boom") {
		t.Fatalf("panic report %v", err)
	}
	good.Send(`421["ok"]`)
	if got := good.Next(); got != `431[]` {
		t.Fatalf("the other connection: %q", got)
	}
}

// Drain: events received before it are handled as usual and Drain waits for them; events
// received after it are late; a CONNECT after it closes the connection; new sessions are
// refused with 503.
func TestDrainFinishesEarlyEventsAndMarksLateOnes(t *testing.T) {
	release := make(chan struct{})
	srv, url := startTestServer(t, Options{}, func(s *Server) {
		s.Namespace("/", Handlers{Event: func(_ *Socket, e *Event) {
			if string(e.Arg(0)) == `"slow"` {
				<-release
			}
			late := "early"
			if e.Late() {
				late = "late"
			}
			e.Ack([][]byte{[]byte(`"` + late + `"`)}, nil)
		}})
	})
	c := testsvc.DialSIO(t, url)
	c.Connect("")
	c.Send(`420["e","slow"]`)
	c.Send(`421["e","queued"]`)
	// Both are queued before the drain (the first is running): wait until the worker holds
	// the first and the second sits in its queue.
	for srv.early.Load() != 2 {
		time.Sleep(time.Millisecond)
	}
	drained := make(chan error, 1)
	go func() { drained <- srv.Drain(context.Background()) }()
	for !srv.draining.Load() {
		time.Sleep(time.Millisecond)
	}
	c.Send(`422["e","after"]`)
	select {
	case err := <-drained:
		t.Fatalf("Drain returned (%v) while an early event was still running", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-drained; err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{`430["early"]`, `431["early"]`, `432["late"]`} {
		if got := c.Next(); got != want {
			t.Fatalf("ack %d: %q, want %q", i, got, want)
		}
	}
	// A CONNECT to another namespace now closes the connection.
	c.Send(`40/other,`)
	c.Closed()
	// New sessions are refused.
	res, err := http.Get(strings.Replace(strings.Replace(url, "ws", "http", 1), "transport=websocket", "transport=polling", 1))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("handshake while draining: %d, want 503", res.StatusCode)
	}
}
