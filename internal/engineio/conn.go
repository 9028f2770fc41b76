package engineio

import (
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Handler receives a connection's message packets and its close. OnMessage calls come one
// at a time, in arrival order, whichever transport carried them (a client pauses polling
// before it switches to WebSocket); OnClose may come from another goroutine (a heartbeat
// timeout, a slow-consumer drop), once; a packet being read at that moment may still be
// delivered after it, so the handler ignores messages once closed.
type Handler interface {
	// OnMessage is one message packet's data: the text after the packet type, or the
	// bytes of a binary packet. data is the handler's to keep.
	OnMessage(data []byte, binary bool)
	// OnClose is called once, when the session ends, with Engine.IO's reason
	// ("transport close", "transport error", "ping timeout", "parse error",
	// "forced close", "slow consumer").
	OnClose(reason string)
}

// Request is what the session's first HTTP request said, for handshake authentication.
type Request struct {
	Header     http.Header
	Query      url.Values
	RemoteAddr string
}

const (
	transportPolling = iota
	transportWebSocket
)

type connState int

const (
	stateOpen    connState = iota
	stateClosing           // polling only: waiting for a last GET to deliver the queue and the close packet
	stateClosed
)

// Conn is one Engine.IO session.
type Conn struct {
	srv *Server
	id  string
	req Request

	handler Handler

	mu        sync.Mutex
	state     connState
	transport int
	queue     []*Packet
	queued    int       // bytes in queue
	spare     []*Packet // the previous batch's slice, reused
	enqueued  uint64    // packets ever queued; the writer reports how far it got
	waiters   []flushWaiter

	// WebSocket: the active transport, and the one being probed during an upgrade.
	ws        *wsTransport
	probe     *wsTransport
	upgrading bool

	// Polling: the pending GET, the POST in progress, and what a woken GET appends
	// after the queue (a close or noop packet).
	poll chan struct{}
	// pollHeld: the pending GET came while an upgrade was under way; the probe does not
	// release it (servePoll holds it until the upgrade completes or Options.UpgradeCheck).
	pollHeld   bool
	posting    bool
	pollTail   *Packet
	closeTimer *time.Timer

	// Heartbeat: one timer, either until the next ping or until the pong is overdue.
	timer        *time.Timer
	timerDue     time.Time
	awaitingPong bool
}

func newConn(s *Server, r *http.Request, transport int) *Conn {
	return &Conn{
		srv:       s,
		id:        newSessionID(),
		req:       Request{Header: r.Header, Query: r.URL.Query(), RemoteAddr: r.RemoteAddr},
		transport: transport,
	}
}

// ID is the Engine.IO session id.
func (c *Conn) ID() string { return c.id }

// Request is the handshake request's headers, query and remote address (headers and
// query are empty after ReleaseRequest).
func (c *Conn) Request() Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.req
}

// ReleaseRequest drops the handshake's headers and query, which an idle connection
// would otherwise hold for its whole life; the remote address stays.
func (c *Conn) ReleaseRequest() {
	c.mu.Lock()
	c.req.Header, c.req.Query = nil, nil
	c.mu.Unlock()
}

// Transport names the current transport: "polling" or "websocket".
func (c *Conn) Transport() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.transport == transportWebSocket {
		return "websocket"
	}
	return "polling"
}

// SetHandler sets who receives the connection's packets; call it from OnConnection.
func (c *Conn) SetHandler(h Handler) { c.handler = h }

// open queues the open packet, lets the application attach its handler, and starts the
// heartbeat (before the handshake response, so the timers run from the session's start).
func (c *Conn) open() {
	c.queue = append(c.queue, c.srv.openPacket(c.id, c.transport == transportPolling))
	c.srv.opts.OnConnection(c)
	if c.handler == nil {
		panic("engineio: OnConnection must call SetHandler")
	}
	c.mu.Lock()
	c.timerDue = time.Now().Add(c.srv.opts.PingInterval)
	c.timer = time.AfterFunc(c.srv.opts.PingInterval, c.onTimer)
	c.mu.Unlock()
}

// Send queues a packet; false if the session is closed (or just got closed for not
// reading). It never blocks.
func (c *Conn) Send(p *Packet) bool {
	c.mu.Lock()
	return c.enqueueLocked(p.size(), p)
}

