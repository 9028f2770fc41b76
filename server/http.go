package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

// maxAuthBody bounds the JSON body of the auth routes.
const maxAuthBody = 16 << 10

var registerHandleRe = regexp.MustCompile(`^[a-zA-Z0-9_.]{3,32}$`)

// routes builds the HTTP mux: the Socket.IO endpoint, auth, health and metrics.
func (s *Server) routes(socketHandler http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", socketHandler)
	mux.HandleFunc("POST /auth/register", s.handleRegister)
	mux.HandleFunc("POST /auth/login", s.handleLogin)
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
	if !registerHandleRe.MatchString(in.Handle) {
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
	hash, err := utils.HashPassword(in.Password)
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
	handle, now := strings.ToLower(in.Handle), time.Now()
	if wait := s.logins.wait(handle, now); wait > 0 {
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"code": utils.CodeRateLimited,
			"error": "too many failed logins for this handle, retry later", "retryAfterMs": wait.Milliseconds() + 1})
		return
	}
	u, err := s.store.UserByHandle(r.Context(), handle)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		s.httpFailure(w, err)
		return
	}
	if u == nil || u.PasswordHash == "" {
		// Same work and same answer as a wrong password: the response says nothing about
		// which handles exist.
		utils.DummyPasswordCheck(in.Password)
		s.logins.failed(handle, now)
		writeError(w, http.StatusUnauthorized, utils.Errorf(utils.CodeUnauthorized, "wrong handle or password"))
		return
	}
	if !utils.CheckPassword(u.PasswordHash, in.Password) {
		s.logins.failed(handle, now)
		writeError(w, http.StatusUnauthorized, utils.Errorf(utils.CodeUnauthorized, "wrong handle or password"))
		return
	}
	s.writeSession(w, http.StatusOK, u)
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

func writeError(w http.ResponseWriter, status int, err error) {
	appErr, _ := utils.AsAppError(err)
	body := map[string]any{"error": appErr.Message, "code": appErr.Code}
	if len(appErr.Issues) > 0 {
		body["issues"] = appErr.Issues
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
