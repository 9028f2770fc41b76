package socketio

import "sync/atomic"

// Event is one event a client emitted: its name, the raw JSON of each argument after
// the name, its binary attachments (which the arguments reference as
// {"_placeholder":true,"num":i}), and, when the client asked for one, its ack.
type Event struct {
	Name        string
	Args        [][]byte
	Attachments [][]byte

	sock  *Socket
	ackID int64
	acked atomic.Bool
	late  bool
}

// Late reports whether the event arrived after the server began to drain (Server.Drain):
// the application should refuse it (its client will retry elsewhere).
func (e *Event) Late() bool { return e.late }

// Arg is the raw JSON of argument i, or nil when the client sent fewer.
func (e *Event) Arg(i int) []byte {
	if i < len(e.Args) {
		return e.Args[i]
	}
	return nil
}

// WantsAck reports whether the client passed an ack callback.
func (e *Event) WantsAck() bool { return e.ackID >= 0 }

// Ack answers the event with raw JSON arguments (and binary attachments). Only the first
// call sends anything; it reports whether this call was that one.
func (e *Event) Ack(args [][]byte, attachments [][]byte) bool {
	if e.ackID < 0 || !e.acked.CompareAndSwap(false, true) {
		return false
	}
	pkts := encodeAck(e.sock.ns.name, e.ackID, args, attachments)
	if len(pkts) == 1 {
		return e.sock.cl.conn.Send(pkts[0])
	}
	return e.sock.cl.conn.SendAll(pkts)
}

// Acked reports whether Ack was called.
func (e *Event) Acked() bool { return e.acked.Load() }