// SendAll queues packets that must stay together (a Socket.IO packet and its binary
// attachments): no other packet comes between them.
func (c *Conn) SendAll(ps []*Packet) bool {
	n := 0
	for _, p := range ps {
		n += p.size()
	}
	c.mu.Lock()
	return c.enqueueLocked(n, ps...)
}

// enqueueLocked appends to the queue and wakes the transport; it unlocks c.mu.
func (c *Conn) enqueueLocked(n int, ps ...*Packet) bool {
	if c.state != stateOpen {
		c.mu.Unlock()
		return false
	}
	if c.queued > 0 && c.queued+n > c.srv.opts.MaxQueueBytes {
		queued := c.queued
		c.mu.Unlock()
		c.slowConsumer(queued)
		return false
	}
	c.queue = append(c.queue, ps...)
	c.queued += n
	c.enqueued += uint64(len(ps))
	start := c.kickLocked()
	if w := c.srv.coalescer; w != nil {
		switch {
		case start == nil:
			if c.ws != nil && c.ws.held {
				w.gathered.Add(1) // this window's write carries one more packet
			}
		case start.raw != nil && w.hold(flushTarget{c, start}):
			start.held = true
			start = nil
		}
	}
	c.mu.Unlock()
	if start != nil {
		c.srv.schedule(flushTarget{c, start})
	}
	return true
}

// flushWaiter is a SendFlushed call waiting for its packet to be written.
type flushWaiter struct {
	seq  uint64
	done chan struct{}
}

// SendFlushed queues a packet and, on WebSocket, waits (at most timeout) until it has been
// written, so that what is sent next goes out in a later write. On polling it returns once
// queued: a poll response carries whatever is queued anyway.
func (c *Conn) SendFlushed(p *Packet, timeout time.Duration) bool {
	c.mu.Lock()
	if c.transport != transportWebSocket || c.state != stateOpen {
		return c.enqueueLocked(p.size(), p)
	}
	w := flushWaiter{seq: c.enqueued + 1, done: make(chan struct{})}
	c.waiters = append(c.waiters, w)
	if !c.enqueueLocked(p.size(), p) {
		return false
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-w.done:
		return true
	case <-t.C:
		return false
	}
}

