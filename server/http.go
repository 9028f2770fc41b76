package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

// maxAuthBody bounds the JSON body of the auth routes.
const maxAuthBody = 16 << 10

// routes builds the HTTP mux: the Socket.IO endpoint, auth, uploads, health and metrics.
func (s *Server) routes(socketHandler http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", socketHandler)
	mux.HandleFunc("POST /auth/register", s.handleRegister)
	mux.HandleFunc("POST /auth/login", s.handleLogin)
	mux.HandleFunc("POST /uploads", s.handleUpload)
	mux.HandleFunc("GET /uploads/{id}", s.handleUploadGet) // HEAD too
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.handleReady)
	if s.cfg.MetricsAddr == "" {
		mux.Handle("GET /metrics", s.MetricsHandler())
	} else {
		// METRICS_ADDR serves them on their own listener, off the public port.
		mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
			writeError(w, http.StatusNotFound, utils.NotFound("/metrics"))
		})
	}
	return s.cors(mux)
}

// MetricsHandler serves the node's Prometheus metrics (for METRICS_ADDR's listener).
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})
}

type credentials struct {
	Handle   string `json:"handle"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	var in credentials
	if !s.readJSON(w, r, &in) {
		return
	}
	if !utils.ValidHandle(in.Handle) {
		writeError(w, http.StatusBadRequest, utils.Invalid("handle", "must be 3 to 32 of a-z A-Z 0-9 _ ."))
		return
	}
	if err := utils.DisplayName("name", &in.Name); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if n := utf8.RuneCountInString(in.Password); n < 8 || len(in.Password) > 256 {
		writeError(w, http.StatusBadRequest, utils.Invalid("password", "must be 8 to 256 characters"))
		return
	}
	// Counted before the hash: a taken handle (409) costs a hash too.
	refused, undo := s.logins.register(limitKey(s.addrs.of(r)), time.Now())
	if refused > 0 {
		s.rateLimited(w, refused, limitRegister, "too many registrations from this address, retry later")
		return
	}
	var hash string
	var err error
	if !s.withHashSlot(w, r, func() { hash, err = utils.HashPassword(in.Password) }) {
		undo()
		return
	}
	if err != nil {
		s.httpFailure(w, err)
		return
	}
	now := time.Now().UTC()
	u := &models.User{ID: models.NewID(), Handle: strings.ToLower(in.Handle), Name: in.Name,
		PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateUser(r.Context(), u); errors.Is(err, models.ErrConflict) {
		writeError(w, http.StatusConflict, utils.Errorf(utils.CodeConflict, "that handle is taken"))
		return
	} else if err != nil {
		s.httpFailure(w, err)
		return
	}
	s.writeSession(w, http.StatusCreated, u)
}

// loginRefusal is the 429 message for the limit that refused a login.
func loginRefusal(limit string) string {
	switch limit {
	case limitAddress:
		return "too many failed logins from this address, retry later"
	case limitPair:
		return "too many failed logins for this handle from this address, retry later"
	default:
		return "too many failed logins for this handle, retry later"
	}
}

// handleLogin checks a password. Every step depends only on the handle string and the
// client address, never on whether the handle exists: a wrong handle and a wrong password
// get the same status, body and time (the same hash work in the same slots).
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Handle   string `json:"handle"`
		Password string `json:"password"`
	}
	if !s.readJSON(w, r, &in) {
		return
	}
	if in.Handle == "" || in.Password == "" || len(in.Password) > 256 {
		writeError(w, http.StatusBadRequest, utils.Invalid("handle", "handle and password are required"))
		return
	}
	handle := strings.ToLower(in.Handle)
	attempt, v := s.logins.begin(limitKey(s.addrs.of(r)), handle, time.Now())
	if v.refused > 0 {
		s.rateLimited(w, v.refused, v.limit, loginRefusal(v.limit))
		return
	}
	if v.slow {
		s.metrics.auth.slowed.Inc()
		if !sleepCtx(r.Context(), handleUnderAttackDelay) {
			attempt.giveBack(time.Now())
			return // the client went away
		}
	}
	// The store is asked outside the hashing slot: a slow store must not hold one.
	u, err := s.store.UserByHandle(r.Context(), handle)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		attempt.giveBack(time.Now())
		s.httpFailure(w, err)
		return
	}
	ok := false
	if !s.withHashSlot(w, r, func() {
		if u == nil || u.PasswordHash == "" {
			utils.DummyPasswordCheck(in.Password)
		} else {
			ok = utils.CheckPassword(u.PasswordHash, in.Password)
		}
	}) {
		attempt.giveBack(time.Now())
		return
	}
	if !ok {
		// The tokens the attempt took stay taken: this is the failure the limits count.
		writeError(w, http.StatusUnauthorized, utils.Errorf(utils.CodeUnauthorized, "wrong handle or password"))
		return
	}
	attempt.giveBack(time.Now())
	s.writeSession(w, http.StatusOK, u)
}

// rateLimited answers 429 RATE_LIMITED with retryAfterMs and a Retry-After header.
func (s *Server) rateLimited(w http.ResponseWriter, wait time.Duration, limit, msg string) {
	s.metrics.auth.limited.WithLabelValues(limit).Inc()
	writeError(w, http.StatusTooManyRequests, retryLater(utils.CodeRateLimited, msg, wait))
}

// retryLater is an error that tells the client when to retry (retryAfterMs rounds up).
func retryLater(code, msg string, wait time.Duration) *utils.AppError {
	return &utils.AppError{Code: code, Message: msg, RetryAfterMs: wait.Milliseconds() + 1}
}

// setRetryAfter sets Retry-After in whole seconds, rounded up (at least 1).
func setRetryAfter(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.FormatInt(max(1, int64(math.Ceil(wait.Seconds()))), 10))
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *Server) writeSession(w http.ResponseWriter, status int, u *models.User) {
	token, exp, err := s.tokens.Issue(u.ID, time.Now())
	if err != nil {
		s.httpFailure(w, err)
		return
	}
	user := models.UserView{ID: u.ID, Handle: u.Handle, Name: u.Name, Image: u.Image,
		Online: s.presence.IsOnline(u.ID), LastSeen: models.FormatTimePtr(u.LastSeen)}
	writeJSON(w, status, map[string]any{"token": token, "expiresAt": models.FormatTime(exp), "user": user})
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var failing []string
	if err := s.store.Ping(ctx); err != nil {
		failing = append(failing, s.store.Name())
	}
	for _, check := range s.readinessChecks {
		if err := check.ping(ctx); err != nil {
			failing = append(failing, check.name)
		}
	}
	if len(failing) > 0 {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "failing": failing,
			"code": utils.CodeUnavailable, "error": strings.Join(failing, ", ") + " not answering"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
}

// readJSON decodes a bounded JSON body strictly, answering 415, 400 or 413 itself on
// failure. Only application/json is read: text/plain and form bodies are what a page on
// another origin can send without a preflight.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, dst any) bool {
	if !isJSONContentType(r.Header.Get("Content-Type")) {
		writeError(w, http.StatusUnsupportedMediaType, utils.Invalid("content-type", "must be application/json"))
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAuthBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeError(w, http.StatusRequestEntityTooLarge, utils.Errorf(utils.CodeTooLarge, "the body is larger than %d bytes", maxAuthBody))
		return false
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, utils.Invalid("body", "could not be read"))
		return false
	}
	if err := utils.DecodeStrict(body, dst); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return false
	}
	return true
}

// isJSONContentType accepts application/json, with no charset or utf-8.
func isJSONContentType(v string) bool {
	mt, params, err := mime.ParseMediaType(v)
	if err != nil || mt != "application/json" {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8")
}

func (s *Server) httpFailure(w http.ResponseWriter, err error) {
	appErr, internal := utils.AsAppError(err)
	if internal {
		s.log.Error().Err(err).Msg("http request failed")
	}
	status := http.StatusInternalServerError
	if appErr.Code == utils.CodeUnavailable {
		status = http.StatusServiceUnavailable
	}
	writeError(w, status, appErr)
}

// writeError answers {error, code} (with issues, and with retryAfterMs and a Retry-After
// header when the error says when to retry), as an event's error ack does.
func writeError(w http.ResponseWriter, status int, err error) {
	appErr, _ := utils.AsAppError(err)
	body := map[string]any{"error": appErr.Message, "code": appErr.Code}
	if len(appErr.Issues) > 0 {
		body["issues"] = appErr.Issues
	}
	if appErr.RetryAfterMs > 0 {
		setRetryAfter(w, time.Duration(appErr.RetryAfterMs)*time.Millisecond)
		body["retryAfterMs"] = appErr.RetryAfterMs
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
