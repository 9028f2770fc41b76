package server

import (
	"net/http"
	"testing"
)

// Failed logins for one handle are limited: after the burst, even the right password is
// refused with 429 and a retry time, while other handles are unaffected.
func TestHTTPLoginFailuresAreLimitedPerHandle(t *testing.T) {
	n := startNode(t)
	for _, h := range []string{"victim", "bystander"} {
		if r := n.post("/auth/register", map[string]any{"handle": h, "name": h, "password": "correct horse"}); r.status != http.StatusCreated {
			t.Fatalf("register %s: %d %s", h, r.status, r.body)
		}
	}
	for i := range loginFailuresBurst {
		if r := n.post("/auth/login", map[string]any{"handle": "victim", "password": "wrong guess"}); r.status != http.StatusUnauthorized {
			t.Fatalf("failed login %d: %d %s", i, r.status, r.body)
		}
	}
	r := n.post("/auth/login", map[string]any{"handle": "VICTIM", "password": "correct horse"})
	if r.status != http.StatusTooManyRequests || r.json["code"] != "RATE_LIMITED" {
		t.Fatalf("login after %d failures: %d %s, want 429 RATE_LIMITED", loginFailuresBurst, r.status, r.body)
	}
	if ms, _ := r.json["retryAfterMs"].(float64); ms <= 0 {
		t.Fatalf("retryAfterMs = %v", r.json["retryAfterMs"])
	}
	if r := n.post("/auth/login", map[string]any{"handle": "bystander", "password": "correct horse"}); r.status != http.StatusOK {
		t.Fatalf("another handle: %d %s", r.status, r.body)
	}
}
