package bus

import (
	"encoding/json"
	"net"
	"net/url"
	"strings"

	"github.com/parley-chat/parley/internal/socketio"
)

// Request types of @socket.io/redis-adapter.
const (
	reqSockets         = 0
	reqAllRooms        = 1
	reqRemoteJoin      = 2
	reqRemoteLeave     = 3
	reqRemoteDisconnct = 4
	reqRemoteFetch     = 5
	reqServerSideEmit  = 6
	reqBroadcast       = 7
	reqClientCount     = 8
)

type wireOpts struct {
	Rooms  []string `json:"rooms"`
	Except []string `json:"except"`
}

func membershipRequest(uid string, typ int, opts socketio.BroadcastOptions, rooms []string) []byte {
	b, _ := json.Marshal(struct {
		UID    string   `json:"uid"`
		Type   int      `json:"type"`
		Opts   wireOpts `json:"opts"`
		Rooms  []string `json:"rooms"`
		Parley bool     `json:"parley"`
	}{uid, typ, wireOpts{nonNil(opts.Rooms), nonNil(opts.Except)}, nonNil(rooms), true})
	return b
}

func disconnectRequest(uid string, opts socketio.BroadcastOptions, closeConn bool) []byte {
	b, _ := json.Marshal(struct {
		UID    string   `json:"uid"`
		Type   int      `json:"type"`
		Opts   wireOpts `json:"opts"`
		Close  bool     `json:"close"`
		Parley bool     `json:"parley"`
	}{uid, reqRemoteDisconnct, wireOpts{nonNil(opts.Rooms), nonNil(opts.Except)}, closeConn, true})
	return b
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// request is an adapter request, read from JSON or MessagePack.
type request struct {
	uid, requestID string
	typ            int
	hasOpts        bool
	opts           socketio.BroadcastOptions
	rooms          []string
	closeConn      bool
	sid, room      string // the older one-socket form of join, leave and disconnect
	fromParley     bool
}

func parseRequest(payload []byte) (request, bool) {
	var v any
	if len(payload) > 0 && payload[0] == '{' {
		var raw any
		if json.Unmarshal(payload, &raw) != nil {
			return request{}, false
		}
		v = fromJSON(raw)
	} else {
		var err error
		if v, err = decodeMsgpack(payload); err != nil {
			return request{}, false
		}
	}
	o, ok := v.(object)
	if !ok {
		return request{}, false
	}
	r := request{}
	r.uid, _ = o.get("uid").(string)
	r.requestID = keyText(o.get("requestId"))
	switch t := o.get("type").(type) {
	case int64:
		r.typ = int(t)
	case float64:
		r.typ = int(t)
	default:
		return request{}, false
	}
	if opts, ok := o.get("opts").(object); ok {
		r.hasOpts = true
		r.opts = socketio.BroadcastOptions{Rooms: stringsOf(opts.get("rooms")), Except: stringsOf(opts.get("except"))}
	}
	r.rooms = stringsOf(o.get("rooms"))
	r.closeConn, _ = o.get("close").(bool)
	r.sid, _ = o.get("sid").(string)
	r.room = keyText(o.get("room"))
	r.fromParley, _ = o.get("parley").(bool)
	return r, true
}

// fromJSON turns encoding/json's generic values into the decoder's (objects keep no order
// here, which requests do not need).
func fromJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		o := make(object, 0, len(x))
		for k, e := range x {
			o = append(o, member{key: k, val: fromJSON(e)})
		}
		return o
	case []any:
		for i := range x {
			x[i] = fromJSON(x[i])
		}
		return x
	}
	return v
}

