package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/models/sqlite"
	"github.com/parley-chat/parley/utils"
)

const testSecret = "server-test-secret-0123456789abcdef"

type testNode struct {
	t      *testing.T
	srv    *Server
	store  *sqlite.Store
	tokens *utils.Tokens
	base   string
	served chan error
	closed bool
}

// newTestServer builds a server on a real SQLite file of the test's own, with the default
// configuration changed by mutate.
func newTestServer(t *testing.T, mutate func(*config.Config)) (*Server, *sqlite.Store, *utils.Tokens) {
	t.Helper()
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.SQLitePath = filepath.Join(t.TempDir(), "parley.db")
	cfg.JWTSecret = testSecret
	mutate(&cfg)
	store, err := sqlite.Open(context.Background(), cfg.SQLitePath, sqlite.Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := utils.NewTokens([]byte(testSecret), "", "", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(cfg, store, tokens, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return srv, store, tokens
}

// startNode builds a server on a real SQLite file and serves it on a free loopback port.
func startNode(t *testing.T) *testNode {
	t.Helper()
	srv, store, tokens := newTestServer(t, func(cfg *config.Config) { cfg.Host, cfg.Port = "127.0.0.1", 0 })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n := &testNode{t: t, srv: srv, store: store, tokens: tokens, base: "http://" + l.Addr().String(), served: make(chan error, 1)}
	go func() { n.served <- srv.Serve(l) }()
	t.Cleanup(func() {
		n.shutdown()
		_ = store.Close()
	})
	return n
}

// shutdown stops the node and returns how long it took.
func (n *testNode) shutdown() time.Duration {
	n.t.Helper()
	if n.closed {
		return 0
	}
	n.closed = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := n.srv.Shutdown(ctx); err != nil {
		n.t.Errorf("Shutdown: %v", err)
	}
	took := time.Since(start)
	select {
	case err := <-n.served:
		if err != nil {
			n.t.Errorf("Serve returned %v", err)
		}
	case <-time.After(5 * time.Second):
		n.t.Error("Serve did not return after Shutdown")
	}
	return took
}

type reply struct {
	status int
	body   []byte
	json   map[string]any
}

func (n *testNode) do(method, path string, body io.Reader) reply {
	n.t.Helper()
	req, err := http.NewRequest(method, n.base+path, body)
	if err != nil {
		n.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		n.t.Fatal(err)
	}
	r := reply{status: resp.StatusCode, body: b}
	_ = json.Unmarshal(b, &r.json)
	return r
}

func (n *testNode) post(path string, v any) reply {
	n.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		n.t.Fatal(err)
	}
	return n.do(http.MethodPost, path, bytes.NewReader(b))
}

func TestHTTPRegisterAndLogin(t *testing.T) {
	n := startNode(t)
	r := n.post("/auth/register", map[string]any{"handle": "Ada_L.x", "name": " Ada ", "password": "longenough"})
	if r.status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	user, _ := r.json["user"].(map[string]any)
	if user["handle"] != "ada_l.x" || user["name"] != "Ada" || user["image"] != nil || user["online"] != false {
		t.Fatalf("registered user %v", user)
	}
	claims, err := n.tokens.Verify(r.json["token"].(string))
	if err != nil || claims.Subject != user["id"] {
		t.Fatalf("the register token does not verify for the user: %v %v", claims, err)
	}
	// The same handle in another case is taken.
	if r := n.post("/auth/register", map[string]any{"handle": "ADA_L.X", "name": "Other", "password": "longenough"}); r.status != http.StatusConflict || r.json["code"] != "CONFLICT" {
		t.Fatalf("duplicate handle: %d %s", r.status, r.body)
	}
	for _, bad := range []map[string]any{
		{"handle": "bob", "name": "Bob", "password": "short"},
		{"handle": "bo", "name": "Bob", "password": "longenough"},
		{"handle": "bob!", "name": "Bob", "password": "longenough"},
		{"handle": "bob", "name": "", "password": "longenough"},
		{"handle": "bob", "name": "Bob", "password": "longenough", "admin": true},
		{"handle": map[string]any{"$ne": nil}, "name": "Bob", "password": "longenough"},
	} {
		r := n.post("/auth/register", bad)
		if r.status != http.StatusBadRequest || r.json["code"] != "VALIDATION_ERROR" || r.json["error"] == "" {
			t.Errorf("register %v: %d %s, want 400 VALIDATION_ERROR", bad, r.status, r.body)
		}
	}
	r = n.post("/auth/register", map[string]any{"handle": "bob", "name": "Bob", "password": "short"})
	issues, _ := r.json["issues"].([]any)
	if len(issues) != 1 || issues[0].(map[string]any)["path"] != "password" {
		t.Fatalf("short password issues %v", r.json)
	}

	// Login, in any case of the handle.
	r = n.post("/auth/login", map[string]any{"handle": "ADA_l.x", "password": "longenough"})
	if r.status != http.StatusOK || r.json["user"].(map[string]any)["id"] != user["id"] {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	if c, err := n.tokens.Verify(r.json["token"].(string)); err != nil || c.Subject != user["id"] {
		t.Fatalf("login token: %v %v", c, err)
	}
	wrong := n.post("/auth/login", map[string]any{"handle": "ada_l.x", "password": "wrongpassword"})
	unknown := n.post("/auth/login", map[string]any{"handle": "nobody", "password": "wrongpassword"})
	if wrong.status != http.StatusUnauthorized || unknown.status != http.StatusUnauthorized {
		t.Fatalf("wrong password %d, unknown handle %d, want 401 both", wrong.status, unknown.status)
	}
	if !bytes.Equal(wrong.body, unknown.body) {
		t.Fatalf("the 401 bodies differ:\n%s\n%s", wrong.body, unknown.body)
	}
	if wrong.json["code"] != "UNAUTHORIZED" {
		t.Fatalf("401 body %s", wrong.body)
	}
	if r := n.post("/auth/login", map[string]any{"handle": "ada_l.x"}); r.status != http.StatusBadRequest {
		t.Fatalf("login without a password: %d %s", r.status, r.body)
	}
}

// PROTOCOL.md: "password ≥ 8 characters". Four two-byte characters are eight bytes but
// four characters.
func TestHTTPRegisterCountsPasswordCharacters(t *testing.T) {
	n := startNode(t)
	r := n.post("/auth/register", map[string]any{"handle": "cid", "name": "Cid", "password": "éééé"})
	if r.status != http.StatusBadRequest || r.json["code"] != "VALIDATION_ERROR" {
		t.Fatalf("a 4-character (8-byte) password: %d %s, want 400 VALIDATION_ERROR", r.status, r.body)
	}
	if r := n.post("/auth/register", map[string]any{"handle": "dan", "name": "Dan", "password": "éééééééé"}); r.status != http.StatusCreated {
		t.Fatalf("an 8-character password: %d %s, want 201", r.status, r.body)
	}
}

func TestHTTPOversizedBodyIs413(t *testing.T) {
	n := startNode(t)
	big := `{"handle":"bob","name":"` + strings.Repeat("x", 32<<10) + `","password":"longenough"}`
	for _, path := range []string{"/auth/register", "/auth/login"} {
		r := n.do(http.MethodPost, path, strings.NewReader(big))
		if r.status != http.StatusRequestEntityTooLarge || r.json["code"] != "PAYLOAD_TOO_LARGE" {
			t.Errorf("%s with a 32 KiB body: %d %s", path, r.status, r.body)
		}
	}
}

func TestHTTPHealthReadinessAndMetrics(t *testing.T) {
	n := startNode(t)
	if r := n.do(http.MethodGet, "/healthz", nil); r.status != http.StatusOK {
		t.Fatalf("/healthz: %d %s", r.status, r.body)
	}
	if r := n.do(http.MethodGet, "/readyz", nil); r.status != http.StatusOK {
		t.Fatalf("/readyz: %d %s", r.status, r.body)
	}
	r := n.do(http.MethodGet, "/metrics", nil)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "parley_connected_sockets") {
		t.Fatalf("/metrics: %d %.300s", r.status, r.body)
	}
	// The events counter appears once an event was counted (a CounterVec has no series
	// before); count one the way the dispatch wrapper does.
	n.srv.metrics.observe("user:me", "OK", time.Millisecond)
	r = n.do(http.MethodGet, "/metrics", nil)
	if !strings.Contains(string(r.body), "# TYPE parley_events_total counter") || !strings.Contains(string(r.body), `parley_events_total{code="OK",event="user:me"} 1`) {
		t.Fatalf("/metrics lacks parley_events_total: %.2000s", r.body)
	}
	// The store goes away: not ready, naming it; still alive.
	if err := n.store.Close(); err != nil {
		t.Fatal(err)
	}
	r = n.do(http.MethodGet, "/readyz", nil)
	if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "sqlite") || r.json["code"] != "UNAVAILABLE" {
		t.Fatalf("/readyz with the store closed: %d %s", r.status, r.body)
	}
	if failing, _ := r.json["failing"].([]any); len(failing) != 1 || failing[0] != "sqlite" {
		t.Fatalf("failing = %v", r.json["failing"])
	}
	if r := n.do(http.MethodGet, "/healthz", nil); r.status != http.StatusOK {
		t.Fatalf("/healthz with the store closed: %d", r.status)
	}
	// A write while the store is closed answers 503 UNAVAILABLE, not 500.
	if r := n.post("/auth/register", map[string]any{"handle": "late", "name": "Late", "password": "longenough"}); r.status != http.StatusServiceUnavailable || r.json["code"] != "UNAVAILABLE" {
		t.Fatalf("register with the store closed: %d %s", r.status, r.body)
	}
}

func TestHTTPShutdownIsPrompt(t *testing.T) {
	n := startNode(t)
	// An idle keep-alive connection must not hold the shutdown up.
	if r := n.do(http.MethodGet, "/healthz", nil); r.status != http.StatusOK {
		t.Fatal(r.status)
	}
	if took := n.shutdown(); took > 2*time.Second {
		t.Fatalf("Shutdown took %v", took)
	}
	if _, err := http.Get(n.base + "/healthz"); err == nil {
		t.Fatal("the server still answers after Shutdown")
	}
}
