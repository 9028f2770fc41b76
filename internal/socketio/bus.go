package socketio

import "context"

// BroadcastOptions select recipients: sockets in any of Rooms (every socket of the
// namespace when empty) and in none of Except. A socket's id is also a room holding just
// it. Tag is opaque to the engine: it travels with the broadcast to other nodes and is
// handed to the namespace's Delivered callback wherever it reaches local sockets.
type BroadcastOptions struct {
	Rooms  []string
	Except []string
	Tag    string
}

// Bus carries a namespace's broadcasts and room changes to the other nodes of a cluster.
// No method may block: a bus queues what it sends.
type Bus interface {
	Broadcast(nsp string, opts BroadcastOptions, enc *Encoded)
	SocketsJoin(nsp string, opts BroadcastOptions, rooms []string)
	SocketsLeave(nsp string, opts BroadcastOptions, rooms []string)
	DisconnectSockets(nsp string, opts BroadcastOptions, close bool)
	// RoomsChanged reports rooms that got their first local socket (added) or lost their
	// last (removed), so the bus can listen only for rooms it has members of.
	RoomsChanged(nsp string, added, removed []string)
	// Settle waits, bounded by ctx, until the room changes reported so far are in effect
	// cluster-side (so a broadcast published elsewhere after it returns reaches them) and
	// what the node has published so far has left; a connect calls it before CONNECT.
	Settle(ctx context.Context)
}
