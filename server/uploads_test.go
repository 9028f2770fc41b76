package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/models"
)

// pngHeader is the start of every PNG file: enough for DetectContentType.
var pngHeader = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

type uploadReply struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

// send runs one request through the node's handler.
func send(t *testing.T, srv *Server, method, target string, body io.Reader, headers ...string) uploadReply {
	t.Helper()
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = "127.0.0.1:4000"
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	if rd, ok := body.(*onlyReader); ok && rd != nil {
		r.ContentLength = -1 // a body of unknown length (chunked)
	}
	w := httptest.NewRecorder()
	srv.http.Handler.ServeHTTP(w, r)
	rep := uploadReply{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
	_ = json.Unmarshal(w.Body.Bytes(), &rep.json)
	return rep
}

// onlyReader hides the type of a reader, so the request's length is unknown.
type onlyReader struct{ io.Reader }

// newUploader stores a user and returns it with a bearer header value.
func newUploader(t *testing.T, srv *Server, handle string) (string, string) {
	t.Helper()
	now := time.Now().UTC()
	u := &models.User{ID: models.NewID(), Handle: handle, Name: handle, CreatedAt: now, UpdatedAt: now}
	if err := srv.store.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	tok, _, err := srv.tokens.Issue(u.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID, "Bearer " + tok
}

func attachmentOf(t *testing.T, rep uploadReply) map[string]any {
	t.Helper()
	if rep.status != http.StatusCreated {
		t.Fatalf("upload: %d %s", rep.status, rep.body)
	}
	a, ok := rep.json["attachment"].(map[string]any)
	if !ok {
		t.Fatalf("upload answer without attachment: %s", rep.body)
	}
	return a
}

func TestUploadRefusals(t *testing.T) {
	srv := handlerNode(t, func(c *config.Config) { c.Uploads.MaxBytes = 1000 })
	_, auth := newUploader(t, srv, "alice")
	for _, c := range []struct {
		what    string
		body    io.Reader
		headers []string
		status  int
		code    string
	}{
		{"no token", bytes.NewReader(pngHeader), nil, 401, "UNAUTHORIZED"},
		{"a bad token", bytes.NewReader(pngHeader), []string{"Authorization", "Bearer nope"}, 401, "UNAUTHORIZED"},
		{"an empty body", bytes.NewReader(nil), []string{"Authorization", auth}, 400, "VALIDATION_ERROR"},
		{"a form", strings.NewReader("--x\r\n"), []string{"Authorization", auth, "Content-Type", "multipart/form-data; boundary=x"}, 415, "VALIDATION_ERROR"},
		{"a declared length over the limit", bytes.NewReader(make([]byte, 1001)), []string{"Authorization", auth}, 413, "PAYLOAD_TOO_LARGE"},
		{"a streamed body over the limit", &onlyReader{bytes.NewReader(make([]byte, 1001))}, []string{"Authorization", auth}, 413, "PAYLOAD_TOO_LARGE"},
		{"a streamed body over the limit in its first bytes", &onlyReader{bytes.NewReader(make([]byte, 5000))}, []string{"Authorization", auth}, 413, "PAYLOAD_TOO_LARGE"},
	} {
		rep := send(t, srv, "POST", "/uploads", c.body, c.headers...)
		if rep.status != c.status || rep.json["code"] != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.what, rep.status, rep.body, c.status, c.code)
		}
	}
	// Exactly the limit is fine, streamed or not.
	attachmentOf(t, send(t, srv, "POST", "/uploads", bytes.NewReader(make([]byte, 1000)), "Authorization", auth))
	attachmentOf(t, send(t, srv, "POST", "/uploads", &onlyReader{bytes.NewReader(make([]byte, 1000))}, "Authorization", auth))
	n, err := srv.store.SweepAttachments(t.Context(), time.Now().Add(time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("uploads stored: %d (%v), want the 2 accepted ones only", n, err)
	}
}

func TestUploadAndServe(t *testing.T) {
	srv := handlerNode(t, func(*config.Config) {})
	_, auth := newUploader(t, srv, "alice")
	_, other := newUploader(t, srv, "bob")
	png := append(append([]byte{}, pngHeader...), bytes.Repeat([]byte{7}, 2000)...)
	a := attachmentOf(t, send(t, srv, "POST", "/uploads?name="+url.QueryEscape("dir/cat\u202e.png"), bytes.NewReader(png),
		"Authorization", auth, "Content-Type", "text/plain", "X-Filename", "ignored.txt"))
	if a["name"] != "cat.png" || a["contentType"] != "image/png" || a["size"] != float64(len(png)) {
		t.Fatalf("attachment %v: want the sanitised query name, the sniffed type and the size", a)
	}
	id := a["id"].(string)
	link := a["url"].(string)
	if !strings.HasPrefix(link, "/uploads/"+id+"?exp=") {
		t.Fatalf("url %q", link)
	}
	for what, headers := range map[string][]string{"the uploader's token": {"Authorization", auth}, "the signed url": nil} {
		target := "/uploads/" + id
		if headers == nil {
			target = link
		}
		rep := send(t, srv, "GET", target, nil, headers...)
		if rep.status != 200 || !bytes.Equal(rep.body, png) {
			t.Fatalf("%s: %d, %d bytes", what, rep.status, len(rep.body))
		}
		for k, want := range map[string]string{
			"Content-Type": "image/png", "X-Content-Type-Options": "nosniff",
			"Content-Disposition": `inline; filename="cat.png"; filename*=UTF-8''cat.png`,
			"Content-Length":      strconv.Itoa(len(png)), "Content-Security-Policy": "default-src 'none'; sandbox",
		} {
			if got := rep.header.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", what, k, got, want)
			}
		}
	}
	head := send(t, srv, "HEAD", "/uploads/"+id, nil, "Authorization", auth)
	if head.status != 200 || len(head.body) != 0 || head.header.Get("Content-Length") != strconv.Itoa(len(png)) {
		t.Errorf("HEAD: %d %q %v", head.status, head.body, head.header)
	}
	// The X-Filename header (percent-encoded UTF-8) names an upload without ?name=.
	h := attachmentOf(t, send(t, srv, "POST", "/uploads", strings.NewReader("<!DOCTYPE html><p>hi"),
		"Authorization", auth, "Content-Type", "image/png", "X-Filename", "Gr%C3%B6%C3%9Fe.html"))
	if h["name"] != "Größe.html" || h["contentType"] != "text/html; charset=utf-8" {
		t.Fatalf("html upload: %v", h)
	}
	rep := send(t, srv, "GET", "/uploads/"+h["id"].(string), nil, "Authorization", auth)
	if cd := rep.header.Get("Content-Disposition"); cd != `attachment; filename="Gr__e.html"; filename*=UTF-8''Gr%C3%B6%C3%9Fe.html` {
		t.Errorf("html served with Content-Disposition %q", cd)
	}

	// Refusals: the same 404 for an outsider, a missing id, a malformed id, a forged or
	// moved signature; 401 without any credential or with a bad token.
	q, _ := url.ParseQuery(strings.SplitN(link, "?", 2)[1])
	notFound := []struct{ target, auth string }{
		{"/uploads/" + id, other},
		{"/uploads/" + models.NewID(), auth},
		{"/uploads/xyz", auth},
		{"/uploads/" + id + "?exp=" + q.Get("exp") + "&sig=" + strings.Repeat("A", 43), ""},
		{"/uploads/" + h["id"].(string) + "?exp=" + q.Get("exp") + "&sig=" + q.Get("sig"), ""},
		{"/uploads/" + id + "?exp=1&sig=" + q.Get("sig"), ""},
	}
	var first []byte
	for _, c := range notFound {
		rep := send(t, srv, "GET", c.target, nil, "Authorization", c.auth)
		if rep.status != 404 {
			t.Errorf("GET %s: %d %s, want 404", c.target, rep.status, rep.body)
		}
		if first == nil {
			first = rep.body
		} else if !bytes.Equal(rep.body, first) {
			t.Errorf("GET %s: body %s differs from %s", c.target, rep.body, first)
		}
	}
	for _, a := range []string{"", "Bearer nope"} {
		if rep := send(t, srv, "GET", "/uploads/"+id, nil, "Authorization", a); rep.status != 401 {
			t.Errorf("GET with Authorization %q: %d, want 401", a, rep.status)
		}
	}
}

