// Command fanout is the Go side of the fan-out benchmark in scripts/bench.sh, on Parley's
// engine: every socket joins room "r" on connection, and each "m" event a socket sends is
// broadcast with the same payload to "r" (the sender included). It is the twin of
// bench/node-fanout-server.js. Env: PORT (3000), HOST (127.0.0.1). GET /healthz answers
// 200; with PPROF=1, /debug/pprof/ is served too.
package main

import (
	"context"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof" // served only with PPROF=1 (DefaultServeMux)
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/parley-chat/parley/internal/socketio"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	host := os.Getenv("HOST")
	if host == "" {
		host = "127.0.0.1"
	}
	io := socketio.NewServer(socketio.Options{})
	room := socketio.BroadcastOptions{Rooms: []string{"r"}}
	var ns *socketio.Namespace
	ns = io.Namespace("/", socketio.Handlers{
		Connected: func(s *socketio.Socket) { s.Join("r") },
		Event: func(_ *socketio.Socket, e *socketio.Event) {
			if e.Name == "m" {
				ns.Broadcast(room, ns.Encode("m", e.Args, e.Attachments))
			}
		},
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	if os.Getenv("PPROF") == "1" {
		mux.Handle("/debug/pprof/", http.DefaultServeMux)
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		io.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	log.Printf("listening %s", l.Addr())
	if err := srv.Serve(l); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
