package socketio

import (
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Handshake is what a client presented when it connected to a namespace. Authorize sees
// Header and Query; a Socket's Handshake has them only with Options.KeepHandshake.
type Handshake struct {
	Header     http.Header
	Query      url.Values
	RemoteAddr string
	// Auth is the raw JSON object of the CONNECT packet (the client's `auth` option),
	// "{}" when it sent none.
	Auth   []byte
	Issued time.Time
}

// ConnectError refuses a connection: the client gets CONNECT_ERROR with this message and
// data (connect_error's err.message and err.data in socket.io-client).
type ConnectError struct {
	Message string
	Data    any
}

func (e *ConnectError) Error() string { return e.Message }

// Handlers are a namespace's callbacks. All of them, for one connection, run one after
// another in the order the client's packets arrived.
type Handlers struct {
	// Authorize admits (nil error; the value becomes Socket.Data) or refuses (a
	// *ConnectError, or any error as "Internal error") a CONNECT. Optional.
	Authorize func(h *Handshake) (any, error)
	// Connected runs when a socket is admitted, before its CONNECT is written: rooms
	// joined here are joined before the client can emit anything.
	Connected func(s *Socket)
	// Event handles one event. e.Ack answers it (once).
	Event func(s *Socket, e *Event)
	// Disconnected runs once when the socket is gone, with Socket.IO's reason
	// ("client namespace disconnect", "server namespace disconnect", "transport close",
	// "transport error", "ping timeout", "parse error", "forced close",
	// "server shutting down", "slow consumer").
	Disconnected func(s *Socket, reason string)
	// Delivered is told about each broadcast with a Tag that reached local sockets.
	Delivered func(opts BroadcastOptions, recipients int)
}

// Namespace is a Socket.IO namespace: its sockets on this node and their rooms.
type Namespace struct {
	srv  *Server
	name string
	h    Handlers

	mu      sync.RWMutex
	sockets map[string]*Socket
	rooms   map[string]*roomSet
}

func newNamespace(s *Server, name string, h Handlers) *Namespace {
	return &Namespace{srv: s, name: name, h: h, sockets: map[string]*Socket{}, rooms: map[string]*roomSet{}}
}

// Name is the namespace's name ("/" for the main one).
func (n *Namespace) Name() string { return n.name }

// Encode builds an event for this namespace, once, for Broadcast or Socket.Send.
func (n *Namespace) Encode(event string, args [][]byte, attachments [][]byte) *Encoded {
	return EncodeEvent(n.name, event, args, attachments)
}

// Broadcast sends enc to the selected sockets here and, through the bus, on every node.
func (n *Namespace) Broadcast(opts BroadcastOptions, enc *Encoded) {
	n.DeliverLocal(opts, enc)
	if b := n.srv.bus; b != nil {
		b.Broadcast(n.name, opts, enc)
	}
}

// DeliverLocal sends enc to the selected sockets of this node only (a bus calls it for
// broadcasts from other nodes).
func (n *Namespace) DeliverLocal(opts BroadcastOptions, enc *Encoded) {
	count := 0
	n.mu.RLock()
	n.eachLocked(opts, func(s *Socket) {
		if s.send(enc) {
			count++
		}
	})
	n.mu.RUnlock()
	if opts.Tag != "" && count > 0 && n.h.Delivered != nil {
		n.h.Delivered(opts, count)
	}
}

// eachLocked visits the sockets opts select, each once. n.mu must be held.
func (n *Namespace) eachLocked(opts BroadcastOptions, fn func(*Socket)) {
	// The exceptions are resolved once, not per recipient: a broadcast to a chat except
	// the sending socket looked the socket id up in the rooms map for each of the chat's
	// members (1.4% of the e2e benchmark's CPU). A name is a room, a socket's own room
	// (its id), or both.
	var sockBuf [2]*Socket
	var roomBuf [2]*roomSet
	exceptSockets, exceptRooms := sockBuf[:0], roomBuf[:0]
	for _, e := range opts.Except {
		if s := n.sockets[e]; s != nil {
			exceptSockets = append(exceptSockets, s)
		}
		if r := n.rooms[e]; r != nil {
			exceptRooms = append(exceptRooms, r)
		}
	}
	excluded := func(s *Socket) bool {
		for _, x := range exceptSockets {
			if x == s {
				return true
			}
		}
		for _, r := range exceptRooms {
			if r.has(s) {
				return true
			}
		}
		return false
	}
	switch len(opts.Rooms) {
	case 0:
		for _, s := range n.sockets {
			if !excluded(s) {
				fn(s)
			}
		}
	case 1:
		n.eachInRoomLocked(opts.Rooms[0], func(s *Socket) {
			if !excluded(s) {
				fn(s)
			}
		})
	default:
		seen := map[*Socket]struct{}{}
		for _, r := range opts.Rooms {
			n.eachInRoomLocked(r, func(s *Socket) {
				if _, dup := seen[s]; dup || excluded(s) {
					return
				}
				seen[s] = struct{}{}
				fn(s)
			})
		}
	}
}

func (n *Namespace) eachInRoomLocked(room string, fn func(*Socket)) {
	if set, ok := n.rooms[room]; ok {
		set.each(fn)
		return
	}
	if s, ok := n.sockets[room]; ok {
		fn(s) // a socket's own room
	}
}

// SocketsJoin makes the selected sockets join rooms, here and on every node.
func (n *Namespace) SocketsJoin(opts BroadcastOptions, rooms ...string) {
	n.JoinLocal(opts, rooms)
	if b := n.srv.bus; b != nil {
		b.SocketsJoin(n.name, opts, rooms)
	}
}

// SocketsLeave makes the selected sockets leave rooms, here and on every node.
func (n *Namespace) SocketsLeave(opts BroadcastOptions, rooms ...string) {
	n.LeaveLocal(opts, rooms)
	if b := n.srv.bus; b != nil {
		b.SocketsLeave(n.name, opts, rooms)
	}
}

// DisconnectSockets disconnects the selected sockets, here and on every node.
func (n *Namespace) DisconnectSockets(opts BroadcastOptions, closeConn bool) {
	n.DisconnectLocal(opts, closeConn)
	if b := n.srv.bus; b != nil {
		b.DisconnectSockets(n.name, opts, closeConn)
	}
}

// JoinLocal makes this node's selected sockets join rooms.
func (n *Namespace) JoinLocal(opts BroadcastOptions, rooms []string) {
	var added []string
	n.mu.Lock()
	var sel []*Socket
	n.eachLocked(opts, func(s *Socket) { sel = append(sel, s) })
	for _, s := range sel {
		added = n.joinLocked(s, rooms, added)
	}
	n.mu.Unlock()
	n.roomsChanged(added, nil)
}

// LeaveLocal makes this node's selected sockets leave rooms.
func (n *Namespace) LeaveLocal(opts BroadcastOptions, rooms []string) {
	var removed []string
	n.mu.Lock()
	var sel []*Socket
	n.eachLocked(opts, func(s *Socket) { sel = append(sel, s) })
	for _, s := range sel {
		for _, r := range rooms {
			removed = n.leaveLocked(s, r, removed)
		}
	}
	n.mu.Unlock()
	n.roomsChanged(nil, removed)
}

// DisconnectLocal disconnects this node's selected sockets.
func (n *Namespace) DisconnectLocal(opts BroadcastOptions, closeConn bool) {
	var sel []*Socket
	n.mu.RLock()
	n.eachLocked(opts, func(s *Socket) { sel = append(sel, s) })
	n.mu.RUnlock()
	for _, s := range sel {
		s.Disconnect(closeConn)
	}
}

// LocalSockets lists this node's selected sockets.
func (n *Namespace) LocalSockets(opts BroadcastOptions) []*Socket {
	var sel []*Socket
	n.mu.RLock()
	n.eachLocked(opts, func(s *Socket) { sel = append(sel, s) })
	n.mu.RUnlock()
	return sel
}

// LocalRooms lists the rooms with sockets on this node.
func (n *Namespace) LocalRooms() []string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]string, 0, len(n.rooms))
	for r := range n.rooms {
		out = append(out, r)
	}
	return out
}