func TestUploadRateLimitAndOrigin(t *testing.T) {
	srv := handlerNode(t, func(c *config.Config) {
		c.Events.Uploads = config.RateClass{PerSec: 0.001, Burst: 2}
		c.CORSOrigins = []string{"https://app.example"}
	})
	_, auth := newUploader(t, srv, "alice")
	if rep := send(t, srv, "POST", "/uploads", bytes.NewReader(pngHeader), "Authorization", auth, "Origin", "https://evil.example"); rep.status != 403 {
		t.Fatalf("a foreign Origin: %d %s", rep.status, rep.body)
	}
	for range 2 {
		attachmentOf(t, send(t, srv, "POST", "/uploads", bytes.NewReader(pngHeader), "Authorization", auth, "Origin", "https://app.example"))
	}
	rep := send(t, srv, "POST", "/uploads", bytes.NewReader(pngHeader), "Authorization", auth)
	if rep.status != 429 || rep.json["code"] != "RATE_LIMITED" || rep.header.Get("Retry-After") == "" {
		t.Fatalf("third upload: %d %v %s", rep.status, rep.header, rep.body)
	}
	pre := send(t, srv, "OPTIONS", "/uploads", nil, "Origin", "https://app.example", "Access-Control-Request-Headers", "authorization, x-filename")
	if !strings.Contains(pre.header.Get("Access-Control-Allow-Headers"), "X-Filename") {
		t.Errorf("preflight allows headers %q", pre.header.Get("Access-Control-Allow-Headers"))
	}
}

func TestUploadSweepInterval(t *testing.T) {
	for ttl, want := range map[time.Duration]time.Duration{
		24 * time.Hour: 10 * time.Minute, time.Hour: 10 * time.Minute, 20 * time.Minute: 5 * time.Minute,
		2 * time.Second: 500 * time.Millisecond, time.Second: 250 * time.Millisecond,
	} {
		if got := uploadSweepEvery(ttl); got != want {
			t.Errorf("uploadSweepEvery(%v) = %v, want %v", ttl, got, want)
		}
	}
}
