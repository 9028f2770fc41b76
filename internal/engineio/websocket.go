package engineio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// readBufferSize is the read buffer of an idle WebSocket: small messages arrive in one
// read; larger payloads are read straight into their own buffer.
const readBufferSize = 512

// wsTransport is one WebSocket connection. Only its writer goroutine writes to conn once
// it is the session's transport; before that (while probing) only its reader does.
type wsTransport struct {
	conn net.Conn
	br   *bufio.Reader
	hdr  [ws.MaxHeaderSize]byte

	raw *rawWriter // non-blocking writes for broadcasts; nil where unavailable
	// Guarded by the session's mu.
	writing         bool // a writer (goroutine or broadcast flusher) owns the queue
	closeAfterFlush bool // close the connection once the queue (ending in a close frame) is written
	held            bool // waiting in the write coalescer's window (the writer is not started yet)
	bufs            [][]byte
	pending         [][]byte // what a non-blocking write left, written before the queue
}

var upgrader = ws.HTTPUpgrader{}

// upgradeHTTP switches the request to WebSocket. The HTTP server's buffers are dropped
// unless the client already sent frames into them.
func upgradeHTTP(w http.ResponseWriter, r *http.Request) (*wsTransport, error) {
	conn, rw, _, err := upgrader.Upgrade(r, w)
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		return nil, err
	}
	br := rw.Reader
	if br.Buffered() == 0 {
		br = bufio.NewReaderSize(conn, readBufferSize)
	}
	return &wsTransport{conn: conn, br: br, raw: newRawWriter(conn)}, nil
}

func (s *Server) handshakeWebSocket(w http.ResponseWriter, r *http.Request) {
	c := newConn(s, r, transportWebSocket)
	t, err := upgradeHTTP(w, r)
	if err != nil {
		return
	}
	c.ws = t
	if !s.register(c) {
		t.conn.Close()
		return
	}
	c.open()
	c.mu.Lock()
	start := c.kickLocked()
	c.mu.Unlock()
	if start != nil {
		s.schedule(flushTarget{c, start})
	}
	// A fresh goroutine with a small stack reads; the HTTP server's goroutine ends here.
	go c.readLoop(t)
}

// serveUpgrade starts a polling session's upgrade: the WebSocket is probed, then becomes
// the transport when the client sends the upgrade packet.
func (c *Conn) serveUpgrade(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.transport != transportPolling || c.upgrading || c.state != stateOpen {
		c.mu.Unlock()
		// Like Node: complete the WebSocket handshake, then close it, so the client sees
		// a close (not an HTTP error) and the session carries on undisturbed.
		if t, err := upgradeHTTP(w, r); err == nil {
			_, _ = t.conn.Write(closeFrame(1000).frame())
			t.conn.Close()
		}
		return
	}
	c.upgrading = true
	c.mu.Unlock()
	t, err := upgradeHTTP(w, r)
	c.mu.Lock()
	if err != nil || c.state != stateOpen {
		c.upgrading = false
		c.mu.Unlock()
		if t != nil {
			t.conn.Close()
		}
		return
	}
	c.probe = t
	c.mu.Unlock()
	timer := time.AfterFunc(c.srv.opts.UpgradeTimeout, func() { c.abortUpgrade(t) })
	go func() {
		c.readLoop(t)
		timer.Stop()
	}()
}

// abortUpgrade drops a probe that did not complete; the session stays on polling.
func (c *Conn) abortUpgrade(t *wsTransport) {
	c.mu.Lock()
	if c.probe != t {
		c.mu.Unlock()
		return
	}
	c.probe = nil
	c.upgrading = false
	c.mu.Unlock()
	t.conn.Close()
}

