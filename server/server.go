// Package server is the Socket.IO and HTTP front of Parley: handshake auth, connection
// lifecycle, the event dispatch wrapper, the HTTP routes, and orderly shutdown.
package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/handlers"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

// readinessCheck is one dependency /readyz asks besides the store (Redis, when used).
type readinessCheck struct {
	name string
	ping func(context.Context) error
}

// Server is one Parley node. Everything stateful hangs off it (no package-level state),
// so tests can run several in one process.
type Server struct {
	cfg             config.Config
	log             zerolog.Logger
	store           models.Store
	tokens          *utils.Tokens
	io              *socket.Server
	http            *http.Server
	metrics         *metrics
	presence        *utils.LocalPresence
	events          []handlers.Event
	eventNames      map[string]struct{}
	readinessChecks []readinessCheck
	inflight        inflight
	baseCtx         context.Context
	cancelBase      context.CancelFunc
}

// New builds a node on store. It does not listen yet: call Serve.
func New(cfg config.Config, store models.Store, tokens *utils.Tokens, log zerolog.Logger) (*Server, error) {
	s := &Server{
		cfg: cfg, log: log, store: store, tokens: tokens,
		metrics:    newMetrics(),
		presence:   utils.NewLocalPresence(),
		eventNames: map[string]struct{}{},
	}
	s.baseCtx, s.cancelBase = context.WithCancel(context.Background())

	opts := socket.DefaultServerOptions()
	opts.SetPingInterval(25 * time.Second)
	opts.SetPingTimeout(20 * time.Second)
	opts.SetMaxHttpBufferSize(cfg.MaxPayloadBytes)
	opts.SetConnectTimeout(45 * time.Second)
	opts.SetServeClient(false)
	opts.SetCors(&types.Cors{Origin: s.corsOrigin(), Credentials: true})
	opts.SetAllowRequest(func(ctx *types.HttpContext) error {
		if origin := ctx.Headers().Peek("Origin"); origin != "" && !s.originAllowed(origin) {
			return errors.New("origin not allowed")
		}
		return nil
	})
	s.io = socket.NewServer(nil, opts)
	s.io.Use(s.authMiddleware)
	s.io.On("connection", func(args ...any) {
		if sock, ok := args[0].(*socket.Socket); ok {
			s.onConnection(sock)
		}
	})

	h := handlers.New(handlers.Deps{
		Store:    store,
		Emit:     emitter{io: s.io},
		Presence: s.presence,
		Log:      log,
	})
	s.events = h.Events()
	for _, ev := range s.events {
		s.eventNames[ev.Name] = struct{}{}
	}
	s.http = &http.Server{
		Handler:           s.routes(s.io.ServeHandler(opts)),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return s.baseCtx },
	}
	return s, nil
}

// corsOrigin is the Socket.IO CORS setting: every origin in development, else the list.
func (s *Server) corsOrigin() any {
	if len(s.cfg.CORSOrigins) == 0 {
		return true
	}
	return s.cfg.CORSOrigins
}

// Serve accepts connections on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	err := s.http.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections, lets in-flight events finish their writes and
// acks, then closes every socket. The store is closed by the caller afterwards.
func (s *Server) Shutdown(ctx context.Context) error {
	// Close the listeners at once (http.Server.Shutdown does that first, then waits for
	// open requests), while established sockets stay up for their in-flight events.
	httpDone := make(chan error, 1)
	go func() { httpDone <- s.http.Shutdown(ctx) }()
	drained := make(chan struct{})
	go func() {
		s.inflight.drain()
		close(drained)
	}()
	select {
	case <-drained:
	case <-ctx.Done():
		s.log.Warn().Msg("shutdown: in-flight events did not finish in time")
	}
	// Closing the sockets also ends the long-polling requests http.Shutdown waits for.
	s.io.Close(nil)
	err := <-httpDone
	s.cancelBase()
	return err
}
