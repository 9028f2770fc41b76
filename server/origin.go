package server

import (
	"net/http"
	"strings"

	"github.com/parley-chat/parley/utils"
)

// cors lets browser apps on the allowed origins call the HTTP routes, and refuses with 403
// every state-changing request from any other origin: a page elsewhere can send a
// text/plain or form POST without a preflight, so leaving the response unreadable is not
// enough (the request itself would register an account). The Socket.IO endpoint has its
// own CORS handling and origin check in the engine.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/socket.io/") {
			next.ServeHTTP(w, r)
			return
		}
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r) // not a browser's cross-origin request
			return
		}
		if !s.originAllowed(origin) {
			if !safeMethod(r.Method) {
				s.metrics.auth.origin.Inc()
				writeError(w, http.StatusForbidden, utils.Forbidden("requests from this origin are not allowed (CORS_ORIGINS)"))
				return
			}
			next.ServeHTTP(w, r) // a GET (health, readiness) changes nothing; no CORS headers
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Vary", "Origin")
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Set("Access-Control-Expose-Headers", "Content-Disposition, Retry-After")
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type, Authorization, X-Filename")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// safeMethod: methods that change nothing (RFC 9110 §9.2.1).
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// originAllowed: with no CORS_ORIGINS configured every origin is allowed (development);
// otherwise only the listed ones.
func (s *Server) originAllowed(origin string) bool {
	if len(s.cfg.CORSOrigins) == 0 {
		return true
	}
	origin = strings.TrimRight(origin, "/")
	for _, o := range s.cfg.CORSOrigins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}
