// Package server is the Socket.IO and HTTP front of Parley: handshake auth, connection
// lifecycle, the event dispatch wrapper, the HTTP routes, and orderly shutdown.
package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
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
	presence        *utils.Presence
	local           *localSockets
	deliveries      *deliveries
	logins          *loginGuard
	typing          *utils.Typing
	handlers        *handlers.Handlers
	cluster         *cluster
	background      sync.WaitGroup
	backgroundMu    sync.Mutex
	backgroundDone  bool
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
		presence:   utils.NewPresence(cfg.PresenceGrace),
		local:      newLocalSockets(),
		deliveries: newDeliveries(),
		logins:     newLoginGuard(),
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
	if cfg.RedisURL != "" {
		c, err := newCluster(s.baseCtx, cfg.RedisURL, s.presence, log)
		if err != nil {
			s.cancelBase()
			return nil, err
		}
		s.cluster = c
		opts.SetAdapter(c.adapterBuilder())
		s.readinessChecks = append(s.readinessChecks, readinessCheck{name: "redis", ping: c.ping})
	}
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
	s.handlers = h
	if s.cluster != nil {
		h.Invalidate = s.cluster.invalidate
		s.cluster.onInvalidate = h.DropCached
	}
	s.typing = utils.NewTyping(cfg.TypingTimeout, h.TypingStopped)
	h.Typing = s.typing
	s.presence.OnOnline = func(userID string) {
		s.goBackground(func(ctx context.Context) { h.AnnouncePresence(ctx, userID, true, time.Now().UTC()) })
	}
	s.presence.OnOffline = func(userID string, at time.Time) {
		s.goBackground(func(ctx context.Context) { h.AnnouncePresence(ctx, userID, false, at) })
	}
	s.events = h.Events()
	for _, ev := range s.events {
		s.eventNames[ev.Name] = struct{}{}
	}
	s.http = &http.Server{
		Handler:           s.routes(s.io.ServeHandler(opts)),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return s.baseCtx },
	}
	if s.cluster != nil {
		s.cluster.start(&s.background)
	}
	s.background.Add(1)
	go s.sweepNotifications()
	return s, nil
}

// goBackground runs work that outlives the event that caused it (presence announcements,
// notification sweeps), bounded in time and waited for at shutdown.
func (s *Server) goBackground(fn func(ctx context.Context)) {
	s.backgroundMu.Lock()
	defer s.backgroundMu.Unlock()
	if s.backgroundDone {
		return // shutting down: the work would be cut short anyway
	}
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		ctx, cancel := context.WithTimeout(s.baseCtx, eventTimeout)
		defer cancel()
		fn(ctx)
	}()
}

// sweepNotifications removes expired notifications hourly. Reads never return them
// anyway; this keeps the store from growing (MongoDB's TTL index does the same where the
// server supports it).
func (s *Server) sweepNotifications() {
	defer s.background.Done()
	ticker := time.NewTicker(time.Hour)
	defer ticker.Stop()
	for {
		ctx, cancel := context.WithTimeout(s.baseCtx, time.Minute)
		if n, err := s.store.DeleteExpiredNotifications(ctx, time.Now().Add(-models.NotificationTTL)); err != nil {
			s.log.Debug().Err(err).Msg("notification sweep")
		} else if n > 0 {
			s.log.Info().Int("removed", n).Msg("expired notifications removed")
		}
		cancel()
		select {
		case <-s.baseCtx.Done():
			return
		case <-ticker.C:
		}
	}
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
	s.typing.Close()
	s.presence.Close()
	s.backgroundMu.Lock()
	s.backgroundDone = true
	s.backgroundMu.Unlock()
	if s.cluster != nil {
		s.cluster.close() // cancels the cluster's goroutines, which background counts
	}
	s.cancelBase()
	s.background.Wait()
	return err
}
