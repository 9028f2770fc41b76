package server

import (
	"context"
	"sync"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/parley-chat/parley/handlers"
	"github.com/parley-chat/parley/utils"
)

// disconnectRaceWindow is how far back, when a user's last socket closes, messages are
// checked for having missed them: broadcast to a socket already on its way out, or decided
// on while the user still counted as connected. Messages written to one of the user's
// sockets more than deliveryWindow before the close count as delivered.
const disconnectRaceWindow = 3 * time.Second

// session is the per-socket state: who it is, its rate limit, and its token's expiry.
type session struct {
	caller  handlers.Caller
	limiter *utils.RateLimiter
	expiry  *expiryTimer
}

// onConnection wires a freshly authenticated socket: it joins its user room and the rooms
// of all its user's chats (loaded during the handshake, so no I/O delays the handlers'
// registration), then every event handler.
func (s *Server) onConnection(sock *socket.Socket) {
	id, ok := sock.Data().(*identity)
	if !ok {
		sock.Disconnect(true)
		return
	}
	sess := &session{
		caller:  handlers.Caller{UserID: id.userID, SocketID: string(sock.Id())},
		limiter: utils.NewRateLimiter(s.cfg.RateEventsPerSec, s.cfg.RateBurst),
	}
	sock.OnAnyOutgoing(func(args ...any) {
		if len(args) == 2 && args[0] == "message:new" {
			if msgID := messageIDOf(args[1]); msgID != "" {
				s.deliveries.written(id.userID, msgID, time.Now())
			}
		}
	})
	sock.Join(append([]socket.Room{userRoom(id.userID)}, id.rooms...)...)
	s.local.add(id.userID, sock)

	for _, ev := range s.events {
		sock.On(ev.Name, func(args ...any) { s.dispatch(sess, ev, args) })
	}
	refresh := s.refreshEvent(sess)
	sock.On(refresh.Name, func(args ...any) { s.dispatch(sess, refresh, args) })
	sock.OnAny(func(args ...any) {
		if len(args) == 0 {
			return
		}
		if name, ok := args[0].(string); ok && !s.knownEvent(name) {
			unknownEvent(name, args[1:])
		}
	})
	sess.expiry = newExpiryTimer(func() {
		_ = sock.Emit("auth:expired", map[string]any{})
		sock.Disconnect(true)
	})
	sess.expiry.reset(id.expiresAt)

	s.metrics.sockets.Inc()
	s.presence.Connect(id.userID)
	// The library can emit "disconnect" twice when a close from the client and one from
	// the transport race, and a socket closed during the handshake may never emit it;
	// once-only teardown, also run below if the connection is already gone, keeps the
	// per-user socket counts (and so presence) exact.
	var teardown sync.Once
	closeSession := func() { teardown.Do(func() { s.closeSession(sock, sess, id.userID) }) }
	sock.On("disconnect", func(...any) { closeSession() })
	if state := sock.Conn().ReadyState(); state == "closing" || state == "closed" {
		closeSession()
	}
}

// closeSession undoes onConnection for one socket: presence, typing, and when it was the
// user's last socket anywhere, the notification sweep for messages that raced the close.
func (s *Server) closeSession(sock *socket.Socket, sess *session, userID string) {
	s.local.remove(userID, sock)
	sess.expiry.stop()
	s.metrics.sockets.Dec()
	if !s.presence.Disconnect(userID) {
		return
	}
	s.typing.StopUser(userID)
	if !s.presence.Connected(userID) {
		delivered := s.deliveries.takeDelivered(userID, time.Now().Add(-deliveryWindow))
		s.goBackground(func(ctx context.Context) {
			s.handlers.CoverRecentMessages(ctx, userID, disconnectRaceWindow, delivered)
		})
	}
}

func (s *Server) knownEvent(name string) bool {
	_, ok := s.eventNames[name]
	return ok || name == "auth:refresh"
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
