package server

import (
	"context"
	"net/http"
	"time"

	"github.com/parley-chat/parley/utils"
)

// drainGate answers for a node that has begun to shut down: /readyz is 503 from the first
// moment (a load balancer stops sending clients here) and the auth routes and new uploads
// are 503 UNAVAILABLE with Retry-After; Socket.IO requests pass (the engine refuses new
// sessions itself and open ones finish their events), as do /healthz, /metrics and
// downloads of uploads.
func (s *Server) drainGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.draining.Load() {
			next.ServeHTTP(w, r)
			return
		}
		switch r.URL.Path {
		case "/readyz":
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "draining", "failing": []string{"shutdown"},
				"code": utils.CodeUnavailable, "error": "this node is shutting down"})
		case "/auth/register", "/auth/login", "/uploads":
			writeError(w, http.StatusServiceUnavailable, &utils.AppError{Code: utils.CodeUnavailable,
				Message: "this node is shutting down, retry on another", RetryAfterMs: 1000})
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// shutdownMargin is kept of the shutdown timeout for what comes after the departures
// (the cluster's goodbye, the listener, the store).
const shutdownMargin = time.Second

// Shutdown drains the node within ctx:
//  1. /readyz turns 503 and new sessions and logins are refused;
//  2. every event received before that is handled and acknowledged, while events that
//     arrive later are answered UNAVAILABLE;
//  3. the sockets are closed after their queued acks (clients see "transport close" and
//     reconnect, elsewhere);
//  4. the departure bookkeeping runs: presence (on a cluster the departed users' graces
//     run their course, so a user who reconnects to another node is never shown offline;
//     alone, the node ends them at once), lastSeen, notifications for messages that raced
//     the close;
//  5. the cluster is told this node is gone, the listener closes.
//
// The store is closed by the caller afterwards.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	if err := s.io.Drain(ctx); err != nil {
		s.log.Warn().Msg("shutdown: events received before the drain did not finish in time")
	}
	done := make(chan struct{})
	go func() { s.inflight.drain(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.log.Warn().Msg("shutdown: in-flight events did not finish in time")
	}
	s.io.Close()
	s.awaitDepartures(ctx)
	s.typing.Close()

	s.backgroundMu.Lock()
	s.backgroundDone = true // from here on nothing new is started
	s.backgroundMu.Unlock()
	s.waitTasks(ctx)
	s.presence.Close()
	if s.cluster != nil {
		s.cluster.close() // cancels the cluster's goroutines, which background counts
	}
	err := s.http.Shutdown(ctx)
	s.cancelBase()
	s.background.Wait()
	return err
}

// awaitDepartures waits until every socket's disconnect has been handled (onDisconnect
// has returned), then for the
// presence graces it started: to their end on a cluster (bounded by ctx, less a margin),
// at once on a single node, where nobody else could pick the users up.
func (s *Server) awaitDepartures(ctx context.Context) {
	deadline := time.Now().Add(time.Minute)
	if d, ok := ctx.Deadline(); ok {
		deadline = d.Add(-shutdownMargin)
	}
	waitFor := func(cond func() bool, until time.Time) {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for !cond() && time.Now().Before(until) {
			<-tick.C
		}
	}
	waitFor(func() bool { return s.liveSockets.Load() == 0 }, deadline)
	if s.cluster != nil {
		waitFor(func() bool { return s.presence.Graces() == 0 }, deadline)
	}
	s.presence.EndGraces() // returns once the ends it announces have started their work
}

// waitTasks waits for the work started by goBackground (announcements, lastSeen,
// notifications), bounded by ctx.
func (s *Server) waitTasks(ctx context.Context) {
	done := make(chan struct{})
	go func() { s.tasks.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.log.Warn().Msg("shutdown: departure bookkeeping did not finish in time")
	}
}