// onRequest answers the requests of other nodes. This node's own were applied locally
// before they were published.
func (b *Bus) onRequest(nsp string, payload []byte) {
	r, ok := parseRequest(payload)
	if !ok || r.uid == b.uid {
		return
	}
	if !r.fromParley && (r.typ == reqRemoteJoin || r.typ == reqRemoteLeave) {
		b.subs.setListenAll(true) // a Node node: follow every broadcast from now on
	}
	ns := b.opts.Server.Lookup(nsp)
	if ns == nil {
		return
	}
	one := socketio.BroadcastOptions{Rooms: []string{r.sid}}
	switch r.typ {
	case reqRemoteJoin:
		if r.hasOpts {
			b.recent.markJoined(nsp, r.rooms)
			ns.JoinLocal(r.opts, r.rooms)
		} else if r.sid != "" && ns.LocalSockets(one) != nil {
			b.recent.markJoined(nsp, []string{r.room})
			ns.JoinLocal(one, []string{r.room})
			b.respond(nsp, map[string]any{"requestId": r.requestID})
		}
	case reqRemoteLeave:
		if r.hasOpts {
			ns.LeaveLocal(r.opts, r.rooms)
		} else if r.sid != "" && ns.LocalSockets(one) != nil {
			ns.LeaveLocal(one, []string{r.room})
			b.respond(nsp, map[string]any{"requestId": r.requestID})
		}
	case reqRemoteDisconnct:
		if r.hasOpts {
			ns.DisconnectLocal(r.opts, r.closeConn)
		} else if r.sid != "" && ns.LocalSockets(one) != nil {
			ns.DisconnectLocal(one, r.closeConn)
			b.respond(nsp, map[string]any{"requestId": r.requestID})
		}
	case reqSockets:
		ids := []string{}
		for _, s := range ns.LocalSockets(socketio.BroadcastOptions{Rooms: r.rooms}) {
			ids = append(ids, s.ID())
		}
		b.respond(nsp, map[string]any{"requestId": r.requestID, "sockets": ids})
	case reqAllRooms:
		b.respond(nsp, map[string]any{"requestId": r.requestID, "rooms": nonNil(ns.LocalRooms())})
	case reqRemoteFetch:
		list := []any{}
		for _, s := range ns.LocalSockets(r.opts) {
			list = append(list, fetchedSocket(s))
		}
		b.respond(nsp, map[string]any{"requestId": r.requestID, "sockets": list})
	case reqBroadcast:
		// A broadcast that waits for client acks: Parley does not relay them, so it
		// says at once that none will come from here.
		b.respond(nsp, map[string]any{"type": reqClientCount, "requestId": r.requestID, "clientCount": 0})
	case reqServerSideEmit:
		// Parley has no server-side events.
	}
}

func (b *Bus) respond(nsp string, v any) {
	raw, err := json.Marshal(v)
	if err == nil {
		b.Publish(responseChannel(nsp), raw)
	}
}

// fetchedSocket describes a socket for a fetchSockets() on another node, in Node's shape,
// without credentials: no auth object, no Authorization or Cookie header, no token
// parameter, and no application data.
func fetchedSocket(s *socketio.Socket) map[string]any {
	hs := s.Handshake()
	headers := map[string]string{}
	for k, v := range hs.Header {
		switch lk := strings.ToLower(k); lk {
		case "authorization", "cookie", "sec-websocket-key":
		default:
			headers[lk] = strings.Join(v, ", ")
		}
	}
	query := map[string]string{}
	q := url.Values{}
	for k, v := range hs.Query {
		if k == "token" || len(v) == 0 {
			continue
		}
		query[k] = v[0]
		q.Set(k, v[0])
	}
	addr := hs.RemoteAddr // headers and query are usually gone by now (KeepHandshake)
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	return map[string]any{
		"id": s.ID(),
		"handshake": map[string]any{
			"headers": headers, "time": hs.Issued.UTC().Format("Mon Jan 02 2006 15:04:05 GMT+0000 (Coordinated Universal Time)"),
			"address": addr, "xdomain": hs.Header.Get("Origin") != "", "secure": false,
			"issued": hs.Issued.UnixMilli(), "url": "/socket.io/?" + q.Encode(), "query": query, "auth": map[string]any{},
		},
		"rooms": append([]string{s.ID()}, s.Rooms()...),
		"data":  map[string]any{},
	}
}
