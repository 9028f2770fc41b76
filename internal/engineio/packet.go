package engineio

import (
	"encoding/binary"
	"errors"
)

// Engine.IO v4 packet types, as the first byte of a text packet.
const (
	typeOpen    = '0'
	typeClose   = '1'
	typePing    = '2'
	typePong    = '3'
	typeMessage = '4'
	typeUpgrade = '5'
	typeNoop    = '6'
)

// headroom is the space kept in front of an encoded packet for its WebSocket frame header
// (2, 4 or 10 bytes for a server frame, which is never masked).
const headroom = 10

// WebSocket opcodes (RFC 6455 §5.2) of the frames the server writes.
const (
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPong   = 0xA
)

// Packet is an outgoing Engine.IO packet, encoded once and shared read-only by every
// connection it is queued to: its polling form (the text, or the raw bytes of a binary
// packet) and its WebSocket frame live in one buffer, the frame header written into the
// headroom in front of the payload. Queuing it costs a pointer, whatever its size.
type Packet struct {
	buf    []byte // headroom + payload
	start  int    // where the WebSocket frame begins in buf
	binary bool
}

// NewMessageBuffer returns an empty buffer to encode a message packet into: append the
// packet's data to it and pass it to MessagePacket. sizeHint is the expected data size.
func NewMessageBuffer(sizeHint int) []byte {
	b := make([]byte, headroom+1, headroom+1+sizeHint)
	b[headroom] = typeMessage
	return b
}

// MessagePacket turns a buffer from NewMessageBuffer, with the message's text appended,
// into a packet. The buffer must not be changed afterwards.
func MessagePacket(b []byte) *Packet {
	if len(b) < headroom+1 || b[headroom] != typeMessage {
		panic("engineio: MessagePacket needs a buffer from NewMessageBuffer")
	}
	return framed(b, opText, false)
}

// BinaryPacket is a binary message packet (a Socket.IO attachment) holding data. It keeps
// a copy, so data may be reused.
func BinaryPacket(data []byte) *Packet {
	b := make([]byte, headroom, headroom+len(data))
	b = append(b, data...)
	return framed(b, opBinary, true)
}

// controlPacket is a text packet of one type and optional data ("2", "3probe", "6", …).
func controlPacket(typ byte, data string) *Packet {
	b := make([]byte, headroom, headroom+1+len(data))
	b = append(b, typ)
	b = append(b, data...)
	return framed(b, opText, false)
}

// framed writes the WebSocket frame header (FIN set, unmasked) in front of the payload
// that starts at b[headroom:].
func framed(b []byte, op byte, bin bool) *Packet {
	n := len(b) - headroom
	var start int
	switch {
	case n < 126:
		start = headroom - 2
		b[start+1] = byte(n)
	case n <= 0xFFFF:
		start = headroom - 4
		b[start+1] = 126
		binary.BigEndian.PutUint16(b[start+2:], uint16(n))
	default:
		start = headroom - 10
		b[start+1] = 127
		binary.BigEndian.PutUint64(b[start+2:], uint64(n))
	}
	b[start] = 0x80 | op
	return &Packet{buf: b, start: start, binary: bin}
}

// text is the packet as it travels in a polling payload (for a text packet) or the raw
// bytes of a binary packet.
func (p *Packet) data() []byte { return p.buf[headroom:] }

// frame is the packet as one WebSocket frame.
func (p *Packet) frame() []byte { return p.buf[p.start:] }

// size is what the packet counts against a connection's queue bound.
func (p *Packet) size() int { return len(p.buf) - headroom }

// Text returns the encoded text of a text packet (for tests and logs).
func (p *Packet) Text() string { return string(p.data()) }

// Data is a message packet's data: for a text packet its text after the type byte, for
// a binary packet its bytes. It is shared: do not modify it.
func (p *Packet) Data() []byte {
	if p.binary {
		return p.data()
	}
	return p.data()[1:]
}

var errBadPacket = errors.New("invalid packet")

// decodedPacket is an incoming Engine.IO packet: its type and data. data aliases the read
// buffer it came from.
type decodedPacket struct {
	typ    byte
	data   []byte
	binary bool
}

// decodeText parses one text packet: a type digit and its data.
func decodeText(b []byte) (decodedPacket, error) {
	if len(b) == 0 || b[0] < typeOpen || b[0] > typeNoop {
		return decodedPacket{}, errBadPacket
	}
	return decodedPacket{typ: b[0], data: b[1:]}, nil
}
