package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/config"
)

// handlerNode is a Server with a configuration of the test's choosing, driven through its
// HTTP handler without a listener.
func handlerNode(t *testing.T, mutate func(*config.Config)) *Server {
	t.Helper()
	srv, store, _ := newTestServer(t, mutate)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = store.Close()
	})
	return srv
}

type answer struct {
	status int
	header http.Header
	json   map[string]any
}

func call(t *testing.T, h http.Handler, method, path, contentType, body string, headers ...string) answer {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.RemoteAddr = "127.0.0.1:4000"
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	a := answer{status: w.Code, header: w.Header()}
	_ = json.Unmarshal(w.Body.Bytes(), &a.json)
	return a
}

// scrape is what MetricsHandler serves.
func scrape(t *testing.T, srv *Server) string {
	t.Helper()
	w := httptest.NewRecorder()
	srv.MetricsHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("metrics: %d", w.Code)
	}
	return w.Body.String()
}

func reg(handle string) string {
	return `{"handle":"` + handle + `","name":"N","password":"longenough"}`
}

// CORS_ORIGINS refuses state-changing requests from other origins, whatever the body type
// (text/plain and forms need no preflight), and leaves safe methods and origin-less
// requests alone.
func TestHTTPForeignOriginsAreRefused(t *testing.T) {
	srv := handlerNode(t, func(c *config.Config) { c.CORSOrigins = []string{"https://app.example"} })
	h := srv.http.Handler
	for _, ct := range []string{"application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"} {
		for _, path := range []string{"/auth/register", "/auth/login", "/healthz", "/nowhere"} {
			a := call(t, h, http.MethodPost, path, ct, reg("evil1"), "Origin", "http://evil.example")
			if a.status != http.StatusForbidden || a.json["code"] != "FORBIDDEN" || a.json["error"] == "" {
				t.Errorf("POST %s (%s) from a foreign origin: %d %v, want 403 FORBIDDEN", path, ct, a.status, a.json)
			}
			if a.header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("a refused request carries Access-Control-Allow-Origin")
			}
		}
	}
	for _, m := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if a := call(t, h, m, "/auth/register", "application/json", reg("evil2"), "Origin", "null"); a.status != http.StatusForbidden {
			t.Errorf("%s from Origin null: %d", m, a.status)
		}
	}
	if a := call(t, h, http.MethodGet, "/healthz", "", "", "Origin", "http://evil.example"); a.status != http.StatusOK || a.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("GET /healthz from a foreign origin: %d, ACAO %q", a.status, a.header.Get("Access-Control-Allow-Origin"))
	}
	a := call(t, h, http.MethodPost, "/auth/register", "application/json", reg("friend1"), "Origin", "https://app.example")
	if a.status != http.StatusCreated || a.header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Errorf("register from the allowed origin: %d %v", a.status, a.json)
	}
	if a := call(t, h, http.MethodPost, "/auth/register", "application/json", reg("cli1")); a.status != http.StatusCreated {
		t.Errorf("register without an Origin (not a browser): %d %v", a.status, a.json)
	}
	if a := call(t, h, http.MethodOptions, "/auth/register", "", "", "Origin", "https://app.example"); a.status != http.StatusNoContent {
		t.Errorf("preflight from the allowed origin: %d", a.status)
	}
	if m := scrape(t, srv); !strings.Contains(m, "\nparley_http_origin_refused_total 19\n") {
		t.Errorf("want parley_http_origin_refused_total 19 in:\n%.3000s", m)
	}
}

