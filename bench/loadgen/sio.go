package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// A minimal Socket.IO v4 client (Engine.IO v4, WebSocket only, main namespace, no
// reconnection), the part of socket.io-client the benchmarks use: connect with an auth
// object, emit events with or without an ack, receive events. One goroutine per
// connection reads; writes take the connection's write mutex.

var (
	errAckTimeout   = errors.New("operation has timed out")
	errDisconnected = errors.New("socket has been disconnected")
)

// AckFunc receives an ack's first argument as raw JSON (nil if the ack had none), or an
// error (timeout, disconnection). It runs on the reader goroutine (or the ack sweeper);
// res is valid only during the call.
type AckFunc func(res []byte, err error)

// Options of Dial. The callbacks run on the connection's reader goroutine, one at a
// time; name and rest are valid only during the call.
type Options struct {
	Auth         []byte        // JSON object sent with CONNECT; nil for none
	Timeout      time.Duration // bounds dial + handshake + namespace connect
	OnEvent      func(name, rest []byte)
	OnDisconnect func(reason string) // not called after Close
}

type Client struct {
	ws   *wsConn
	opts Options
	sid  string

	// pingWait is how long without a server ping the connection is considered dead
	// (pingInterval + pingTimeout, as socket.io-client does).
	pingWait time.Duration

	amu     sync.Mutex
	nextAck uint64
	acks    map[uint64]pendingAck

	connected atomic.Bool
	closing   atomic.Bool
}

type pendingAck struct {
	deadline time.Time
	cb       AckFunc
}

// socketURL turns the server's http(s) base URL into its Engine.IO WebSocket URL.
func socketURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("unsupported URL scheme %q", u.Scheme)
	}
	u.Path = "/socket.io/"
	u.RawQuery = "EIO=4&transport=websocket"
	return u.String(), nil
}

// Dial connects and completes the Socket.IO handshake; the reader runs once it returns.
func Dial(wsURL string, o Options) (*Client, error) {
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Second
	}
	// One deadline for everything up to the namespace's CONNECT, as socket.io-client's
	// `timeout` option.
	deadline := time.Now().Add(o.Timeout)
	d := ws.Dialer{Timeout: o.Timeout, ReadBufferSize: readBufferSize}
	nc, br, _, err := d.Dial(context.Background(), wsURL)
	if err != nil {
		return nil, fmt.Errorf("websocket error: %w", err)
	}
	c := &Client{ws: newWSConn(nc, br), opts: o, acks: make(map[uint64]pendingAck)}
	_ = nc.SetDeadline(deadline)
	if err := c.handshake(); err != nil {
		nc.Close()
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	c.extendPingDeadline()
	c.connected.Store(true)
	go c.readLoop()
	return c, nil
}

// handshake reads the Engine.IO open packet, sends CONNECT with the auth object and
// waits for the server's CONNECT (or CONNECT_ERROR).
func (c *Client) handshake() error {
	_, p, err := c.ws.readMessage()
	if err != nil {
		return fmt.Errorf("websocket error: %w", err)
	}
	if len(p) == 0 || p[0] != eioOpen {
		return fmt.Errorf("expected an Engine.IO open packet, got %q", truncate(p))
	}
	var open struct {
		SID          string `json:"sid"`
		PingInterval int64  `json:"pingInterval"`
		PingTimeout  int64  `json:"pingTimeout"`
	}
	if err := json.Unmarshal(p[1:], &open); err != nil {
		return fmt.Errorf("bad Engine.IO open packet: %w", err)
	}
	c.pingWait = time.Duration(open.PingInterval+open.PingTimeout) * time.Millisecond
	connect := append([]byte{eioMessage, sioConnect}, c.opts.Auth...)
	if err := c.ws.writeText(connect); err != nil {
		return fmt.Errorf("websocket error: %w", err)
	}
	for {
		_, p, err := c.ws.readMessage()
		if err != nil {
			return fmt.Errorf("websocket error: %w", err)
		}
		switch {
		case len(p) == 0:
		case p[0] == eioPing:
			if err := c.ws.writeText([]byte{'3'}); err != nil {
				return err
			}
		case p[0] == eioMessage:
			pk, ok := parseSIO(p[1:])
			if !ok || !pk.mainN {
				continue
			}
			switch pk.typ {
			case sioConnect:
				var r struct {
					SID string `json:"sid"`
				}
				if json.Unmarshal(pk.data, &r) != nil || r.SID == "" {
					return fmt.Errorf("bad CONNECT packet %q", truncate(p))
				}
				c.sid = r.SID
				return nil
			case sioConnectError:
				var e struct {
					Message string `json:"message"`
				}
				_ = json.Unmarshal(pk.data, &e)
				return fmt.Errorf("connect_error: %s", e.Message)
			}
		case p[0] == eioClose:
			return errors.New("connect_error: the server closed the session")
		}
	}
}

func (c *Client) extendPingDeadline() {
	if c.pingWait > 0 {
		_ = c.ws.nc.SetReadDeadline(time.Now().Add(c.pingWait))
	}
}

