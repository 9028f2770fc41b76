package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

// identity is who a handshake authenticated, and until when.
type identity struct {
	userID    string
	expiresAt time.Time // zero for AUTH_ALLOW_USER_ID sessions, which do not expire
	rooms     []string  // the rooms of the user's chats, joined on connect
}

var errUnauthorized = errors.New("unauthorized")

// authorize admits a handshake with a valid identity and refuses every other with
// connect_error "UNAUTHORIZED" (and "UNAVAILABLE" while the store is down, so clients
// retry). It also loads the rooms the socket joins on connect.
func (s *Server) authorize(hs *socketio.Handshake) (any, error) {
	ctx, cancel := context.WithTimeout(s.baseCtx, 10*time.Second)
	defer cancel()
	id, err := s.authenticate(ctx, hs)
	if err != nil {
		code := utils.CodeUnauthorized
		if errors.Is(err, models.ErrUnavailable) {
			code = utils.CodeUnavailable
		} else if !errors.Is(err, errUnauthorized) {
			s.log.Error().Err(err).Msg("handshake failed")
			code = utils.CodeInternal
		}
		return nil, connectRefusal(code)
	}
	if !s.local.reserve(id.userID, s.cfg.Events.MaxSocketsPerUser, time.Now()) {
		s.metrics.socketsRefused.Inc()
		return nil, &socketio.ConnectError{Message: utils.CodeRateLimited, Data: map[string]any{
			"code": utils.CodeRateLimited, "error": fmt.Sprintf("this user already has %d sockets on this server (MAX_SOCKETS_PER_USER)", s.cfg.Events.MaxSocketsPerUser)}}
	}
	if rooms, ok := s.local.siblingRooms(id.userID); ok {
		id.rooms = rooms
	} else {
		chatIDs, err := s.store.ChatIDsForUser(ctx, id.userID)
		if err != nil {
			s.local.unreserve(id.userID) // a retry must not find its own refused handshake counted
			return nil, connectRefusal(utils.CodeUnavailable)
		}
		for _, chatID := range chatIDs {
			id.rooms = append(id.rooms, chatRoom(chatID))
		}
	}
	return id, nil
}

// connectRefusal is the connect_error a client sees: err.message and err.data.code.
func connectRefusal(code string) error {
	return &socketio.ConnectError{Message: code, Data: map[string]any{"code": code}}
}

// handshakeAuth is the part of the handshake's auth object Parley reads; other fields
// are the client's business. Non-string values count as absent.
type handshakeAuth struct {
	token, userID string
}

func parseHandshakeAuth(raw []byte) handshakeAuth {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return handshakeAuth{}
	}
	str := func(k string) string {
		var v string
		if json.Unmarshal(fields[k], &v) != nil {
			return ""
		}
		return v
	}
	return handshakeAuth{token: str("token"), userID: str("userId")}
}

// authenticate finds the token in auth.token, an Authorization: Bearer header or a token
// query parameter (where Node servers commonly accept it), and resolves the user.
func (s *Server) authenticate(ctx context.Context, hs *socketio.Handshake) (*identity, error) {
	auth := parseHandshakeAuth(hs.Auth)
	token := handshakeToken(hs, auth)
	if token == "" {
		if userID := auth.userID; s.cfg.AllowUserIDAuth && userID != "" {
			if _, err := s.store.UserByID(ctx, userID); err != nil {
				return nil, authStoreErr(err)
			}
			return &identity{userID: userID}, nil
		}
		return nil, errUnauthorized
	}
	userID, claims, err := s.tokenUser(ctx, token)
	if err != nil {
		return nil, err
	}
	return &identity{userID: userID, expiresAt: claims.ExpiresAt.Time}, nil
}

// tokenUser verifies a token (the one check of every token: handshakes and the HTTP
// routes that take a bearer token) and returns the user it names, creating a user of an
// external identity provider the first time one is seen. A refused token is
// errUnauthorized; a store that cannot answer, its error.
func (s *Server) tokenUser(ctx context.Context, token string) (string, *utils.TokenClaims, error) {
	claims, err := s.tokens.Verify(token)
	if err != nil {
		return "", nil, errUnauthorized
	}
	userID := userIDFor(claims)
	if !s.local.has(userID) {
		// A user with a socket here exists already; only a first socket asks the store.
		if err := s.ensureUser(ctx, userID, claims); err != nil {
			return "", nil, err
		}
	}
	return userID, claims, nil
}

func handshakeToken(hs *socketio.Handshake, auth handshakeAuth) string {
	if t := auth.token; t != "" {
		return strings.TrimPrefix(t, "Bearer ")
	}
	if t := bearerToken(hs.Header); t != "" {
		return t
	}
	return hs.Query.Get("token")
}

// bearerToken is the token of an `Authorization: Bearer <token>` header, or "".
func bearerToken(h http.Header) string {
	if v := h.Get("Authorization"); len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return strings.TrimSpace(v[7:])
	}
	return ""
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

func externalHandle(c *utils.TokenClaims, userID string) string {
	for _, h := range []string{c.Handle, c.PreferredUsername} {
		h = strings.ToLower(strings.TrimSpace(h))
		if utils.ValidHandle(h) {
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
