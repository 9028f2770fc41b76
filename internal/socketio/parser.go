package socketio

import (
	"encoding/json"
	"errors"
	"strconv"
)

// Socket.IO v5 packet types.
const (
	packetConnect      = 0
	packetDisconnect   = 1
	packetEvent        = 2
	packetAck          = 3
	packetConnectError = 4
	packetBinaryEvent  = 5
	packetBinaryAck    = 6
)

// reservedEvents may not be sent by a client (Node's parser refuses them the same way).
var reservedEvents = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true, "disconnecting": true,
	"newListener": true, "removeListener": true,
}

var (
	errBadType        = errors.New("unknown packet type")
	errBadAttachments = errors.New("illegal attachments")
	errTooMany        = errors.New("too many attachments")
	errBadPayload     = errors.New("invalid payload")
	errBadAckID       = errors.New("invalid ack id")
)

// packet is a decoded incoming Socket.IO packet. data is the raw JSON (nil when absent);
// for events and acks, args holds the raw JSON of each array element.
type packet struct {
	typ         int
	nsp         string
	id          int64 // -1: no ack id
	attachments int
	data        []byte
	args        [][]byte
	attach      [][]byte // binary attachments, once reassembled
}

// decodePacket parses a packet's text the way Node's socket.io-parser does, refusing
// everything it refuses: unknown types, bad attachment counts, payloads that are not
// JSON or not of the type's shape, reserved event names.
func decodePacket(b []byte, maxAttachments int) (packet, error) {
	p := packet{id: -1, nsp: "/"}
	if len(b) == 0 || b[0] < '0' || b[0] > '6' {
		return p, errBadType
	}
	p.typ = int(b[0] - '0')
	i := 1
	if p.typ == packetBinaryEvent || p.typ == packetBinaryAck {
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start || i >= len(b) || b[i] != '-' || i-start > 4 {
			return p, errBadAttachments
		}
		n, _ := strconv.Atoi(string(b[start:i]))
		if n > maxAttachments {
			return p, errTooMany
		}
		p.attachments = n
		i++
	}
	if i < len(b) && b[i] == '/' {
		start := i
		for i < len(b) && b[i] != ',' {
			i++
		}
		p.nsp = string(b[start:i])
		if i < len(b) {
			i++ // the comma
		}
	}
	if i < len(b) && b[i] >= '0' && b[i] <= '9' {
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i-start > 15 {
			return p, errBadAckID
		}
		p.id, _ = strconv.ParseInt(string(b[start:i]), 10, 64)
	}
	if i < len(b) {
		p.data = b[i:]
		if !json.Valid(p.data) {
			return p, errBadPayload
		}
	}
	return p, p.checkPayload()
}

// checkPayload applies the type's shape rules (socket.io-parser's isPayloadValid).
func (p *packet) checkPayload() error {
	first := firstNonSpace(p.data)
	switch p.typ {
	case packetConnect:
		if p.data != nil && first != '{' {
			return errBadPayload
		}
	case packetDisconnect:
		if p.data != nil {
			return errBadPayload
		}
	case packetConnectError:
		if first != '{' && first != '"' {
			return errBadPayload
		}
	case packetEvent, packetBinaryEvent:
		if first != '[' {
			return errBadPayload
		}
		p.args = splitArray(p.data)
		if len(p.args) == 0 {
			return errBadPayload
		}
		switch firstNonSpace(p.args[0]) {
		case '"':
			var name string
			if err := json.Unmarshal(p.args[0], &name); err != nil || reservedEvents[name] {
				return errBadPayload
			}
		case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			// Node accepts a number as the event name.
		default:
			return errBadPayload
		}
	case packetAck, packetBinaryAck:
		if first != '[' {
			return errBadPayload
		}
		p.args = splitArray(p.data)
	}
	return nil
}

// eventName is the event's name (a JSON string, or a number written as text).
func (p *packet) eventName() string {
	raw := p.args[0]
	if firstNonSpace(raw) == '"' {
		// Fast path: most names need no unescaping.
		if s := trimSpace(raw); len(s) >= 2 && !containsByte(s, '\\') {
			return string(s[1 : len(s)-1])
		}
		var name string
		_ = json.Unmarshal(raw, &name)
		return name
	}
	return string(trimSpace(raw))
}

func firstNonSpace(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c
	}
	return 0
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

// splitArray returns the raw JSON of each element of a JSON array that json.Valid
// accepted, without decoding them.
func splitArray(b []byte) [][]byte {
	b = trimSpace(b)
	if len(b) < 2 || b[0] != '[' {
		return nil
	}
	var out [][]byte
	depth := 0
	inString := false
	start := -1
	for i := 1; i < len(b)-1; i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, trimSpace(b[start:i]))
				start = -1
				continue
			}
		}
		if start < 0 && !isSpace(c) {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, trimSpace(b[start:len(b)-1]))
	}
	return out
}