func TestHTTPAuthRoutesAcceptOnlyJSON(t *testing.T) {
	srv := handlerNode(t, func(*config.Config) {})
	h := srv.http.Handler
	for _, ct := range []string{"", "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
		"multipart/form-data; boundary=x", "application/json; charset=latin1", "application/jsonp", "application/json;;"} {
		for _, path := range []string{"/auth/register", "/auth/login"} {
			a := call(t, h, http.MethodPost, path, ct, reg("ct_user"))
			issues, _ := a.json["issues"].([]any)
			if a.status != http.StatusUnsupportedMediaType || a.json["code"] != "VALIDATION_ERROR" || len(issues) != 1 ||
				issues[0].(map[string]any)["path"] != "content-type" {
				t.Errorf("%s with Content-Type %q: %d %v, want 415 VALIDATION_ERROR on content-type", path, ct, a.status, a.json)
			}
		}
	}
	for i, ct := range []string{"application/json", "Application/JSON; charset=UTF-8", "application/json;charset=utf-8"} {
		if a := call(t, h, http.MethodPost, "/auth/register", ct, reg("json_ok"+string(rune('a'+i)))); a.status != http.StatusCreated {
			t.Errorf("Content-Type %q: %d %v, want 201", ct, a.status, a.json)
		}
	}
}

func TestHTTPMetricsOffThePublicPortWithMetricsAddr(t *testing.T) {
	srv := handlerNode(t, func(c *config.Config) { c.MetricsAddr = "127.0.0.1:0" })
	if a := call(t, srv.http.Handler, http.MethodGet, "/metrics", "", ""); a.status != http.StatusNotFound || a.json["code"] != "NOT_FOUND" {
		t.Fatalf("/metrics on the public port with METRICS_ADDR: %d %v, want 404 NOT_FOUND", a.status, a.json)
	}
	if m := scrape(t, srv); !strings.Contains(m, "parley_auth_hash_refused_total") {
		t.Fatalf("MetricsHandler: %.300s", m)
	}
}

// With every hashing slot taken and no queue, register and login (known or unknown
// handle alike) answer 503 UNAVAILABLE with Retry-After at once, and nothing is counted
// against the client: once a slot is free the same requests succeed.
func TestHTTPBusyHashingIs503WithRetryAfter(t *testing.T) {
	srv := handlerNode(t, func(c *config.Config) { c.Auth.HashConcurrency, c.Auth.HashQueue, c.Auth.RegisterBurst = 1, 0, 1 })
	h := srv.http.Handler
	if a := call(t, h, http.MethodPost, "/auth/register", "application/json", reg("owner")); a.status != http.StatusCreated {
		t.Fatalf("register: %d %v", a.status, a.json)
	}
	if _, err := srv.hashes.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{`{"handle":"owner","password":"longenough"}`, `{"handle":"nobody","password":"longenough"}`} {
		start := time.Now()
		a := call(t, h, http.MethodPost, "/auth/login", "application/json", body)
		if a.status != http.StatusServiceUnavailable || a.json["code"] != "UNAVAILABLE" || a.header.Get("Retry-After") != "1" {
			t.Fatalf("login %s while hashing is busy: %d %v Retry-After %q", body, a.status, a.json, a.header.Get("Retry-After"))
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("the 503 took %v", d)
		}
	}
	// A registration from another address (127.0.0.1's one registration went to "owner").
	r := httptest.NewRequest(http.MethodPost, "/auth/register", strings.NewReader(reg("second")))
	r.RemoteAddr, r.Header["Content-Type"] = "192.0.2.1:4000", []string{"application/json"}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("register while busy: %d %s", w.Code, w.Body)
	}
	if m := scrape(t, srv); !strings.Contains(m, "\nparley_auth_hash_refused_total 3\n") {
		t.Errorf("want parley_auth_hash_refused_total 3 in:\n%.3000s", m)
	}
	srv.hashes.Release()
	if a := call(t, h, http.MethodPost, "/auth/login", "application/json", `{"handle":"owner","password":"longenough"}`); a.status != http.StatusOK {
		t.Fatalf("login once a slot is free: %d %v", a.status, a.json)
	}
	r = httptest.NewRequest(http.MethodPost, "/auth/register", strings.NewReader(reg("second")))
	r.RemoteAddr, r.Header["Content-Type"] = "192.0.2.1:4000", []string{"application/json"}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusCreated {
		t.Fatalf("the 503 spent the address's registration: %d %s", w.Code, w.Body)
	}
	if a := call(t, h, http.MethodPost, "/auth/register", "application/json", reg("third")); a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") == "" {
		t.Fatalf("a second registration from 127.0.0.1 with a burst of 1: %d %v", a.status, a.json)
	}
}