func (c *Client) readLoop() {
	reason := "transport close"
	for {
		op, p, err := c.ws.readMessage()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				reason = "ping timeout"
			} else if errors.Is(err, errProtocol) || errors.Is(err, errTooLarge) {
				reason = "transport error: " + err.Error()
			}
			break
		}
		if op != ws.OpText || len(p) == 0 {
			continue // binary attachments: not used by these scenarios
		}
		if r, stop := c.onMessage(p); stop {
			reason = r
			break
		}
	}
	c.shutdown(reason)
}

// onMessage handles one Engine.IO packet; stop ends the connection.
func (c *Client) onMessage(p []byte) (reason string, stop bool) {
	switch p[0] {
	case eioPing:
		c.extendPingDeadline()
		if c.ws.writeText([]byte{'3'}) != nil {
			return "transport error", true
		}
	case eioClose:
		return "transport close", true
	case eioMessage:
		pk, ok := parseSIO(p[1:])
		if !ok || !pk.mainN {
			return "", false
		}
		switch pk.typ {
		case sioEvent:
			// An event asking for an ack (pk.ackID >= 0) is not answered: none of the
			// benchmark servers asks for one.
			if name, rest, ok := parseEvent(pk.data); ok && c.opts.OnEvent != nil {
				c.opts.OnEvent(name, rest)
			}
		case sioAck:
			if pk.ackID >= 0 {
				c.resolve(uint64(pk.ackID), firstElem(pk.data))
			}
		case sioDisconnect:
			return "io server disconnect", true
		}
	}
	return "", false
}

// Emit sends event with payload (a JSON value, nil for no argument). With cb, the server
// is asked for an ack, delivered to cb, or errAckTimeout after timeout; timeouts fire only
// while ExpireAcks is called (see sweepAcks). Like socket.io-client, an emit on a dead
// connection is not an error: its ack times out.
func (c *Client) Emit(event string, payload []byte, timeout time.Duration, cb AckFunc) {
	p := make([]byte, 0, 24+len(event)+len(payload))
	p = append(p, eioMessage, sioEvent)
	if cb != nil {
		c.amu.Lock()
		c.nextAck++
		id := c.nextAck
		c.acks[id] = pendingAck{deadline: time.Now().Add(timeout), cb: cb}
		c.amu.Unlock()
		p = strconv.AppendUint(p, id, 10)
	}
	p = append(p, '[')
	p = appendJSONString(p, event)
	if payload != nil {
		p = append(p, ',')
		p = append(p, payload...)
	}
	p = append(p, ']')
	_ = c.ws.writeText(p) // a failed write shows as a disconnect on the reader
}

// Call emits and waits for the ack; the result is a copy.
func (c *Client) Call(event string, payload []byte, timeout time.Duration) ([]byte, error) {
	type result struct {
		res []byte
		err error
	}
	ch := make(chan result, 1)
	c.Emit(event, payload, timeout, func(res []byte, err error) {
		ch <- result{append([]byte(nil), res...), err}
	})
	r := <-ch
	if r.err != nil {
		return nil, fmt.Errorf("%s: %w", event, r.err)
	}
	return r.res, nil
}

func (c *Client) resolve(id uint64, res []byte) {
	c.amu.Lock()
	a, ok := c.acks[id]
	delete(c.acks, id)
	c.amu.Unlock()
	if ok {
		a.cb(res, nil)
	}
}

// ExpireAcks fails the acks whose deadline is before now.
func (c *Client) ExpireAcks(now time.Time) {
	var due []AckFunc
	c.amu.Lock()
	for id, a := range c.acks {
		if a.deadline.Before(now) {
			due = append(due, a.cb)
			delete(c.acks, id)
		}
	}
	c.amu.Unlock()
	for _, cb := range due {
		cb(nil, errAckTimeout)
	}
}

// sweepAcks calls ExpireAcks on clients every interval until stop is called. One sweeper
// for all connections costs less than a timer per emit.
func sweepAcks(clients []*Client, every time.Duration) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				for _, c := range clients {
					c.ExpireAcks(now)
				}
			}
		}
	}()
	return func() { close(done) }
}

// shutdown runs once, when the reader ends: pending acks fail (as socket.io-client fails
// acks that have a timeout on disconnection) and OnDisconnect is told unless we closed.
func (c *Client) shutdown(reason string) {
	c.connected.Store(false)
	c.ws.nc.Close()
	c.amu.Lock()
	acks := c.acks
	c.acks = make(map[uint64]pendingAck)
	c.amu.Unlock()
	for _, a := range acks {
		a.cb(nil, errDisconnected)
	}
	if !c.closing.Load() && c.opts.OnDisconnect != nil {
		c.opts.OnDisconnect(reason)
	}
}

// Connected reports whether the connection is up (handshake done, reader running).
func (c *Client) Connected() bool { return c.connected.Load() }

// Close sends DISCONNECT and closes the connection, as socket.io-client's close().
func (c *Client) Close() {
	if c.closing.Swap(true) {
		return
	}
	_ = c.ws.writeText([]byte{eioMessage, sioDisconnect})
	c.ws.nc.Close()
}

func truncate(p []byte) string {
	if len(p) > 80 {
		return string(p[:80]) + "..."
	}
	return string(p)
}
