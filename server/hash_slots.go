package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/parley-chat/parley/utils"
)

// Password hashing is the one costly thing an unauthenticated client can ask for: one
// argon2id check is ~19 MiB and ~30 ms of a core. Every hash — registration, login, and the
// dummy check for an unknown handle, so that it costs the same — runs in one of
// AUTH_HASH_CONCURRENCY slots; AUTH_HASH_QUEUE more requests may wait, each at most
// hashMaxWait; the rest are answered 503 at once.
const (
	hashMaxWait    = 2 * time.Second
	hashRetryAfter = time.Second
)

// withHashSlot runs fn in a hashing slot. When none is free in time it answers
// 503 UNAVAILABLE with Retry-After itself and returns false without running fn.
func (s *Server) withHashSlot(w http.ResponseWriter, r *http.Request, fn func()) bool {
	waited, err := s.hashes.Acquire(r.Context())
	if err != nil {
		if errors.Is(err, utils.ErrBusy) {
			s.metrics.auth.hashRefused.Inc()
		}
		writeError(w, http.StatusServiceUnavailable, &utils.AppError{Code: utils.CodeUnavailable,
			Message: "the server is busy checking passwords, retry shortly", RetryAfterMs: hashRetryAfter.Milliseconds()})
		return false
	}
	defer s.hashes.Release()
	s.metrics.auth.hashWait.Observe(waited.Seconds())
	fn()
	return true
}
