// Package engineio is an Engine.IO protocol v4 server: HTTP long-polling and WebSocket
// transports, the polling → WebSocket upgrade, heartbeats, and one bounded send queue per
// connection drained by a single writer (consecutive WebSocket frames go out in one
// write; everything queued goes out in one polling response). It knows nothing of
// Socket.IO: it moves message packets, text or binary, between a connection and its
// Handler.
package engineio

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Engine.IO error codes of refused requests, with Node's messages.
const (
	errUnknownTransport = 0
	errUnknownSID       = 1
	errBadHandshake     = 2
	errBadRequest       = 3
	errForbidden        = 4
	errUnsupported      = 5
	// Not Node's: a server that is shutting down refuses new sessions with 503, so a
	// client (and a load balancer) tries another node.
	errShuttingDown = 6
)

var errorMessages = [...]string{
	errUnknownTransport: "Transport unknown",
	errUnknownSID:       "Session ID unknown",
	errBadHandshake:     "Bad handshake method",
	errBadRequest:       "Bad request",
	errForbidden:        "Forbidden",
	errUnsupported:      "Unsupported protocol version",
	errShuttingDown:     "Server shutting down",
}

// Server accepts Engine.IO sessions. Mount it on the Engine.IO path (for Socket.IO,
// /socket.io/).
type Server struct {
	opts Options

	mu     sync.Mutex
	conns  map[string]*Conn
	closed bool
	// refusing: new sessions are refused (StopAccepting); open ones carry on.
	refusing atomic.Bool

	// Packets that are the same for every connection, built once.
	ping, noop, closePkt, pongProbe *Packet

	flushq    chan flushTarget
	quit      chan struct{}
	coalescer *writeCoalescer // nil unless Options.WriteDelay > 0
	// flushMu orders schedule's sends against Close: once flushClosed is set nothing more
	// enters flushq, so the flushers, stopping, can hand every queued connection on.
	flushMu     sync.RWMutex
	flushClosed bool

	// WebSocket write counters: frames per write is the batching the writers achieve.
	wsWrites, wsFrames, wsBytes atomic.Uint64
}

// Stats are the server's counters.
type Stats struct {
	// WebSocketWrites is the number of write system calls to WebSocket connections,
	// WebSocketFrames the frames they carried, WebSocketBytes their size.
	WebSocketWrites, WebSocketFrames, WebSocketBytes uint64
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	return Stats{WebSocketWrites: s.wsWrites.Load(), WebSocketFrames: s.wsFrames.Load(), WebSocketBytes: s.wsBytes.Load()}
}

// NewServer builds a server; opts.OnConnection is required.
func NewServer(opts Options) *Server {
	if opts.OnConnection == nil {
		panic("engineio: Options.OnConnection is required")
	}
	opts.setDefaults()
	s := &Server{
		opts:      opts,
		conns:     map[string]*Conn{},
		ping:      controlPacket(typePing, ""),
		noop:      controlPacket(typeNoop, ""),
		closePkt:  controlPacket(typeClose, ""),
		pongProbe: controlPacket(typePong, "probe"),
	}
	s.startFlushers()
	return s
}

// Options returns the server's options with defaults applied.
func (s *Server) Options() Options { return s.opts }

