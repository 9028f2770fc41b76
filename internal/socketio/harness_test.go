package socketio

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// startTestServer serves srv (built by build) on a real loopback listener.
func startTestServer(t testing.TB, opts Options, build func(*Server)) (*Server, string) {
	t.Helper()
	srv := NewServer(opts)
	build(srv)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
	})
	return srv, "ws" + strings.TrimPrefix(hs.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
}
