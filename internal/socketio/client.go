package socketio

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/engineio"
)

// settleTimeout bounds how long a connect waits for the bus to start listening for the
// new socket's rooms before the client is told it is connected.
const settleTimeout = 2 * time.Second

// client is one Engine.IO connection and the Socket.IO sockets multiplexed on it. It
// decodes packets as the engine delivers them and runs everything they cause — connects,
// events, disconnects — through one queue, one item after another, on a worker goroutine
// (workers.go) it holds only while there is work.
type client struct {
	srv  *Server
	conn *engineio.Conn

	// Reassembly of a binary packet (the worker's).
	binary   *packet
	binParts [][]byte
	// late: the message being handled (the worker's) was queued after the drain began.
	late bool

	mu           sync.Mutex
	space        sync.Cond // signalled when the queue drains
	closed       bool
	sockets      []*Socket // connected, by namespace
	work         []work
	working      bool
	connectTimer *time.Timer
}

type workKind int

const (
	workMessage      workKind = iota // a message from the client, to decode
	workDisconnected                 // run a socket's Disconnected callback
)

type work struct {
	kind   workKind
	data   []byte
	binary bool
	late   bool // queued after the server began to drain
	sock   *Socket
	reason string
}

func newClient(s *Server, conn *engineio.Conn) *client {
	c := &client{srv: s, conn: conn}
	c.space.L = &c.mu
	c.connectTimer = time.AfterFunc(s.opts.ConnectTimeout, c.onConnectTimeout)
	return c
}

// onConnectTimeout closes a connection that joined no namespace in time. While the worker
// is busy (a CONNECT being authorized or settled, or what came before it) it looks again
// a timeout later: that CONNECT may still be refused.
func (c *client) onConnectTimeout() {
	c.mu.Lock()
	if len(c.sockets) > 0 || c.closed {
		c.mu.Unlock()
		return
	}
	if c.working {
		if c.connectTimer != nil {
			c.connectTimer.Reset(c.srv.opts.ConnectTimeout)
		}
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.conn.Close()
}

// OnMessage is one Engine.IO message: a packet's text, or one of its attachments. The
// engine's reader only queues it: decoding and everything after run on the worker, so
// the reader of an idle connection keeps the smallest stack.
func (c *client) OnMessage(data []byte, binary bool) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.enqueueLocked(work{kind: workMessage, data: data, binary: binary, late: !c.srv.noteEarly()})
}

// onMessage decodes a message on the worker and acts on the packet once it is whole.
func (c *client) onMessage(data []byte, binary bool) {
	if binary {
		if c.binary == nil {
			c.protocolError()
			return
		}
		c.binParts = append(c.binParts, data)
		if len(c.binParts) == c.binary.attachments {
			p := *c.binary
			p.attach = c.binParts
			c.binary, c.binParts = nil, nil
			c.handle(p)
		}
		return
	}
	if c.binary != nil {
		c.protocolError() // text while attachments were expected
		return
	}
	p, err := decodePacket(data, c.srv.opts.MaxAttachments)
	if err != nil {
		c.protocolError()
		return
	}
	if (p.typ == packetBinaryEvent || p.typ == packetBinaryAck) && p.attachments > 0 {
		c.binary = &p
		return
	}
	c.handle(p)
}

// protocolError closes a connection that sent something Socket.IO does not allow.
func (c *client) protocolError() {
	c.binary, c.binParts = nil, nil
	c.conn.Close()
}

// handle acts on one whole packet.
func (c *client) handle(p packet) {
	c.mu.Lock()
	closed := c.closed
	s := c.socketLocked(p.nsp)
	c.mu.Unlock()
	if closed {
		return
	}
	switch p.typ {
	case packetConnect:
		if s != nil {
			c.protocolError() // a second CONNECT to the same namespace
			return
		}
		c.connect(p)
	case packetDisconnect, packetEvent, packetBinaryEvent, packetAck, packetBinaryAck:
		if s == nil {
			c.protocolError() // a namespace this connection has not joined
			return
		}
		switch p.typ {
		case packetEvent, packetBinaryEvent:
			if h := s.ns.h.Event; h != nil {
				h(s, &Event{Name: p.eventName(), Args: p.args[1:], Attachments: p.attach, sock: s, ackID: p.id, late: c.late})
			}
		case packetDisconnect:
			c.drop(s, "client namespace disconnect")
		}
		// Acks: the server never asks a client for one, so there is nothing to match.
	default: // CONNECT_ERROR never comes from a client
		c.protocolError()
	}
}

// enqueueLocked queues work and starts the worker; it unlocks c.mu. Packets from the
// client wait while the queue is full, which stops this connection's reads until the
// handlers catch up; the server's own items (a Disconnected callback) never wait, since
// they may come from the worker itself.
func (c *client) enqueueLocked(w work) {
	for w.kind != workDisconnected && len(c.work) >= c.srv.opts.MaxQueuedEvents && !c.closed {
		c.space.Wait()
	}
	c.work = append(c.work, w)
	start := !c.working
	c.working = true
	c.mu.Unlock()
	if start {
		c.srv.workers.run(c.runQueue)
	}
}