// ServeHTTP routes a request: a handshake (no sid), a polling request or a WebSocket
// upgrade of an existing session.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin != "" && s.opts.AllowOrigin != nil && !s.opts.AllowOrigin(origin) {
		refuse(w, errForbidden)
		return
	}
	setCORS(w, origin)
	if r.Method == http.MethodOptions {
		preflight(w, r)
		return
	}
	q := r.URL.Query()
	if q.Get("EIO") != "4" {
		refuse(w, errUnsupported)
		return
	}
	transport := q.Get("transport")
	if transport != "polling" && transport != "websocket" {
		refuse(w, errUnknownTransport)
		return
	}
	upgrade := isWebSocketUpgrade(r)
	if transport == "websocket" && !upgrade {
		refuse(w, errBadRequest)
		return
	}
	if sid := q.Get("sid"); sid != "" {
		c := s.lookup(sid)
		if c == nil {
			refuse(w, errUnknownSID)
			return
		}
		if transport == "websocket" {
			c.serveUpgrade(w, r)
		} else {
			c.servePolling(w, r)
		}
		return
	}
	if r.Method != http.MethodGet {
		refuse(w, errBadHandshake)
		return
	}
	if s.refusing.Load() {
		refuse(w, errShuttingDown)
		return
	}
	if transport == "websocket" {
		s.handshakeWebSocket(w, r)
	} else {
		s.handshakePolling(w, r)
	}
}

// StopAccepting refuses new sessions from now on (503); open sessions carry on until Close.
func (s *Server) StopAccepting() { s.refusing.Store(true) }

// Close closes every session (a forced server close: queued packets are written first)
// and stops the flushers (writes left go through writer goroutines).
func (s *Server) Close() {
	s.flushMu.Lock()
	if !s.flushClosed {
		s.flushClosed = true
		close(s.quit)
	}
	s.flushMu.Unlock()
	if s.coalescer != nil {
		s.coalescer.flushNow() // to writer goroutines: the flushers are stopping
	}
	s.mu.Lock()
	s.closed = true
	conns := make([]*Conn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// Len is the number of open sessions.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *Server) lookup(sid string) *Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[sid]
}

// register adds a new session; false once the server is closed.
func (s *Server) register(c *Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c.id] = c
	return true
}

func (s *Server) unregister(c *Conn) {
	s.mu.Lock()
	if s.conns[c.id] == c {
		delete(s.conns, c.id)
	}
	s.mu.Unlock()
}

func (s *Server) handshakePolling(w http.ResponseWriter, r *http.Request) {
	c := newConn(s, r, transportPolling)
	if !s.register(c) {
		refuse(w, errBadRequest)
		return
	}
	c.open()
	c.servePolling(w, r)
}

// openPacket is the handshake packet: the session id and the heartbeat and size settings.
func (s *Server) openPacket(sid string, upgrades bool) *Packet {
	var b strings.Builder
	b.WriteString(`{"sid":"`)
	b.WriteString(sid)
	if upgrades {
		b.WriteString(`","upgrades":["websocket"],"pingInterval":`)
	} else {
		b.WriteString(`","upgrades":[],"pingInterval":`)
	}
	b.WriteString(strconv.Itoa(int(s.opts.PingInterval.Milliseconds())))
	b.WriteString(`,"pingTimeout":`)
	b.WriteString(strconv.Itoa(int(s.opts.PingTimeout.Milliseconds())))
	b.WriteString(`,"maxPayload":`)
	b.WriteString(strconv.Itoa(s.opts.MaxPayload))
	b.WriteString("}")
	return controlPacket(typeOpen, b.String())
}

// newSessionID is 15 random bytes in URL-safe base64 (20 characters), like Node's base64id.
func newSessionID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// refuse answers a request that cannot proceed with Engine.IO's JSON error.
func refuse(w http.ResponseWriter, code int) {
	status := http.StatusBadRequest
	switch code {
	case errForbidden:
		status = http.StatusForbidden
	case errShuttingDown:
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"code":` + strconv.Itoa(code) + `,"message":"` + errorMessages[code] + `"}`))
}

// setCORS lets browser apps on allowed origins read the polling responses (the origin was
// checked before).
func setCORS(w http.ResponseWriter, origin string) {
	if origin == "" {
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
}

func preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
	}
	w.WriteHeader(http.StatusNoContent)
}

func isWebSocketUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header.Get("Connection"), "upgrade") && strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

func headerHasToken(v, token string) bool {
	for _, part := range strings.Split(v, ",") {
		if strings.EqualFold(strings.TrimSpace(part), token) {
			return true
		}
	}
	return false
}
