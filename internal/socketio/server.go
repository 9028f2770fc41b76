// Package socketio is a Socket.IO protocol v5 server on the engineio package: the packet
// codec (including binary attachments), namespaces, handshake authorization answered
// with CONNECT_ERROR, rooms, acknowledgements, and broadcasts encoded once and shared by
// every recipient. A connection's lifecycle callbacks and events run one after another in
// arrival order. A Bus, when set, carries broadcasts and room changes to other nodes.
package socketio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/engineio"
)

// Options configure a Server.
type Options struct {
	// Engine configures the Engine.IO layer (OnConnection is set by the Server).
	Engine engineio.Options
	// ConnectTimeout closes a connection that joins no namespace in time. Default 45 s.
	ConnectTimeout time.Duration
	// MaxAttachments bounds the binary attachments of one packet. Default 10.
	MaxAttachments int
	// MaxQueuedEvents bounds the events of one connection waiting to be handled; beyond
	// it the connection is not read until the handler catches up. Default 256.
	MaxQueuedEvents int
	// OnPanic is told about a callback that panicked (its connection is closed; the
	// process goes on).
	OnPanic func(err error)
	// KeepHandshake keeps each socket's handshake headers and query for its whole life
	// (Node keeps socket.handshake). By default only Authorize sees them, and the socket
	// keeps the rest of its handshake: thousands of idle connections do not each hold a
	// copy of their request headers.
	KeepHandshake bool
}

// Server is a Socket.IO server.
type Server struct {
	opts   Options
	engine *engineio.Server
	bus    Bus

	mu   sync.RWMutex
	nsps map[string]*Namespace

	// Draining (Drain): early counts the client messages queued before the drain began
	// and not yet handled; messages queued after it are late (Event.Late).
	draining atomic.Bool
	early    atomic.Int64

	workers workers // run the clients' event queues
}

// NewServer builds a server with no namespaces; add them with Namespace before serving.
func NewServer(opts Options) *Server {
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 45 * time.Second
	}
	if opts.MaxAttachments <= 0 {
		opts.MaxAttachments = 10
	}
	if opts.MaxQueuedEvents <= 0 {
		opts.MaxQueuedEvents = 256
	}
	s := &Server{opts: opts, nsps: map[string]*Namespace{}}
	eopts := opts.Engine
	eopts.OnConnection = s.onConnection
	s.engine = engineio.NewServer(eopts)
	return s
}

// SetBus joins the server to a cluster; call it before serving.
func (s *Server) SetBus(b Bus) { s.bus = b }

// Namespace registers (or returns) the namespace called name ("/" is the main one).
func (s *Server) Namespace(name string, h Handlers) *Namespace {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.nsps[name]; ok {
		return n
	}
	n := newNamespace(s, name, h)
	s.nsps[name] = n
	return n
}

// Namespaces lists the registered namespaces.
func (s *Server) Namespaces() []*Namespace {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Namespace, 0, len(s.nsps))
	for _, n := range s.nsps {
		out = append(out, n)
	}
	return out
}

// Lookup returns a registered namespace, or nil.
func (s *Server) Lookup(name string) *Namespace {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.nsps[name]
}

// ServeHTTP serves the Engine.IO endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// noteEarly counts a client message being queued; false once the drain has begun (the
// message is late). The count is taken before the flag is read, and Drain sets the flag
// before it reads the count, so no early message goes uncounted.
func (s *Server) noteEarly() bool {
	s.early.Add(1)
	if s.draining.Load() {
		s.early.Add(-1)
		return false
	}
	return true
}

// Drain begins a graceful stop: new Engine.IO sessions are refused (503), messages that
// arrive from now on reach handlers as late events (Event.Late), and Drain returns once
// every message received before it was called has been handled — its handler returned,
// its ack queued — or when ctx ends. Connections stay open: Close them afterwards.
func (s *Server) Drain(ctx context.Context) error {
	s.engine.StopAccepting()
	s.draining.Store(true)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for s.early.Load() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// Close disconnects every connection (their queued packets are written first) and ends
// the parked workers.
func (s *Server) Close() {
	s.engine.Close()
	s.workers.close()
}

// EngineStats are the Engine.IO layer's counters.
func (s *Server) EngineStats() engineio.Stats { return s.engine.Stats() }

// Connections is the number of open Engine.IO sessions.
func (s *Server) Connections() int { return s.engine.Len() }

func (s *Server) onConnection(c *engineio.Conn) {
	cl := newClient(s, c)
	c.SetHandler(cl)
}

// newID is a random 20-character id (socket ids), like Node's base64id.
func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