// onProbePacket handles a packet on a WebSocket that is not the transport yet.
func (c *Conn) onProbePacket(t *wsTransport, p decodedPacket) bool {
	switch {
	case p.typ == typePing && string(p.data) == "probe":
		if _, err := t.conn.Write(c.srv.pongProbe.frame()); err != nil {
			c.abortUpgrade(t)
			return false
		}
		c.mu.Lock()
		if !c.pollHeld {
			if c.poll != nil && len(c.queue) == 0 {
				c.pollTail = c.srv.noop // release the pending GET
			}
			c.wakePollLocked()
		}
		c.mu.Unlock()
		return true
	case p.typ == typeUpgrade:
		c.mu.Lock()
		if c.probe != t || c.state != stateOpen {
			c.mu.Unlock()
			c.abortUpgrade(t)
			return false
		}
		c.probe = nil
		c.upgrading = false
		c.transport = transportWebSocket
		c.ws = t
		if c.poll != nil {
			c.pollTail = c.srv.noop
			c.wakePollLocked()
		}
		start := c.kickLocked()
		c.mu.Unlock()
		if start != nil {
			c.srv.schedule(flushTarget{c, start})
		}
		return true
	default:
		c.abortUpgrade(t)
		return false
	}
}

var (
	errTooBig     = errors.New("message too big")
	errProtocol   = errors.New("websocket protocol error")
	errInvalidUTF = errors.New("invalid UTF-8 in a text message")
)

// readLoop reads frames until the connection ends. While t is a probe, packets go to the
// upgrade; once it is the transport, to the session.
func (c *Conn) readLoop(t *wsTransport) {
	var msg []byte // a fragmented message being assembled
	var msgOp ws.OpCode
	for {
		h, err := ws.ReadHeaderBuffer(t.br, t.hdr[:])
		if err != nil {
			c.transportEnded(t, err)
			return
		}
		if err := checkFrame(h, msg != nil); err != nil {
			c.failWS(t, err)
			return
		}
		if h.OpCode.IsControl() {
			var buf [125]byte
			payload := buf[:h.Length]
			if _, err := io.ReadFull(t.br, payload); err != nil {
				c.transportEnded(t, err)
				return
			}
			ws.Cipher(payload, h.Mask, 0)
			switch h.OpCode {
			case ws.OpPing:
				c.writeControl(t, pongFrame(payload))
			case ws.OpClose:
				c.writeControl(t, closeFrame(1000))
				c.transportEnded(t, io.EOF)
				return
			}
			continue
		}
		total := int64(len(msg)) + h.Length
		if total > int64(c.srv.opts.MaxPayload) {
			c.failWS(t, errTooBig)
			return
		}
		start := len(msg)
		if msg == nil {
			msg = make([]byte, h.Length)
			msgOp = h.OpCode
		} else {
			msg = append(msg, make([]byte, h.Length)...)
		}
		payload := msg[start:]
		if _, err := io.ReadFull(t.br, payload); err != nil {
			c.transportEnded(t, err)
			return
		}
		ws.Cipher(payload, h.Mask, 0)
		if !h.Fin {
			continue
		}
		data := msg
		msg = nil
		var p decodedPacket
		if msgOp == ws.OpBinary {
			p = decodedPacket{typ: typeMessage, data: data, binary: true}
		} else {
			if !utf8.Valid(data) {
				c.failWS(t, errInvalidUTF)
				return
			}
			if p, err = decodeText(data); err != nil {
				c.failWS(t, err)
				return
			}
		}
		c.mu.Lock()
		probing := c.probe == t
		active := c.ws == t
		open := c.state == stateOpen
		c.mu.Unlock()
		switch {
		case probing:
			if !c.onProbePacket(t, p) {
				return
			}
		case active && open:
			c.onPacket(p)
		case active:
			// Closing: the writer is flushing; what the client sends now is not taken.
		default:
			t.conn.Close()
			return
		}
	}
}

// checkFrame applies RFC 6455 to a client frame header: masked, no extensions, control
// frames short and unfragmented, continuation frames only inside a fragmented message.
func checkFrame(h ws.Header, fragmented bool) error {
	if !h.Masked || h.Rsv != 0 {
		return errProtocol
	}
	switch {
	case h.OpCode.IsControl():
		if !h.Fin || h.Length > 125 || h.OpCode.IsReserved() {
			return errProtocol
		}
	case h.OpCode == ws.OpContinuation:
		if !fragmented {
			return errProtocol
		}
	case h.OpCode == ws.OpText || h.OpCode == ws.OpBinary:
		if fragmented {
			return errProtocol
		}
	default:
		return errProtocol
	}
	return nil
}

