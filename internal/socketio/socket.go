package socketio

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/engineio"
)

// Socket is one client's connection to one namespace.
type Socket struct {
	id string
	ns *Namespace
	cl *client
	hs *Handshake

	dataMu sync.Mutex
	data   any

	// Guarded by ns.mu.
	registered bool
	rooms      []string

	// Guarded by cl.mu.
	gone bool

	// Until the CONNECT packet is written, what is sent to the socket waits in early, so
	// the client sees CONNECT first (emits from Connected, broadcasts to rooms it joined).
	ready   atomic.Bool
	earlyMu sync.Mutex
	early   []*Encoded
}

// ID is the socket's id (also the name of a room holding only it).
func (s *Socket) ID() string { return s.id }

// Namespace is the namespace the socket belongs to.
func (s *Socket) Namespace() *Namespace { return s.ns }

// Handshake is what the client presented when it connected.
func (s *Socket) Handshake() *Handshake { return s.hs }

// Data is what the namespace's Authorize returned, or what SetData stored.
func (s *Socket) Data() any {
	s.dataMu.Lock()
	defer s.dataMu.Unlock()
	return s.data
}

// SetData stores the application's value for this socket.
func (s *Socket) SetData(v any) {
	s.dataMu.Lock()
	s.data = v
	s.dataMu.Unlock()
}

// Transport is "polling" or "websocket".
func (s *Socket) Transport() string { return s.cl.conn.Transport() }

// Join adds the socket to rooms (on this node; a socket lives on one node).
func (s *Socket) Join(rooms ...string) {
	n := s.ns
	n.mu.Lock()
	added := n.joinLocked(s, rooms, nil)
	n.mu.Unlock()
	n.roomsChanged(added, nil)
}

// Leave removes the socket from a room.
func (s *Socket) Leave(room string) {
	n := s.ns
	n.mu.Lock()
	removed := n.leaveLocked(s, room, nil)
	n.mu.Unlock()
	n.roomsChanged(nil, removed)
}

// Rooms lists the rooms the socket is in (not counting its own id).
func (s *Socket) Rooms() []string {
	s.ns.mu.RLock()
	defer s.ns.mu.RUnlock()
	return append([]string(nil), s.rooms...)
}

// InRoom reports whether the socket is in room.
func (s *Socket) InRoom(room string) bool {
	s.ns.mu.RLock()
	defer s.ns.mu.RUnlock()
	r := s.ns.rooms[room]
	return r != nil && r.has(s)
}

// Connected reports whether the socket is still connected.
func (s *Socket) Connected() bool {
	s.cl.mu.Lock()
	defer s.cl.mu.Unlock()
	return !s.gone && !s.cl.closed
}

// Emit sends an event with raw JSON arguments (and binary attachments) to this socket.
func (s *Socket) Emit(event string, args [][]byte, attachments [][]byte) bool {
	return s.send(s.ns.Encode(event, args, attachments))
}

// EmitJSON sends an event with one argument, v encoded as JSON.
func (s *Socket) EmitJSON(event string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	s.Emit(event, [][]byte{b}, nil)
	return nil
}

// Send queues an already encoded packet.
func (s *Socket) Send(enc *Encoded) bool { return s.send(enc) }

func (s *Socket) send(enc *Encoded) bool {
	if !s.ready.Load() {
		s.earlyMu.Lock()
		if !s.ready.Load() {
			s.early = append(s.early, enc)
			s.earlyMu.Unlock()
			return true
		}
		s.earlyMu.Unlock()
	}
	return s.write(enc)
}

func (s *Socket) write(enc *Encoded) bool {
	if len(enc.packets) == 1 {
		return s.cl.conn.Send(enc.packets[0])
	}
	return s.cl.conn.SendAll(enc.packets)
}

// Disconnect ends the socket from the server's side: the client gets a DISCONNECT
// ("io server disconnect", so it does not reconnect by itself); with closeConn the whole
// connection closes too. Disconnected runs with "server namespace disconnect".
func (s *Socket) Disconnect(closeConn bool) {
	s.cl.disconnect(s, closeConn)
}

// connectGap is how long what was sent to a socket before its CONNECT waits after it.
// Clients that handle one read per event-loop turn (Node's ws, which the official
// protocol suites use) would otherwise get CONNECT and the first event in one read and
// hand the event to a listener that is not attached yet; Node's server has the same gap
// (it writes the next packet only after the first write's callback).
const connectGap = 2 * time.Millisecond

// announce writes the CONNECT packet on its own, then, after connectGap, what was sent to
// the socket before it, in order.
func (s *Socket) announce(connect *engineio.Packet) {
	s.cl.conn.SendFlushed(connect, time.Second)
	s.earlyMu.Lock()
	if len(s.early) == 0 {
		s.ready.Store(true)
		s.earlyMu.Unlock()
		return
	}
	s.earlyMu.Unlock()
	time.AfterFunc(connectGap, s.flushEarly)
}

func (s *Socket) flushEarly() {
	s.earlyMu.Lock()
	defer s.earlyMu.Unlock()
	for _, enc := range s.early {
		s.write(enc)
	}
	s.early = nil
	s.ready.Store(true)
}