// HasRoom reports whether the room has sockets on this node.
func (n *Namespace) HasRoom(room string) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	_, ok := n.rooms[room]
	return ok
}

// Len is the number of this node's sockets in the namespace.
func (n *Namespace) Len() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return len(n.sockets)
}

func (n *Namespace) joinLocked(s *Socket, rooms []string, added []string) []string {
	if !s.registered {
		return added
	}
	for _, r := range rooms {
		set, ok := n.rooms[r]
		if !ok {
			set = &roomSet{}
			n.rooms[r] = set
			added = append(added, r)
		}
		if set.add(s) {
			s.rooms = append(s.rooms, r)
		}
	}
	return added
}

func (n *Namespace) leaveLocked(s *Socket, room string, removed []string) []string {
	set, ok := n.rooms[room]
	if !ok {
		return removed
	}
	if !set.remove(s) {
		return removed
	}
	if set.len() == 0 {
		delete(n.rooms, room)
		removed = append(removed, room)
	}
	for i, r := range s.rooms {
		if r == room {
			s.rooms = append(s.rooms[:i], s.rooms[i+1:]...)
			break
		}
	}
	return removed
}

func (n *Namespace) add(s *Socket) {
	n.mu.Lock()
	n.sockets[s.id] = s
	s.registered = true
	n.mu.Unlock()
}

// remove takes a socket out of the namespace and all its rooms.
func (n *Namespace) remove(s *Socket) {
	var removed []string
	n.mu.Lock()
	if !s.registered {
		n.mu.Unlock()
		return
	}
	s.registered = false
	delete(n.sockets, s.id)
	for _, r := range append([]string(nil), s.rooms...) {
		removed = n.leaveLocked(s, r, removed)
	}
	s.rooms = nil
	n.mu.Unlock()
	n.roomsChanged(nil, removed)
}

func (n *Namespace) roomsChanged(added, removed []string) {
	if b := n.srv.bus; b != nil && (len(added) > 0 || len(removed) > 0) {
		b.RoomsChanged(n.name, added, removed)
	}
}
