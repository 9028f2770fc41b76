// Package server is the Socket.IO and HTTP front of Parley: handshake auth, connection
// lifecycle, the event dispatch wrapper, the HTTP routes, and orderly shutdown.
package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/handlers"
	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/socketio"
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
	io              *socketio.Server
	ns              *socketio.Namespace
	http            *http.Server
	metrics         *metrics
	presence        *utils.Presence
	local           *localSockets
	deliveries      *deliveries
	logins          *loginGuard
	limits          *eventLimits     // per-user token buckets by event class
	departures      *departures      // for the reconnection metric
	hashes          *utils.Semaphore // password-hashing slots (hash_slots.go)
	addrs           clientAddrs      // who a request comes from (TRUST_PROXY)
	signer          *utils.URLSigner // signed upload links (uploads.go)
	typing          *utils.Typing
	handlers        *handlers.Handlers
	cluster         *cluster
	background      sync.WaitGroup
	tasks           sync.WaitGroup // goBackground's work, waited for at shutdown
	draining        atomic.Bool    // Shutdown has begun (shutdown.go)
	liveSockets     atomic.Int64   // connected sockets whose disconnect has not been handled
	backgroundMu    sync.Mutex
	backgroundDone  bool
	eventsByName    map[string]handlers.Event
	readinessChecks []readinessCheck
	inflight        inflight
	baseCtx         context.Context
	cancelBase      context.CancelFunc
}

// New builds a node on store. It does not listen yet: call Serve.
func New(cfg config.Config, store models.Store, tokens *utils.Tokens, log zerolog.Logger) (*Server, error) {
	s := &Server{
		cfg: cfg, log: log, store: store, tokens: tokens,
		metrics:      newMetrics(),
		presence:     utils.NewPresence(cfg.PresenceGrace),
		local:        newLocalSockets(),
		deliveries:   newDeliveries(),
		logins:       newLoginGuard(cfg.Auth),
		hashes:       utils.NewSemaphore(cfg.Auth.HashConcurrency, cfg.Auth.HashQueue, hashMaxWait),
		addrs:        clientAddrs{trusted: cfg.Auth.TrustProxy},
		eventsByName: map[string]handlers.Event{},
		limits:       newEventLimits(cfg.Events),
		departures:   newDepartures(),
		signer:       utils.NewURLSigner(tokens.DeriveKey(uploadURLKeyLabel), cfg.Uploads.URLTTL),
	}
	s.baseCtx, s.cancelBase = context.WithCancel(context.Background())

	eopts := engineio.Options{
		PingInterval:  cfg.PingInterval,
		PingTimeout:   cfg.PingTimeout,
		MaxPayload:    int(cfg.MaxPayloadBytes),
		MaxQueueBytes: cfg.MaxQueueBytes,
		WriteDelay:    cfg.WriteDelay,
		OnSlowConsumer: func(c *engineio.Conn, queued int) {
			s.metrics.slowConsumers.Inc()
			log.Warn().Str("sid", c.ID()).Int("queuedBytes", queued).Msg("closed a connection that stopped reading (slow consumer)")
		},
	}
	if len(cfg.CORSOrigins) > 0 {
		eopts.AllowOrigin = s.originAllowed
	}
	s.io = socketio.NewServer(socketio.Options{
		Engine:         eopts,
		ConnectTimeout: 45 * time.Second,
		OnPanic: func(err error) {
			log.Error().Err(err).Msg("socket callback panicked; connection closed")
		},
	})
	s.metrics.engineMetrics(s.io.EngineStats, s.io.Connections)
	s.metrics.storeMetrics(store)
	// Every store call is timed by operation (the group-commit counters above read the
	// store itself).
	store = newInstrumentedStore(store, s.metrics.registry)
	s.store = store
	s.ns = s.io.Namespace("/", socketio.Handlers{
		Authorize:    s.authorize,
		Connected:    s.onConnection,
		Event:        s.onEvent,
		Disconnected: s.onDisconnect,
		Delivered:    s.onDelivered,
	})
	if cfg.RedisURL != "" {
		c, err := newCluster(s.baseCtx, cfg.RedisURL, cfg.NodeLease, s.io, s.presence, log)
		if err != nil {
			s.cancelBase()
			return nil, err
		}
		s.cluster = c
		s.readinessChecks = append(s.readinessChecks, readinessCheck{name: "redis", ping: c.ready})
	}

	deps := handlers.Deps{
		Store:    store,
		Emit:     emitter{ns: s.ns},
		Presence: s.presence,
		Log:      log,
		// Each rendering signs afresh: a view's links last UPLOAD_URL_TTL_MS from then.
		AttachmentURL: func(id string) string { return s.signer.URL(id, time.Now()) },
	}
	if s.cluster != nil {
		deps.Invalidate = s.cluster.invalidate
		deps.CacheTrusted = s.cluster.bus.Connected
	}
	h := handlers.New(deps)
	s.handlers = h
	if c := s.cluster; c != nil {
		c.onInvalidate = h.DropCached
		s.metrics.busMetrics(c.bus.Stats)
		// Entries filled before a change of the bus's state may have missed invalidations.
		c.bus.OnStateChange(func(bool) { h.ResetCache() })
		c.onResync = func() { s.goBackground(s.resyncRooms) }
		c.onReaped = func(users []string, since time.Time) {
			at := time.Now().UTC()
			for _, u := range users {
				s.goBackground(func(ctx context.Context) {
					h.AnnouncePresence(ctx, u, false, at)
					h.CoverRecentMessages(ctx, u, time.Since(since), nil)
				})
			}
		}
	}
	s.typing = utils.NewTyping(cfg.TypingTimeout, h.TypingStopped)
	h.Typing = s.typing
	s.presence.OnOnline = func(userID string) {
		s.goBackground(func(ctx context.Context) { h.AnnouncePresence(ctx, userID, true, time.Now().UTC()) })
	}
	s.presence.OnOffline = func(userID string, at time.Time) {
		s.goBackground(func(ctx context.Context) { h.AnnouncePresence(ctx, userID, false, at) })
	}
	for _, ev := range h.Events() {
		s.eventsByName[ev.Name] = ev
	}
	s.http = &http.Server{
		Handler:           s.drainGate(s.routes(s.io)),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return s.baseCtx },
	}
	if s.cluster != nil {
		s.cluster.start(&s.background)
	}
	s.background.Add(2)
	go s.sweepNotifications()
	go s.sweepUploads()
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
	s.tasks.Add(1)
	go func() {
		defer s.tasks.Done()
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

// Serve accepts connections on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	err := s.http.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
