package server

import (
	"context"
	"time"

	"github.com/parley-chat/parley/handlers"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/utils"
)

// disconnectRaceWindow is how far back, when a user's last socket closes, messages are
// checked for having missed them: broadcast to a socket already on its way out, or decided
// on while the user still counted as connected. Messages written to one of the user's
// sockets more than deliveryWindow before the close count as delivered.
const disconnectRaceWindow = 3 * time.Second

// session is the per-socket state: who it is, its flood strikes (event_limits.go), and
// its token's expiry.
type session struct {
	caller      handlers.Caller
	sock        *socketio.Socket
	strikes     *utils.RateLimiter
	expiry      *expiryTimer
	connectedAt time.Time
}

// onConnection wires a freshly authorized socket: it joins its user room and the rooms of
// all its user's chats (loaded during the handshake), before the client is told it is
// connected, so nothing it emits or is sent can miss them.
func (s *Server) onConnection(sock *socketio.Socket) {
	id, ok := sock.Data().(*identity)
	if !ok {
		sock.Disconnect(true)
		return
	}
	sess := &session{
		caller:      handlers.Caller{UserID: id.userID, SocketID: sock.ID()},
		sock:        sock,
		strikes:     newFloodStrikes(),
		connectedAt: time.Now(),
	}
	sock.SetData(sess)
	s.liveSockets.Add(1)
	sock.Join(append([]string{userRoom(id.userID)}, id.rooms...)...)
	s.local.add(id.userID, sock)
	sess.expiry = newExpiryTimer(func() {
		_ = sock.EmitJSON("auth:expired", struct{}{})
		sock.Disconnect(true)
	})
	sess.expiry.reset(id.expiresAt)
	s.metrics.sockets.Inc()
	if s.departures.returned(id.userID, sess.connectedAt) {
		s.metrics.reconnections.Inc()
	}
	s.presence.Connect(id.userID)
}

// onDisconnect undoes onConnection (the engine calls it once per socket): presence,
// typing, and when it was the user's last socket anywhere, the notification sweep for
// messages that raced the close.
func (s *Server) onDisconnect(sock *socketio.Socket, _ string) {
	sess, ok := sock.Data().(*session)
	if !ok {
		return
	}
	// Counted down only once everything below has run (and started its background work):
	// a shutdown waits for it.
	defer s.liveSockets.Add(-1)
	userID := sess.caller.UserID
	s.local.remove(userID, sock)
	sess.expiry.stop()
	s.metrics.sockets.Dec()
	if !s.presence.Disconnect(userID) {
		return
	}
	s.departures.left(userID, time.Now())
	s.typing.StopUser(userID)
	if !s.presence.Connected(userID) {
		delivered := s.deliveries.deliveredTo(sess.connectedAt, time.Now().Add(-deliveryWindow))
		s.goBackground(func(ctx context.Context) {
			s.handlers.CoverRecentMessages(ctx, userID, disconnectRaceWindow, delivered)
		})
	}
}

// onDelivered notes message:new broadcasts that reached sockets here (their Tag is the
// message id).
func (s *Server) onDelivered(opts socketio.BroadcastOptions, _ int) {
	s.deliveries.written(opts.Tag, time.Now())
}

// onEvent routes one client event to its handler through the dispatch wrapper.
func (s *Server) onEvent(sock *socketio.Socket, e *socketio.Event) {
	sess, ok := sock.Data().(*session)
	if !ok {
		return
	}
	if e.Name == "auth:refresh" {
		s.dispatch(sess, s.refreshEvent(sess), e)
		return
	}
	ev, ok := s.eventsByName[e.Name]
	if !ok {
		ev = unknownEvent(e.Name)
	}
	s.dispatch(sess, ev, e)
}

// refreshEvent is auth:refresh for one session: it goes through the same dispatch wrapper
// as every other event (rate limit, strict decoding, one ack, metrics, drain).
func (s *Server) refreshEvent(sess *session) handlers.Event {
	return handlers.Event{Name: "auth:refresh", Handle: func(_ context.Context, _ handlers.Caller, raw []byte) (any, error) {
		return s.refreshAuth(sess, raw)
	}}
}

// refreshAuth handles auth:refresh: a fresh token for the same user moves the socket's
// expiry to the new token's.
func (s *Server) refreshAuth(sess *session, raw []byte) (any, error) {
	var in struct {
		Token string `json:"token"`
	}
	if err := utils.DecodeStrict(raw, &in); err != nil {
		return nil, err
	}
	if in.Token == "" {
		return nil, utils.Invalid("token", "is required")
	}
	claims, err := s.tokens.Verify(in.Token)
	if err != nil {
		return nil, utils.Errorf(utils.CodeUnauthorized, "the token is not valid")
	}
	if userIDFor(claims) != sess.caller.UserID {
		return nil, utils.Errorf(utils.CodeUnauthorized, "the token is for another user")
	}
	exp := claims.ExpiresAt.Time
	sess.expiry.reset(exp)
	return map[string]any{"expiresAt": exp.UTC().Format(time.RFC3339)}, nil
}
