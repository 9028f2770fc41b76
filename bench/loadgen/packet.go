package main

// Socket.IO v5 packets (Socket.IO v4 servers) inside Engine.IO v4 messages, over
// WebSocket: each text message is one Engine.IO packet, a type digit then data.
//
//	Engine.IO: 0 open  1 close  2 ping  3 pong  4 message  5 upgrade  6 noop
//	Socket.IO (inside a "4" message): type digit, then an optional "/nsp," (absent for
//	the main namespace), an optional ack id (digits), then JSON:
//	  0 CONNECT  1 DISCONNECT  2 EVENT ["name",args...]  3 ACK [args...]
//	  4 CONNECT_ERROR {message,data}  5/6 BINARY_EVENT/ACK (attachments; unused here)

const (
	eioOpen    = '0'
	eioClose   = '1'
	eioPing    = '2'
	eioMessage = '4'

	sioConnect      = '0'
	sioDisconnect   = '1'
	sioEvent        = '2'
	sioAck          = '3'
	sioConnectError = '4'
)

// sioPacket is a parsed Socket.IO packet; data points into the received message.
type sioPacket struct {
	typ   byte
	mainN bool  // the main namespace "/" (the only one these scenarios use)
	ackID int64 // -1 when absent
	data  []byte
}

// parseSIO parses the Socket.IO packet p (an Engine.IO message without its "4").
func parseSIO(p []byte) (sioPacket, bool) {
	if len(p) == 0 {
		return sioPacket{}, false
	}
	pk := sioPacket{typ: p[0], mainN: true, ackID: -1}
	i := 1
	if i < len(p) && p[i] == '/' {
		j := i
		for j < len(p) && p[j] != ',' {
			j++
		}
		pk.mainN = string(p[i:j]) == "/"
		i = min(j+1, len(p))
	}
	if i < len(p) && p[i] >= '0' && p[i] <= '9' {
		pk.ackID = 0
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			pk.ackID = pk.ackID*10 + int64(p[i]-'0')
			i++
		}
	}
	pk.data = p[i:]
	return pk, true
}

// parseEvent splits an EVENT's data `["name",arg,...]` into the name and what follows it
// (`,arg,...]`), to be read with nextArg.
func parseEvent(data []byte) (name, rest []byte, ok bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return nil, nil, false
	}
	i = skipSpace(data, i+1)
	if i >= len(data) || data[i] != '"' {
		return nil, nil, false
	}
	end, ok := skipString(data, i)
	if !ok {
		return nil, nil, false
	}
	name, ok = unquote(data[i:end])
	return name, data[end:], ok
}

// nextArg returns the next argument of rest (as parseEvent or nextArg left it), and
// what follows it.
func nextArg(rest []byte) (arg, after []byte, ok bool) {
	i := skipSpace(rest, 0)
	if i >= len(rest) || rest[i] != ',' {
		return nil, rest, false
	}
	i = skipSpace(rest, i+1)
	end, ok := skipValue(rest, i)
	if !ok {
		return nil, rest, false
	}
	return rest[i:end], rest[end:], true
}

// firstElem returns the first element of the JSON array data (an ACK's first argument),
// nil for an empty array.
func firstElem(data []byte) []byte {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return nil
	}
	i = skipSpace(data, i+1)
	if i >= len(data) || data[i] == ']' {
		return nil
	}
	end, ok := skipValue(data, i)
	if !ok {
		return nil
	}
	return data[i:end]
}
