package bus

import (
	"context"

	"github.com/parley-chat/parley/internal/socketio"
)

// The socketio.Bus side: what this node's namespaces send to the cluster.

var _ socketio.Bus = (*Bus)(nil)

// Broadcast publishes enc in the adapter's format, plus an element Node ignores that
// carries the encoded packet (other Parley nodes deliver it without re-encoding), the
// broadcast's tag and its id.
func (b *Bus) Broadcast(nsp string, opts socketio.BroadcastOptions, enc *socketio.Encoded) {
	id := b.nextID()
	msg, err := b.encodeBroadcast(nsp, opts, enc, id)
	if err != nil {
		b.log.Warn().Err(err).Str("event", enc.Event).Msg("redis: could not encode a broadcast for other nodes")
		return
	}
	b.Publish(broadcastChannel(nsp, opts.Rooms), msg)
	if len(opts.Rooms) == 1 && b.recent.joinedRecently(nsp, opts.Rooms[0]) {
		b.Publish(recentChannel(nsp), msg)
	}
}

func (b *Bus) encodeBroadcast(nsp string, opts socketio.BroadcastOptions, enc *socketio.Encoded, id string) ([]byte, error) {
	out := make([]byte, 0, 64+2*len(enc.WireText()))
	out = appendArrayHeader(out, 4)
	out = appendString(out, b.uid)
	// packet: {type: EVENT, data: [event, ...args], nsp}
	out = appendMapHeader(out, 3)
	out = appendString(out, "type")
	out = appendInt(out, 2)
	out = appendString(out, "data")
	out = appendArrayHeader(out, 1+len(enc.Args))
	out = appendString(out, enc.Event)
	for _, a := range enc.Args {
		var err error
		if out, err = jsonToMsgpack(out, a, enc.Attachments); err != nil {
			return nil, err
		}
	}
	out = appendString(out, "nsp")
	out = appendString(out, nsp)
	// opts: {rooms, except, flags}
	out = appendMapHeader(out, 3)
	out = appendString(out, "rooms")
	out = appendStrings(out, opts.Rooms)
	out = appendString(out, "except")
	out = appendStrings(out, opts.Except)
	out = appendString(out, "flags")
	out = appendMapHeader(out, 0)
	// Parley's element.
	n := 2
	if opts.Tag != "" {
		n++
	}
	if len(enc.Attachments) > 0 {
		n++
	}
	out = appendMapHeader(out, n)
	out = appendString(out, "p")
	out = appendBin(out, enc.WireText())
	out = appendString(out, "i")
	out = appendString(out, id)
	if opts.Tag != "" {
		out = appendString(out, "t")
		out = appendString(out, opts.Tag)
	}
	if len(enc.Attachments) > 0 {
		out = appendString(out, "a")
		out = appendArrayHeader(out, len(enc.Attachments))
		for _, a := range enc.Attachments {
			out = appendBin(out, a)
		}
	}
	return out, nil
}

func appendStrings(b []byte, list []string) []byte {
	b = appendArrayHeader(b, len(list))
	for _, s := range list {
		b = appendString(b, s)
	}
	return b
}

// SocketsJoin asks every node to add the selected sockets to rooms (this node did already).
func (b *Bus) SocketsJoin(nsp string, opts socketio.BroadcastOptions, rooms []string) {
	b.recent.markJoined(nsp, rooms)
	b.Publish(requestChannel(nsp), membershipRequest(b.uid, reqRemoteJoin, opts, rooms))
}

// SocketsLeave asks every node to take the selected sockets out of rooms.
func (b *Bus) SocketsLeave(nsp string, opts socketio.BroadcastOptions, rooms []string) {
	b.Publish(requestChannel(nsp), membershipRequest(b.uid, reqRemoteLeave, opts, rooms))
}

// DisconnectSockets asks every node to disconnect the selected sockets.
func (b *Bus) DisconnectSockets(nsp string, opts socketio.BroadcastOptions, closeConn bool) {
	b.Publish(requestChannel(nsp), disconnectRequest(b.uid, opts, closeConn))
}

// RoomsChanged follows this node's rooms: it listens to rooms with local sockets.
func (b *Bus) RoomsChanged(nsp string, added, removed []string) {
	for _, r := range added {
		b.recent.markSubscribed(nsp, r)
		b.subs.roomAdded(nsp, r)
	}
	for _, r := range removed {
		b.subs.roomRemoved(nsp, r)
	}
}

// Settle waits until this node listens to every room it has sockets in, and until what it
// queued for the cluster so far (presence of the connecting user, say) has been sent. It
// waits for nothing while Redis is away.
func (b *Bus) Settle(ctx context.Context) {
	b.subs.settle(ctx)
	if b.Connected() {
		b.flushed(ctx)
	}
}

// onBroadcast delivers a broadcast from another node to this node's sockets. room is
// the channel's room ("" for the namespace channel or recentChannel).
func (b *Bus) onBroadcast(nsp, room string, viaRecent bool, payload []byte) {
	ns := b.opts.Server.Lookup(nsp)
	if ns == nil {
		return
	}
	if room != "" && !ns.HasRoom(room) {
		return // still subscribed for a moment after its last socket left
	}
	v, err := decodeMsgpack(payload)
	if err != nil {
		return
	}
	arr, _ := v.([]any)
	if len(arr) < 3 {
		return
	}
	if uid, _ := arr[0].(string); uid == b.uid {
		return
	}
	pkt, _ := arr[1].(object)
	opts, _ := arr[2].(object)
	if pkt == nil || opts == nil {
		return
	}
	pnsp, _ := pkt.get("nsp").(string)
	if pnsp == "" {
		pnsp = "/"
	}
	if pnsp != nsp {
		return
	}
	bo := socketio.BroadcastOptions{Rooms: stringsOf(opts.get("rooms")), Except: stringsOf(opts.get("except"))}
	var extra object
	if len(arr) > 3 {
		extra, _ = arr[3].(object)
	}
	if extra == nil {
		b.subs.setListenAll(true) // a Node node's broadcast: follow every broadcast from now on
	}
	id, _ := extra.get("i").(string)
	bo.Tag, _ = extra.get("t").(string)
	if len(bo.Rooms) == 1 {
		if viaRecent && !ns.HasRoom(bo.Rooms[0]) {
			return
		}
		if !b.recent.accept(nsp, bo.Rooms[0], id, viaRecent) {
			return
		}
	} else if viaRecent {
		return
	}
	enc := b.decodeEncoded(nsp, pkt, extra)
	if enc == nil {
		return
	}
	ns.DeliverLocal(bo, enc)
}

// decodeEncoded takes the encoded packet a Parley node attached, or encodes the Node
// packet's data.
func (b *Bus) decodeEncoded(nsp string, pkt, extra object) *socketio.Encoded {
	if text, ok := extra.get("p").([]byte); ok {
		var attachments [][]byte
		if list, ok := extra.get("a").([]any); ok {
			for _, a := range list {
				if p, ok := a.([]byte); ok {
					attachments = append(attachments, p)
				}
			}
		}
		enc, _ := socketio.EncodedFromWire(nsp, text, attachments)
		return enc
	}
	data, _ := pkt.get("data").([]any)
	if len(data) == 0 {
		return nil
	}
	event := keyText(data[0])
	var attachments [][]byte
	args := make([][]byte, 0, len(data)-1)
	for _, a := range data[1:] {
		args = append(args, appendJSON(nil, a, &attachments))
	}
	return socketio.EncodeEvent(nsp, event, args, attachments)
}
