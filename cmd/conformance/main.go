// Command conformance serves Parley's Engine.IO / Socket.IO engine on :3000 configured
// exactly as the official protocol test suites expect, with their echo handlers:
//
//	go run ./cmd/conformance socketio   # for socketio/socket.io-protocol's test-suite
//	go run ./cmd/conformance engineio   # for socketio/engine.io-protocol's test-suite
//
// pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1e6, connectTimeout 1000 ms, any
// origin; Socket.IO adds the namespace /custom. PORT overrides the port.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/socketio"
)

func main() {
	if len(os.Args) != 2 || (os.Args[1] != "socketio" && os.Args[1] != "engineio") {
		fmt.Fprintln(os.Stderr, "usage: conformance socketio|engineio")
		os.Exit(2)
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	eopts := engineio.Options{
		PingInterval: 300 * time.Millisecond,
		PingTimeout:  200 * time.Millisecond,
		MaxPayload:   1_000_000,
	}
	mux := http.NewServeMux()
	if os.Args[1] == "engineio" {
		eopts.OnConnection = func(c *engineio.Conn) { c.SetHandler(echo{c}) }
		mux.Handle("/engine.io/", engineio.NewServer(eopts))
	} else {
		srv := socketio.NewServer(socketio.Options{Engine: eopts, ConnectTimeout: time.Second})
		srv.Namespace("/", socketio.Handlers{
			Connected: sendAuth,
			Event: func(s *socketio.Socket, e *socketio.Event) {
				switch e.Name {
				case "message":
					s.Emit("message-back", e.Args, e.Attachments)
				case "message-with-ack":
					e.Ack(e.Args, e.Attachments)
				}
			},
		})
		srv.Namespace("/custom", socketio.Handlers{Connected: sendAuth})
		mux.Handle("/socket.io/", srv)
	}
	log.Printf("conformance %s server on :%s", os.Args[1], port)
	log.Fatal(http.ListenAndServe(":"+port, mux))
}

// sendAuth emits the handshake's auth object back, as the suites' reference server does.
func sendAuth(s *socketio.Socket) {
	s.Emit("auth", [][]byte{s.Handshake().Auth}, nil)
}

// echo sends every Engine.IO message back as it came.
type echo struct{ c *engineio.Conn }

func (e echo) OnMessage(data []byte, binary bool) {
	if binary {
		e.c.Send(engineio.BinaryPacket(data))
		return
	}
	b := engineio.NewMessageBuffer(len(data))
	e.c.Send(engineio.MessagePacket(append(b, data...)))
}

func (echo) OnClose(string) {}
