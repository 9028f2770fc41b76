package engineio

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPollingHandshakeAndRefusals(t *testing.T) {
	ts := startServer(t, Options{PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond})
	_, open := ts.handshake()
	if open["pingInterval"] != 300.0 || open["pingTimeout"] != 200.0 || open["maxPayload"] != 1e6 {
		t.Fatalf("open packet %v", open)
	}
	if up, _ := open["upgrades"].([]any); len(up) != 1 || up[0] != "websocket" {
		t.Fatalf("upgrades %v", open["upgrades"])
	}
	for _, u := range []string{
		ts.http.URL + "/engine.io/?transport=polling",
		ts.http.URL + "/engine.io/?EIO=3&transport=polling",
		ts.url("transport=abc"),
		ts.url(""),
		ts.url("transport=polling&sid=nope"),
		ts.url("transport=websocket"), // not an upgrade request
	} {
		if code, body := ts.get(u); code != 400 || !strings.Contains(body, `"code":`) {
			t.Errorf("%s: %d %q", u, code, body)
		}
	}
	if code, _ := ts.post(ts.url("transport=polling"), "4x"); code != 400 {
		t.Errorf("POST handshake: %d", code)
	}
}

func TestPollingMessagesBothWays(t *testing.T) {
	ts := startServer(t, Options{})
	sid, _ := ts.handshake()
	r := ts.nextConn()
	if code, body := ts.post(ts.url("transport=polling&sid="+sid), "4echo:one\x1e4echo:two\x1ebAQIDBA=="); code != 200 || body != "ok" {
		t.Fatalf("POST: %d %q", code, body)
	}
	for _, want := range []string{"echo:one", "echo:two", "bin:\x01\x02\x03\x04"} {
		if got := recv(t, r.messages, want); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	r.c.Send(BinaryPacket([]byte{9, 8}))
	code, body := ts.get(ts.url("transport=polling&sid=" + sid))
	if code != 200 || body != "4one\x1e4two\x1ebCQg=" {
		t.Fatalf("GET: %d %q", code, body)
	}
}

func TestPollingGetWaitsForData(t *testing.T) {
	ts := startServer(t, Options{})
	sid, _ := ts.handshake()
	r := ts.nextConn()
	go func() {
		time.Sleep(50 * time.Millisecond)
		b := NewMessageBuffer(5)
		r.c.Send(MessagePacket(append(b, "later"...)))
	}()
	start := time.Now()
	code, body := ts.get(ts.url("transport=polling&sid=" + sid))
	if code != 200 || body != "4later" {
		t.Fatalf("GET: %d %q", code, body)
	}
	if time.Since(start) < 40*time.Millisecond {
		t.Fatal("the GET did not wait for data")
	}
}

func TestPollingHeartbeatAndTimeout(t *testing.T) {
	ts := startServer(t, Options{PingInterval: 100 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
	sid, _ := ts.handshake()
	r := ts.nextConn()
	for i := 0; i < 3; i++ {
		if code, body := ts.get(ts.url("transport=polling&sid=" + sid)); code != 200 || body != "2" {
			t.Fatalf("round %d: %d %q", i, code, body)
		}
		if code, _ := ts.post(ts.url("transport=polling&sid="+sid), "3"); code != 200 {
			t.Fatalf("pong: %d", code)
		}
	}
	// No pong now: the session ends with "ping timeout".
	if code, body := ts.get(ts.url("transport=polling&sid=" + sid)); body != "2" {
		t.Fatalf("ping: %d %q", code, body)
	}
	if reason := recv(t, r.closed, "close"); reason != "ping timeout" {
		t.Fatalf("close reason %q", reason)
	}
	if code, _ := ts.get(ts.url("transport=polling&sid=" + sid)); code != 400 {
		t.Fatalf("after timeout: %d", code)
	}
}

func TestPollingCloseSemantics(t *testing.T) {
	ts := startServer(t, Options{})
	t.Run("client close releases the pending GET with a noop", func(t *testing.T) {
		sid, _ := ts.handshake()
		r := ts.nextConn()
		got := make(chan string, 1)
		go func() { _, body := ts.get(ts.url("transport=polling&sid=" + sid)); got <- body }()
		waitPending(t, ts, sid)
		ts.post(ts.url("transport=polling&sid="+sid), "1")
		if body := recv(t, got, "GET"); body != "6" {
			t.Fatalf("pending GET got %q", body)
		}
		if reason := recv(t, r.closed, "close"); reason != "transport close" {
			t.Fatalf("reason %q", reason)
		}
		if code, _ := ts.get(ts.url("transport=polling&sid=" + sid)); code != 400 {
			t.Fatalf("after close: %d", code)
		}
	})
	t.Run("two GETs at once close the session", func(t *testing.T) {
		sid, _ := ts.handshake()
		r := ts.nextConn()
		got := make(chan string, 1)
		go func() { _, body := ts.get(ts.url("transport=polling&sid=" + sid)); got <- body }()
		waitPending(t, ts, sid)
		if code, _ := ts.get(ts.url("transport=polling&sid=" + sid)); code != 400 {
			t.Fatalf("second GET: %d", code)
		}
		if body := recv(t, got, "GET"); body != "1" {
			t.Fatalf("first GET got %q", body)
		}
		if reason := recv(t, r.closed, "close"); reason != "transport error" {
			t.Fatalf("reason %q", reason)
		}
	})
	t.Run("an invalid packet closes the session", func(t *testing.T) {
		sid, _ := ts.handshake()
		r := ts.nextConn()
		if code, _ := ts.post(ts.url("transport=polling&sid="+sid), "abc"); code != 400 {
			t.Fatalf("POST: %d", code)
		}
		if reason := recv(t, r.closed, "close"); reason != "parse error" {
			t.Fatalf("reason %q", reason)
		}
	})
	t.Run("a server close delivers the queue, then the close packet", func(t *testing.T) {
		sid, _ := ts.handshake()
		r := ts.nextConn()
		b := NewMessageBuffer(4)
		r.c.Send(MessagePacket(append(b, "last"...)))
		r.c.Close()
		if reason := recv(t, r.closed, "close"); reason != "forced close" {
			t.Fatalf("reason %q", reason)
		}
		if code, body := ts.get(ts.url("transport=polling&sid=" + sid)); code != 200 || body != "4last\x1e1" {
			t.Fatalf("last GET: %d %q", code, body)
		}
		if code, _ := ts.get(ts.url("transport=polling&sid=" + sid)); code != 400 {
			t.Fatalf("after: %d", code)
		}
	})
	t.Run("a body over maxPayload is refused and closes the session", func(t *testing.T) {
		small := startServer(t, Options{MaxPayload: 100})
		sid, _ := small.handshake()
		r := small.nextConn()
		if code, _ := small.post(small.url("transport=polling&sid="+sid), "4"+strings.Repeat("x", 200)); code != http.StatusRequestEntityTooLarge {
			t.Fatalf("POST: %d", code)
		}
		recv(t, r.closed, "close")
	})
}

func TestPollingOriginAllowlist(t *testing.T) {
	ts := startServer(t, Options{AllowOrigin: func(o string) bool { return o == "https://app.example" }})
	req, _ := http.NewRequest(http.MethodGet, ts.url("transport=polling"), nil)
	req.Header.Set("Origin", "https://evil.example")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 403 {
		t.Fatalf("foreign origin: %d", res.StatusCode)
	}
	req.Header.Set("Origin", "https://app.example")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Fatalf("allowed origin: %d %v", res.StatusCode, res.Header)
	}
}

func TestPollingConcurrentSendersKeepEverything(t *testing.T) {
	ts := startServer(t, Options{})
	sid, _ := ts.handshake()
	r := ts.nextConn()
	const senders, each = 8, 500
	var wg sync.WaitGroup
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				b := NewMessageBuffer(1)
				r.c.Send(MessagePacket(append(b, 'x')))
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	got := 0
	for got < senders*each {
		code, body := ts.get(ts.url("transport=polling&sid=" + sid))
		if code != 200 {
			t.Fatalf("GET: %d", code)
		}
		for _, p := range strings.Split(body, "\x1e") {
			if p == "4x" {
				got++
			} else if p == "2" {
				ts.post(ts.url("transport=polling&sid="+sid), "3")
			}
		}
	}
	<-done
	if got != senders*each {
		t.Fatalf("got %d of %d", got, senders*each)
	}
}

// waitPending waits until the session has a GET waiting.
func waitPending(t *testing.T, ts *testServer, sid string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c := ts.srv.lookup(sid)
		if c != nil {
			c.mu.Lock()
			pending := c.poll != nil
			c.mu.Unlock()
			if pending {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("the GET never became pending")
}