func (c *client) runQueue() {
	for {
		c.mu.Lock()
		if len(c.work) == 0 {
			c.working = false
			c.mu.Unlock()
			return
		}
		batch := c.work
		c.work = nil
		c.space.Broadcast()
		c.mu.Unlock()
		for i := range batch {
			c.run(&batch[i])
			batch[i] = work{}
		}
	}
}

func (c *client) run(w *work) {
	defer func() {
		if r := recover(); r != nil {
			// A callback panicked: drop the connection, keep the process.
			if h := c.srv.opts.OnPanic; h != nil {
				h(fmt.Errorf("socket.io callback panicked: %v", r))
			}
			c.conn.Close()
		}
	}()
	switch w.kind {
	case workMessage:
		if !w.late {
			defer c.srv.early.Add(-1)
		}
		c.late = w.late
		c.onMessage(w.data, w.binary)
	case workDisconnected:
		if h := w.sock.ns.h.Disconnected; h != nil {
			h(w.sock, w.reason)
		}
	}
}

// connect admits or refuses a socket to a namespace. A CONNECT that arrives while the
// server drains closes the connection instead: the client's manager reconnects (to
// another node), where a CONNECT_ERROR would end its retries.
func (c *client) connect(p packet) {
	if c.late {
		c.conn.Close()
		return
	}
	ns := c.srv.Lookup(p.nsp)
	if ns == nil {
		c.conn.Send(encodeSimple(packetConnectError, p.nsp, []byte(`{"message":"Invalid namespace"}`)))
		return
	}
	req := c.conn.Request()
	auth := p.data
	if auth == nil {
		auth = []byte("{}")
	}
	hs := &Handshake{Header: req.Header, Query: req.Query, RemoteAddr: req.RemoteAddr, Auth: auth, Issued: time.Now()}
	var data any
	if ns.h.Authorize != nil {
		var err error
		if data, err = ns.h.Authorize(hs); err != nil {
			c.conn.Send(encodeSimple(packetConnectError, p.nsp, connectErrorJSON(err)))
			return
		}
	}
	if !c.srv.opts.KeepHandshake {
		// The socket gets the handshake without headers and query from the start: once
		// it is visible (a remote fetchSockets reads it) nothing in it changes.
		hs = &Handshake{RemoteAddr: hs.RemoteAddr, Auth: hs.Auth, Issued: hs.Issued}
		c.conn.ReleaseRequest()
	}
	s := &Socket{id: newID(), ns: ns, cl: c, hs: hs, data: data}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.sockets = append(c.sockets, s)
	if c.connectTimer != nil {
		c.connectTimer.Stop()
		c.connectTimer = nil // an idle connection keeps no timer it will not use
	}
	c.mu.Unlock()
	ns.add(s)
	if ns.h.Connected != nil {
		ns.h.Connected(s)
	}
	if b := c.srv.bus; b != nil {
		ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
		b.Settle(ctx)
		cancel()
	}
	// CONNECT goes out only now: by the time the client can emit, the socket is in its
	// rooms on every node and its handlers are in place.
	s.announce(encodeSimple(packetConnect, p.nsp, []byte(`{"sid":"`+s.id+`"}`)))
}

func connectErrorJSON(err error) []byte {
	ce, ok := err.(*ConnectError)
	if !ok {
		ce = &ConnectError{Message: err.Error()}
	}
	b := appendJSONString([]byte(`{"message":`), ce.Message)
	if ce.Data != nil {
		if d, err := jsonMarshal(ce.Data); err == nil {
			b = append(b, `,"data":`...)
			b = append(b, d...)
		}
	}
	return append(b, '}')
}

// drop ends a socket: out of its namespace and rooms at once, Disconnected in turn.
func (c *client) drop(s *Socket, reason string) {
	c.mu.Lock()
	if s.gone {
		c.mu.Unlock()
		return
	}
	s.gone = true
	c.sockets = removeSocket(c.sockets, s)
	c.mu.Unlock()
	s.ns.remove(s)
	c.mu.Lock()
	c.enqueueLocked(work{kind: workDisconnected, sock: s, reason: reason})
}

// disconnect is a server-side Socket.Disconnect.
func (c *client) disconnect(s *Socket, closeConn bool) {
	targets := []*Socket{s}
	if closeConn {
		c.mu.Lock()
		targets = append([]*Socket(nil), c.sockets...)
		c.mu.Unlock()
	}
	for _, t := range targets {
		c.conn.Send(encodeSimple(packetDisconnect, t.ns.name, nil))
		c.drop(t, "server namespace disconnect")
	}
	if closeConn {
		c.conn.Close()
	}
}

// OnClose is the end of the Engine.IO session: every socket on it is gone.
func (c *client) OnClose(reason string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	if c.connectTimer != nil {
		c.connectTimer.Stop()
	}
	c.space.Broadcast()
	socks := append([]*Socket(nil), c.sockets...)
	c.mu.Unlock()
	for _, s := range socks {
		c.drop(s, reason)
	}
}

func (c *client) socketLocked(nsp string) *Socket {
	for _, s := range c.sockets {
		if s.ns.name == nsp {
			return s
		}
	}
	return nil
}

func removeSocket(list []*Socket, s *Socket) []*Socket {
	for i, x := range list {
		if x == s {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}
