package socketio

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/engineio"
)

// Encoded is a Socket.IO packet encoded once: its text packet and binary attachments as
// Engine.IO packets, shared by every socket it is sent to. It keeps the event and its raw
// JSON arguments, which a cluster bus needs to carry it to other nodes.
type Encoded struct {
	Nsp         string
	Event       string
	Args        [][]byte // raw JSON of each argument
	Attachments [][]byte
	packets     []*engineio.Packet
}

// EncodeEvent builds an EVENT packet (BINARY_EVENT when there are attachments, which the
// arguments reference with {"_placeholder":true,"num":i}) for namespace nsp.
func EncodeEvent(nsp, event string, args [][]byte, attachments [][]byte) *Encoded {
	size := len(nsp) + len(event) + 16
	for _, a := range args {
		size += len(a) + 1
	}
	b := engineio.NewMessageBuffer(size)
	b = appendHeader(b, packetEvent, len(attachments), nsp, -1)
	b = append(b, '[')
	b = appendJSONString(b, event)
	for _, a := range args {
		b = append(b, ',')
		b = append(b, a...)
	}
	b = append(b, ']')
	return &Encoded{Nsp: nsp, Event: event, Args: args, Attachments: attachments, packets: withAttachments(b, attachments)}
}

// WireText is the Socket.IO text of the packet (without the Engine.IO type), as a cluster
// bus carries it to nodes that can reuse it as it is.
func (e *Encoded) WireText() []byte { return e.packets[0].Data() }

// EncodedFromWire rebuilds a packet another node encoded (its WireText and attachments)
// without decoding it: it must be an EVENT or BINARY_EVENT of namespace nsp.
func EncodedFromWire(nsp string, text []byte, attachments [][]byte) (*Encoded, bool) {
	p, err := decodePacket(text, len(attachments))
	if err != nil || p.nsp != nsp || (p.typ != packetEvent && p.typ != packetBinaryEvent) || p.attachments != len(attachments) {
		return nil, false
	}
	b := engineio.NewMessageBuffer(len(text))
	b = append(b, text...)
	return &Encoded{Nsp: nsp, Event: p.eventName(), Args: p.args[1:], Attachments: attachments, packets: withAttachments(b, attachments)}, true
}

// encodeAck builds an ACK (or BINARY_ACK) packet for ack id.
func encodeAck(nsp string, id int64, args [][]byte, attachments [][]byte) []*engineio.Packet {
	size := len(nsp) + 24
	for _, a := range args {
		size += len(a) + 1
	}
	b := engineio.NewMessageBuffer(size)
	b = appendHeader(b, packetAck, len(attachments), nsp, id)
	b = append(b, '[')
	for i, a := range args {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, a...)
	}
	b = append(b, ']')
	return withAttachments(b, attachments)
}

// encodeSimple builds a CONNECT, CONNECT_ERROR or DISCONNECT packet with optional JSON data.
func encodeSimple(typ int, nsp string, data []byte) *engineio.Packet {
	b := engineio.NewMessageBuffer(len(nsp) + len(data) + 4)
	b = appendHeader(b, typ, 0, nsp, -1)
	b = append(b, data...)
	return engineio.MessagePacket(b)
}

// appendHeader writes a packet's type, attachment count, namespace and ack id. Events and
// acks with attachments become their BINARY_ types.
func appendHeader(b []byte, typ, attachments int, nsp string, id int64) []byte {
	if attachments > 0 {
		switch typ {
		case packetEvent:
			typ = packetBinaryEvent
		case packetAck:
			typ = packetBinaryAck
		}
	}
	b = append(b, byte('0'+typ))
	if typ == packetBinaryEvent || typ == packetBinaryAck {
		b = strconv.AppendInt(b, int64(attachments), 10)
		b = append(b, '-')
	}
	if nsp != "/" && nsp != "" {
		b = append(b, nsp...)
		b = append(b, ',')
	}
	if id >= 0 {
		b = strconv.AppendInt(b, id, 10)
	}
	return b
}

func withAttachments(b []byte, attachments [][]byte) []*engineio.Packet {
	pkts := make([]*engineio.Packet, 1, 1+len(attachments))
	pkts[0] = engineio.MessagePacket(b)
	for _, a := range attachments {
		pkts = append(pkts, engineio.BinaryPacket(a))
	}
	return pkts
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string (invalid UTF-8 becomes U+FFFD, as
// encoding/json does).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c >= 0x20:
				b = append(b, c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

func jsonMarshal(v any) ([]byte, error) {
	if raw, ok := v.([]byte); ok {
		return raw, nil
	}
	return json.Marshal(v)
}
