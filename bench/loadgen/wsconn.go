package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"slices"
	"sync"

	"github.com/gobwas/ws"
)

// The WebSocket layer of the client, on gobwas/ws frames. Socket.IO servers send one
// Engine.IO packet per text message, small enough to sit in the read buffer: such a
// message is handed out as a slice of the bufio.Reader (no copy, no allocation) and
// discarded on the next read. Each outgoing packet is one masked frame written with one
// write call.

const (
	readBufferSize = 4096
	maxMessage     = 16 << 20 // far above Engine.IO's default maxPayload (1 MB)
)

var (
	errTooLarge     = errors.New("websocket message too large")
	errProtocol     = errors.New("websocket protocol error")
	errClosedByPeer = errors.New("websocket closed by the server")
)

type wsConn struct {
	nc net.Conn

	// Read side: one goroutine at a time (the handshake, then the reader).
	br   *bufio.Reader
	rhdr [ws.MaxHeaderSize]byte
	skip int       // bytes of the last message handed out that are still in br
	frag ws.OpCode // opcode of a fragmented message being assembled, 0 if none
	big  []byte    // a fragmented or oversized message

	// Write side: any goroutine (senders, the reader answering pings, Close).
	wmu  sync.Mutex
	wbuf bytes.Buffer
	whdr [ws.MaxHeaderSize]byte
}

func newWSConn(nc net.Conn, br *bufio.Reader) *wsConn {
	// ws.Dial hands back its own reader only when the server's first frames arrived with
	// the HTTP response; it then must be read before the connection.
	if br == nil {
		br = bufio.NewReaderSize(nc, readBufferSize)
	}
	return &wsConn{nc: nc, br: br}
}

// readMessage returns the next data message. The payload is valid until the next call.
// Control frames are answered here (ping with pong, close with close).
func (w *wsConn) readMessage() (ws.OpCode, []byte, error) {
	if w.skip > 0 {
		_, _ = w.br.Discard(w.skip) // peeked bytes are buffered: this cannot fail
		w.skip = 0
	}
	for {
		h, err := ws.ReadHeaderBuffer(w.br, w.rhdr[:])
		if err != nil {
			return 0, nil, err
		}
		if h.Length < 0 || h.Length > maxMessage {
			return 0, nil, errTooLarge
		}
		n := int(h.Length)
		if h.OpCode.IsControl() {
			if n > 125 || !h.Fin {
				return 0, nil, errProtocol
			}
			var buf [125]byte
			p := buf[:n]
			if _, err := io.ReadFull(w.br, p); err != nil {
				return 0, nil, err
			}
			if h.Masked {
				ws.Cipher(p, h.Mask, 0)
			}
			switch h.OpCode {
			case ws.OpPing:
				_ = w.writeFrame(ws.OpPong, p)
			case ws.OpClose:
				code := p[:min(2, len(p))]
				_ = w.writeFrame(ws.OpClose, code)
				return 0, nil, errClosedByPeer
			}
			continue
		}
		// The common case: a whole message that fits the read buffer.
		if w.frag == 0 && h.Fin && h.OpCode != ws.OpContinuation && n <= w.br.Size() {
			p, err := w.br.Peek(n)
			if err != nil {
				return 0, nil, err
			}
			w.skip = n
			if h.Masked {
				ws.Cipher(p, h.Mask, 0)
			}
			return h.OpCode, p, nil
		}
		// A fragmented or large message: assemble it in w.big.
		if w.frag == 0 {
			if h.OpCode == ws.OpContinuation {
				return 0, nil, errProtocol
			}
			w.frag = h.OpCode
			w.big = w.big[:0]
		} else if h.OpCode != ws.OpContinuation {
			return 0, nil, errProtocol
		}
		if len(w.big)+n > maxMessage {
			return 0, nil, errTooLarge
		}
		start := len(w.big)
		w.big = slices.Grow(w.big, n)[:start+n]
		if _, err := io.ReadFull(w.br, w.big[start:]); err != nil {
			return 0, nil, err
		}
		if h.Masked {
			ws.Cipher(w.big[start:], h.Mask, 0)
		}
		if h.Fin {
			op := w.frag
			w.frag = 0
			return op, w.big, nil
		}
	}
}

func (w *wsConn) writeText(p []byte) error { return w.writeFrame(ws.OpText, p) }

// writeFrame writes p as one masked frame (clients must mask, RFC 6455 5.3). p is not
// modified: it is masked in a copy.
func (w *wsConn) writeFrame(op ws.OpCode, p []byte) error {
	h := ws.Header{Fin: true, OpCode: op, Masked: true, Mask: ws.NewMask(), Length: int64(len(p))}
	w.wmu.Lock()
	defer w.wmu.Unlock()
	w.wbuf.Reset()
	if err := ws.WriteHeaderBuffer(&w.wbuf, h, w.whdr[:]); err != nil {
		return err
	}
	off := w.wbuf.Len()
	w.wbuf.Write(p)
	ws.Cipher(w.wbuf.Bytes()[off:], h.Mask, 0)
	_, err := w.nc.Write(w.wbuf.Bytes())
	return err
}
