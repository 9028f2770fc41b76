package engineio

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// recorder is a Handler that reports what its connection received, and echoes text
// messages that start with "echo:".
type recorder struct {
	c        *Conn
	messages chan string
	closed   chan string
}

func (r *recorder) OnMessage(data []byte, binary bool) {
	if binary {
		r.messages <- "bin:" + string(data)
		return
	}
	s := string(data)
	if strings.HasPrefix(s, "echo:") {
		b := NewMessageBuffer(len(s))
		r.c.Send(MessagePacket(append(b, s[5:]...)))
	}
	r.messages <- s
}

func (r *recorder) OnClose(reason string) { r.closed <- reason }

type testServer struct {
	t     *testing.T
	srv   *Server
	http  *httptest.Server
	conns chan *recorder
}

func startServer(t *testing.T, opts Options) *testServer {
	t.Helper()
	ts := &testServer{t: t, conns: make(chan *recorder, 64)}
	opts.OnConnection = func(c *Conn) {
		r := &recorder{c: c, messages: make(chan string, 1024), closed: make(chan string, 1)}
		c.SetHandler(r)
		ts.conns <- r
	}
	ts.srv = NewServer(opts)
	ts.http = httptest.NewServer(ts.srv)
	t.Cleanup(func() {
		ts.srv.Close()
		ts.http.Close()
	})
	return ts
}

func (ts *testServer) url(q string) string { return ts.http.URL + "/engine.io/?EIO=4&" + q }

func (ts *testServer) wsURL(q string) string {
	return "ws" + strings.TrimPrefix(ts.http.URL, "http") + "/engine.io/?EIO=4&" + q
}

func (ts *testServer) nextConn() *recorder {
	ts.t.Helper()
	select {
	case r := <-ts.conns:
		return r
	case <-time.After(5 * time.Second):
		ts.t.Fatal("no connection")
		return nil
	}
}

func recv[T any](t *testing.T, ch chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// handshake opens a polling session and returns its sid.
func (ts *testServer) handshake() (sid string, open map[string]any) {
	ts.t.Helper()
	code, body := ts.get(ts.url("transport=polling"))
	if code != 200 || !strings.HasPrefix(body, "0") {
		ts.t.Fatalf("handshake: %d %q", code, body)
	}
	if err := json.Unmarshal([]byte(body[1:]), &open); err != nil {
		ts.t.Fatal(err)
	}
	return open["sid"].(string), open
}

func (ts *testServer) get(url string) (int, string) {
	ts.t.Helper()
	res, err := http.Get(url)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (ts *testServer) post(url, body string) (int, string) {
	ts.t.Helper()
	res, err := http.Post(url, "text/plain;charset=UTF-8", strings.NewReader(body))
	if err != nil {
		ts.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// dialWS opens a WebSocket and returns it with its first text message (the open packet
// for a handshake).
func (ts *testServer) dialWS(q string) net.Conn {
	ts.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dial(ctx, ts.wsURL(q))
	if err != nil {
		ts.t.Fatalf("dial: %v", err)
	}
	ts.t.Cleanup(func() { conn.Close() })
	if br != nil {
		// The server's first frames arrived with the handshake response.
		return bufferedConn{Conn: conn, r: br}
	}
	return conn
}

// bufferedConn reads what the dialer buffered before reading the connection.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// readText reads the next server message (text or binary), failing after 5 s.
func readText(t *testing.T, conn net.Conn) (string, ws.OpCode) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	data, op, err := wsutil.ReadServerData(conn)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(data), op
}

func writeText(t *testing.T, conn net.Conn, s string) {
	t.Helper()
	if err := wsutil.WriteClientText(conn, []byte(s)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// readUntilClosed reads until the server closes, returning the close code (0 if the
// connection ended without a close frame).
func readUntilClosed(t *testing.T, conn net.Conn) ws.StatusCode {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		h, err := ws.ReadHeader(conn)
		if err != nil {
			return 0
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(conn, payload); err != nil {
			return 0
		}
		if h.OpCode == ws.OpClose {
			code, _ := ws.ParseCloseFrameData(payload)
			return code
		}
	}
}
