package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

// identity is who a handshake authenticated, and until when.
type identity struct {
	userID    string
	expiresAt time.Time     // zero for AUTH_ALLOW_USER_ID sessions, which do not expire
	rooms     []socket.Room // the rooms of the user's chats, joined on connect
}

var errUnauthorized = errors.New("unauthorized")

// authMiddleware refuses every handshake without a valid identity with connect_error
// "UNAUTHORIZED" (and "UNAVAILABLE" while the store is down, so clients retry).
func (s *Server) authMiddleware(sock *socket.Socket, next func(*socket.ExtendedError)) {
	ctx, cancel := context.WithTimeout(s.baseCtx, 10*time.Second)
	defer cancel()
	id, err := s.authenticate(ctx, sock.Handshake())
	if err != nil {
		code := utils.CodeUnauthorized
		if errors.Is(err, models.ErrUnavailable) {
			code = utils.CodeUnavailable
		} else if !errors.Is(err, errUnauthorized) {
			s.log.Error().Err(err).Msg("handshake failed")
			code = utils.CodeInternal
		}
		next(socket.NewExtendedError(code, map[string]any{"code": code}))
		return
	}
	if rooms, ok := s.local.siblingRooms(id.userID); ok {
		id.rooms = rooms
	} else {
		chatIDs, err := s.store.ChatIDsForUser(ctx, id.userID)
		if err != nil {
			code := utils.CodeUnavailable
			next(socket.NewExtendedError(code, map[string]any{"code": code}))
			return
		}
		for _, chatID := range chatIDs {
			id.rooms = append(id.rooms, chatRoom(chatID))
		}
	}
	sock.SetData(id)
	next(nil)
}

// authenticate finds the token in auth.token, an Authorization: Bearer header or a token
// query parameter (where Node servers commonly accept it), and resolves the user.
func (s *Server) authenticate(ctx context.Context, hs *socket.Handshake) (*identity, error) {
	token := handshakeToken(hs)
	if token == "" {
		if userID, ok := hs.Auth["userId"].(string); ok && s.cfg.AllowUserIDAuth && userID != "" {
			if _, err := s.store.UserByID(ctx, userID); err != nil {
				return nil, authStoreErr(err)
			}
			return &identity{userID: userID}, nil
		}
		return nil, errUnauthorized
	}
	claims, err := s.tokens.Verify(token)
	if err != nil {
		return nil, errUnauthorized
	}
	userID := userIDFor(claims)
	if !s.local.has(userID) {
		// A user with a socket here exists already; only a first socket asks the store.
		if err := s.ensureUser(ctx, userID, claims); err != nil {
			return nil, err
		}
	}
	return &identity{userID: userID, expiresAt: claims.ExpiresAt.Time}, nil
}

func handshakeToken(hs *socket.Handshake) string {
	if t, ok := hs.Auth["token"].(string); ok && t != "" {
		return strings.TrimPrefix(t, "Bearer ")
	}
	if h := hs.Headers.Header().Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return hs.Query.Query().Get("token")
}

// userIDFor is the user id a verified token names. A `sub` that is not an ObjectId (most
// identity providers use their own ids) maps to a stable ObjectId-shaped id derived from
// issuer and sub.
func userIDFor(claims *utils.TokenClaims) string {
	if models.ValidID(claims.Subject) {
		return claims.Subject
	}
	sum := sha256.Sum256([]byte("parley-external-sub:" + claims.Issuer + ":" + claims.Subject))
	return hex.EncodeToString(sum[:12])
}

// ensureUser checks that the user exists, creating users of external identity providers
// on first connect from their claims.
func (s *Server) ensureUser(ctx context.Context, userID string, claims *utils.TokenClaims) error {
	_, err := s.store.UserByID(ctx, userID)
	if err == nil {
		return nil
	}
	if !errors.Is(err, models.ErrNotFound) {
		return authStoreErr(err)
	}
	now := time.Now().UTC()
	u := &models.User{ID: userID, Name: externalName(claims), CreatedAt: now, UpdatedAt: now}
	if claims.Picture != "" {
		pic := claims.Picture
		u.Image = &pic
	}
	u.Handle = externalHandle(claims, userID)
	if _, err := s.store.EnsureUser(ctx, u); errors.Is(err, models.ErrConflict) {
		// The handle the provider suggested is taken: fall back to one derived from the id.
		u.Handle = "user_" + userID[len(userID)-10:]
		if _, err := s.store.EnsureUser(ctx, u); err != nil {
			return authStoreErr(err)
		}
	} else if err != nil {
		return authStoreErr(err)
	}
	return nil
}

var handleRe = regexp.MustCompile(`^[a-z0-9_.]{3,32}$`)

func externalHandle(c *utils.TokenClaims, userID string) string {
	for _, h := range []string{c.Handle, c.PreferredUsername} {
		h = strings.ToLower(strings.TrimSpace(h))
		if handleRe.MatchString(h) {
			return h
		}
	}
	return "user_" + userID[len(userID)-10:]
}

func externalName(c *utils.TokenClaims) string {
	for _, n := range []string{c.Name, c.PreferredUsername, c.Handle} {
		if n = strings.TrimSpace(n); n != "" {
			if len([]rune(n)) > 100 {
				n = string([]rune(n)[:100])
			}
			return n
		}
	}
	return "User"
}

// authStoreErr keeps store outages distinguishable from refusals.
func authStoreErr(err error) error {
	if errors.Is(err, models.ErrNotFound) {
		return errUnauthorized
	}
	return err
}