// writeControl writes a control frame answering the client: through the writer once t is
// the transport, directly while it is a probe (only its reader writes then).
func (c *Conn) writeControl(t *wsTransport, p *Packet) {
	c.mu.Lock()
	if c.ws == t {
		if c.state == stateOpen || t.writing || len(c.queue) > 0 {
			c.queue = append(c.queue, p)
			if !t.writing {
				t.writing = true
				c.mu.Unlock()
				c.srv.schedule(flushTarget{c, t})
				return
			}
		}
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	_, _ = t.conn.Write(p.frame())
}

// lingerTimeout bounds how long a connection the server closed keeps reading what the
// client still sends before the socket is closed.
const lingerTimeout = 2 * time.Second

// finish ends a connection the server closed once its queue (ending in the close frame)
// is written: the write side is shut, so the client reads everything up to that frame and
// then the end, and the reader drains what the client still sends until the client
// closes too or lingerTimeout passes. Closing with unread input (a client flooding when it
// was disconnected) would make the kernel answer with a reset, and a reset can make the
// client lose what it had not read yet: the acks and the reason it was disconnected.
func (t *wsTransport) finish() {
	if cw, ok := t.conn.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		if t.conn.SetReadDeadline(time.Now().Add(lingerTimeout)) == nil {
			return // the reader closes the connection when it ends
		}
	}
	t.conn.Close()
}

// transportEnded is the reader's end: the peer closed or the connection broke.
func (c *Conn) transportEnded(t *wsTransport, err error) {
	c.mu.Lock()
	probe := c.probe == t
	active := c.ws == t
	c.mu.Unlock()
	switch {
	case probe:
		c.abortUpgrade(t)
	case active:
		reason := "transport close"
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
			reason = "transport error"
		}
		if !c.close(reason, false) {
			// The session was already closed (by the server, which may be lingering on
			// this connection in finish): the reader's end is the connection's.
			t.conn.Close()
		}
	default:
		t.conn.Close()
	}
}

// failWS closes a connection that broke the protocol, with the WebSocket status that
// says why (1009 too big, 1007 bad UTF-8, 1002 otherwise; Engine.IO parse errors 1002).
// When the connection's writer is writing at that moment, the close frame is not sent (it
// must not interleave with the writer's frames) and the client sees the connection end
// without one.
func (c *Conn) failWS(t *wsTransport, err error) {
	code := uint16(1002)
	switch {
	case errors.Is(err, errTooBig):
		code = 1009
	case errors.Is(err, errInvalidUTF):
		code = 1007
	}
	_ = t.conn.SetWriteDeadline(time.Now().Add(time.Second))
	c.mu.Lock()
	active := c.ws == t
	// A held connection has no writer yet (only a place in the write window): the close
	// frame goes now, and close below empties the queue the window would have written.
	writing := t.writing && !t.held
	c.mu.Unlock()
	if !active || !writing {
		_, _ = t.conn.Write(closeFrame(code).frame())
	}
	reason := "parse error"
	if errors.Is(err, errTooBig) {
		reason = "transport error"
	}
	if active {
		c.close(reason, false)
	} else {
		c.transportEnded(t, err)
	}
	t.conn.Close()
}

// writeLoop is the connection's writer goroutine: it writes what is queued, waiting for
// the socket as long as it takes, until the queue is empty.
func (c *Conn) writeLoop(t *wsTransport) {
	for c.writeBatch(t, true) == wroteAll {
	}
}

type writeResult int

const (
	queueEmpty writeResult = iota // nothing left: the writer's job is over
	wroteAll                      // wrote everything it took; more may have been queued
	socketFull                    // the socket took part of it: the rest waits in t.pending
	writeFailed
)

