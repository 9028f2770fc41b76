package socketio

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// BenchmarkBroadcast encodes one event and broadcasts it to 1,000 sockets on real
// loopback WebSockets, waiting until every client has read every frame. Allocations per
// broadcast stay the same whatever the payload size: the packet and its frame are built
// once and each recipient gets a pointer in its queue.
func BenchmarkBroadcast(b *testing.B) {
	sockets := benchSockets
	for _, size := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("recipients=%d/payload=%dB", sockets, size), func(b *testing.B) {
			var ns *Namespace
			var connected sync.WaitGroup
			connected.Add(sockets)
			// The clients read as fast as they can, but 1,000 of them on two cores fall
			// behind the server for a while: no slow-consumer drops in a benchmark.
			opts := Options{}
			opts.Engine.MaxQueueBytes = 1 << 30
			_, url := startTestServer(b, opts, func(s *Server) {
				ns = s.Namespace("/", Handlers{Connected: func(sock *Socket) {
					sock.Join("room")
					connected.Done()
				}})
			})
			var frames atomic.Int64
			for i := 0; i < sockets; i++ {
				dialCounting(b, url, &frames)
			}
			connected.Wait()
			payload := []byte(`{"text":"` + strings.Repeat("x", size) + `"}`)
			room := BroadcastOptions{Rooms: []string{"room"}}
			// CONNECT frames counted so far are not part of the measurement.
			waitFrames(b, &frames, int64(sockets))
			frames.Store(0)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ns.Broadcast(room, ns.Encode("message:new", [][]byte{payload}, nil))
			}
			waitFrames(b, &frames, int64(b.N*sockets))
			b.StopTimer()
			b.ReportMetric(float64(b.N*sockets)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

// dialCounting connects a client that counts the frames it reads, without allocating.
func dialCounting(b *testing.B, url string, frames *atomic.Int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dial(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	var r io.Reader = conn
	if br != nil {
		r = io.MultiReader(br, conn)
	}
	if _, _, err := wsutil.ReadServerData(struct {
		io.Reader
		io.Writer
	}{r, conn}); err != nil { // the open packet
		b.Fatal(err)
	}
	if err := wsutil.WriteClientText(conn, []byte("40")); err != nil {
		b.Fatal(err)
	}
	go func() {
		rd := bufio.NewReaderSize(r, 64<<10)
		var hdr [10]byte
		for {
			if _, err := io.ReadFull(rd, hdr[:2]); err != nil {
				return
			}
			n := int64(hdr[1] & 0x7f)
			switch n {
			case 126:
				if _, err := io.ReadFull(rd, hdr[2:4]); err != nil {
					return
				}
				n = int64(binary.BigEndian.Uint16(hdr[2:4]))
			case 127:
				if _, err := io.ReadFull(rd, hdr[2:10]); err != nil {
					return
				}
				n = int64(binary.BigEndian.Uint64(hdr[2:10]))
			}
			if _, err := rd.Discard(int(n)); err != nil {
				return
			}
			frames.Add(1)
		}
	}()
}

func waitFrames(b *testing.B, frames *atomic.Int64, want int64) {
	deadline := time.Now().Add(60 * time.Second)
	for frames.Load() < want {
		if time.Now().After(deadline) {
			b.Fatalf("clients read %d of %d frames", frames.Load(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

// benchSockets is the broadcast's audience.
const benchSockets = 1000