// releaseFlushWaitersLocked wakes the SendFlushed calls whose packets are written.
func (c *Conn) releaseFlushWaitersLocked(upTo uint64) {
	if len(c.waiters) == 0 {
		return
	}
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.seq <= upTo {
			close(w.done)
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

// kickLocked wakes whoever drains the queue: a pending GET, or the WebSocket writer
// (returned when one must be started).
func (c *Conn) kickLocked() *wsTransport {
	switch c.transport {
	case transportPolling:
		if c.poll != nil {
			select {
			case c.poll <- struct{}{}:
			default:
			}
		}
	case transportWebSocket:
		if t := c.ws; t != nil && !t.writing && len(c.queue) > 0 {
			t.writing = true
			return t
		}
	}
	return nil
}

// takeQueueLocked hands the queued packets to a writer and gives the queue the slice the
// writer used last time (recycleLocked).
func (c *Conn) takeQueueLocked() []*Packet {
	batch := c.queue
	c.queue, c.spare = c.spare, nil
	c.queued = 0
	return batch
}

// recycleLocked keeps a written batch's slice for the next takeQueueLocked.
func (c *Conn) recycleLocked(batch []*Packet) {
	if c.spare == nil {
		clear(batch)
		c.spare = batch[:0]
	}
}

// Close ends the session from the server's side: what is queued is written first, then
// the transport closes. OnClose runs with "forced close".
func (c *Conn) Close() { c.close("forced close", true) }

func (c *Conn) slowConsumer(queued int) {
	if c.close("slow consumer", false) && c.srv.opts.OnSlowConsumer != nil {
		c.srv.opts.OnSlowConsumer(c, queued)
	}
}

// close moves the session out of the open state once; false if it already was.
// flush: deliver what is queued before closing the transport (a server-initiated close);
// otherwise the transport is dropped at once (errors, timeouts).
func (c *Conn) close(reason string, flush bool) bool {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return false
	}
	c.state = stateClosed
	if c.timer != nil {
		c.timer.Stop()
	}
	c.releaseFlushWaitersLocked(^uint64(0))
	probe := c.probe
	c.probe = nil
	var dropWS *wsTransport
	switch c.transport {
	case transportWebSocket:
		if t := c.ws; t != nil {
			if flush {
				// The writer writes the queue, then the close frame, then closes.
				c.queue = append(c.queue, closeFrame(1000))
				t.closeAfterFlush = true
				if !t.writing {
					t.writing = true
					go c.writeLoop(t) // c.mu is held: no scheduling from here
				}
			} else {
				dropWS = t
				c.queue, c.queued = nil, 0
			}
		}
	case transportPolling:
		switch {
		case c.poll != nil:
			// A pending GET takes the queue (when flushing) and the close packet.
			if !flush {
				c.queue, c.queued = nil, 0
			}
			c.pollTail = c.srv.closePkt
			c.wakePollLocked()
		case flush:
			// Keep the session for a last GET, which gets the queue and the close packet.
			c.state = stateClosing
			c.pollTail = c.srv.closePkt
			c.closeTimer = time.AfterFunc(c.srv.opts.PingTimeout, c.finishClosing)
		}
	}
	closing := c.state == stateClosing
	c.mu.Unlock()
	if !closing {
		c.srv.unregister(c)
	}
	if dropWS != nil {
		dropWS.conn.Close()
	}
	if probe != nil {
		probe.conn.Close()
	}
	c.handler.OnClose(reason)
	return true
}

// closeByPeer handles a close packet from the client: a pending GET is released with a
// noop, nothing more is written.
func (c *Conn) closeByPeer() {
	c.mu.Lock()
	if c.state == stateOpen && c.transport == transportPolling && c.poll != nil {
		c.queue, c.queued = nil, 0
		c.pollTail = c.srv.noop
		c.wakePollLocked()
		c.state = stateClosed
		c.timer.Stop()
		c.mu.Unlock()
		c.srv.unregister(c)
		c.handler.OnClose("transport close")
		return
	}
	if c.state == stateOpen && c.transport == transportPolling {
		// No GET pending: one may be on its way (clients send the close packet while
		// polling). Keep the session briefly to release it with a noop.
		c.queue, c.queued = nil, 0
		c.pollTail = c.srv.noop
		c.state = stateClosing
		c.timer.Stop()
		c.closeTimer = time.AfterFunc(time.Second, c.finishClosing)
		c.mu.Unlock()
		c.handler.OnClose("transport close")
		return
	}
	c.mu.Unlock()
	c.close("transport close", false)
}

// wakePollLocked tells a pending GET to respond with what there is now.
func (c *Conn) wakePollLocked() {
	if c.poll == nil {
		return
	}
	select {
	case c.poll <- struct{}{}:
	default: // already woken
	}
}

// finishClosing ends a polling session whose last GET never came.
func (c *Conn) finishClosing() {
	c.mu.Lock()
	if c.state != stateClosing {
		c.mu.Unlock()
		return
	}
	c.state = stateClosed
	c.queue, c.queued = nil, 0
	c.mu.Unlock()
	c.srv.unregister(c)
}

// onPacket handles one decoded packet from the active transport.
func (c *Conn) onPacket(p decodedPacket) {
	switch p.typ {
	case typeMessage:
		c.handler.OnMessage(p.data, p.binary)
	case typePong:
		c.onPong()
	case typeClose:
		c.closeByPeer()
	case typeNoop:
	case typeUpgrade:
		// Only meaningful on a probing transport; harmless elsewhere.
	default:
		// A v4 client never pings (the server does) and never sends open.
		c.close("parse error", false)
	}
}

// onTimer is the heartbeat: send a ping, or close when the pong is overdue.
func (c *Conn) onTimer() {
	c.mu.Lock()
	if c.state != stateOpen || time.Now().Before(c.timerDue) {
		c.mu.Unlock() // closed, or re-armed after this run was scheduled
		return
	}
	if c.awaitingPong {
		c.mu.Unlock()
		c.close("ping timeout", false)
		return
	}
	c.awaitingPong = true
	c.armLocked(c.srv.opts.PingTimeout)
	c.mu.Unlock()
	c.Send(c.srv.ping)
}

func (c *Conn) onPong() {
	c.mu.Lock()
	if c.awaitingPong && c.state == stateOpen {
		c.awaitingPong = false
		c.armLocked(c.srv.opts.PingInterval)
	}
	c.mu.Unlock()
}

func (c *Conn) armLocked(d time.Duration) {
	c.timerDue = time.Now().Add(d)
	c.timer.Reset(d)
}