// writeBatch takes everything queued and writes it with one vectored write. blocking
// waits for the socket; otherwise only what the socket takes at once is written and the
// rest is kept, in order, for the connection's own writer goroutine.
func (c *Conn) writeBatch(t *wsTransport, blocking bool) writeResult {
	c.mu.Lock()
	if c.ws != t || (len(c.queue) == 0 && len(t.pending) == 0) {
		t.writing = false
		closeNow := t.closeAfterFlush && len(c.queue) == 0
		c.mu.Unlock()
		if closeNow {
			t.finish()
		}
		return queueEmpty
	}
	batch := c.takeQueueLocked()
	upTo := c.enqueued
	bufs := append(t.bufs[:0], t.pending...)
	t.bufs, t.pending = nil, nil
	c.mu.Unlock()

	for _, p := range batch {
		bufs = append(bufs, p.frame())
	}
	var rest [][]byte
	var err error
	var n int
	if blocking || t.raw == nil {
		nb := net.Buffers(bufs)
		var n64 int64
		n64, err = nb.WriteTo(t.conn)
		n = int(n64)
	} else {
		n, err = t.raw.writeAvailable(bufs)
		rest = remainder(bufs, n)
	}
	c.srv.wsWrites.Add(1)
	c.srv.wsFrames.Add(uint64(len(batch)))
	c.srv.wsBytes.Add(uint64(n))
	c.mu.Lock()
	if len(rest) > 0 {
		t.pending = append(t.pending, rest...) // copies: bufs is reused below
	}
	clear(bufs)
	t.bufs = bufs[:0]
	c.recycleLocked(batch)
	if err == nil && len(rest) == 0 {
		c.releaseFlushWaitersLocked(upTo)
	}
	if err != nil {
		t.writing = false
	}
	c.mu.Unlock()
	switch {
	case err != nil:
		c.close("transport error", false)
		t.conn.Close()
		return writeFailed
	case len(rest) > 0:
		return socketFull
	default:
		return wroteAll
	}
}

// releaseIfIdle ends a writer's turn when nothing more was queued; false if there is more
// to write (the caller hands it to the connection's writer goroutine).
func (c *Conn) releaseIfIdle(t *wsTransport) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ws == t && (len(c.queue) > 0 || len(t.pending) > 0 || t.closeAfterFlush) {
		return false
	}
	t.writing = false
	return true
}

// remainder is what of bufs is left after n bytes were written.
func remainder(bufs [][]byte, n int) [][]byte {
	for i, b := range bufs {
		if n < len(b) {
			rest := bufs[i:]
			rest[0] = b[n:]
			return rest
		}
		n -= len(b)
	}
	return nil
}

// flushTarget is a connection waiting for a flusher.
type flushTarget struct {
	c *Conn
	t *wsTransport
}

// The server's flushers write every WebSocket connection that has something queued, in
// the order they became ready, with non-blocking writes. A connection goes back to the
// end of the line when more was queued while it was written, so under load each write
// carries everything that piled up meanwhile (fewer, larger writes), and when the server
// is idle a packet goes out at once. A connection whose socket is full is handed to its
// own writer goroutine, so no connection waits for another.
const flushQueueSize = 16384

func (s *Server) startFlushers() {
	s.flushq = make(chan flushTarget, flushQueueSize)
	s.quit = make(chan struct{})
	if s.opts.WriteDelay > 0 {
		s.coalescer = newWriteCoalescer(s.opts.WriteDelay, s.schedule)
	}
	for range runtime.GOMAXPROCS(0) {
		go s.flusher()
	}
}

// schedule hands a connection whose writer is idle to a flusher (or, when they are
// stopped or swamped, to a goroutine of its own).
func (s *Server) schedule(ft flushTarget) {
	if ft.t.raw != nil {
		queued := false
		s.flushMu.RLock()
		if !s.flushClosed {
			select {
			case s.flushq <- ft:
				queued = true
			default:
			}
		}
		s.flushMu.RUnlock()
		if queued {
			return
		}
	}
	go ft.c.writeLoop(ft.t)
}

func (s *Server) flusher() {
	for {
		select {
		case <-s.quit:
			// Nothing enters flushq any more (Close set flushClosed first): what waits
			// there gets writers of its own, so no connection's last writes are lost.
			for {
				select {
				case ft := <-s.flushq:
					go ft.c.writeLoop(ft.t)
				default:
					return
				}
			}
		case ft := <-s.flushq:
			switch ft.c.writeBatch(ft.t, false) {
			case wroteAll:
				if !ft.c.releaseIfIdle(ft.t) {
					s.schedule(ft) // more came meanwhile: to the end of the line
				}
			case socketFull:
				go ft.c.writeLoop(ft.t)
			}
		}
	}
}

// closeFrame is a WebSocket close frame with a status code.
func closeFrame(code uint16) *Packet {
	b := make([]byte, headroom+2)
	binary.BigEndian.PutUint16(b[headroom:], code)
	return framed(b, opClose, false)
}

func pongFrame(payload []byte) *Packet {
	b := make([]byte, headroom, headroom+len(payload))
	b = append(b, payload...)
	return framed(b, opPong, false)
}
