package server

import (
	"github.com/parley-chat/parley/internal/socketio"
)

// Room names. Emitting to a user goes through their room, never through a socket id map,
// so it reaches every tab on every node (the cluster bus carries it across nodes).
func userRoom(userID string) string { return "user:" + userID }
func chatRoom(chatID string) string { return "chat:" + chatID }

// emitter implements handlers.Emitter on the main namespace. Each event is encoded once
// (JSON, then one Socket.IO packet and WebSocket frame) and shared by every recipient.
type emitter struct {
	ns *socketio.Namespace
}

func (e emitter) broadcast(room, except, event string, payload any) {
	e.broadcastOpts(socketio.BroadcastOptions{Rooms: []string{room}}, except, event, payload)
}

func (e emitter) broadcastOpts(opts socketio.BroadcastOptions, except, event string, payload any) {
	raw, err := encodePayload(payload)
	if err != nil {
		return // wire shapes always marshal; nothing sensible to send otherwise
	}
	if except != "" {
		// Every socket is also a room named after its id, so this leaves out just the actor.
		opts.Except = append(opts.Except, except)
	}
	if event == "message:new" {
		// Lets the delivery log note which message reached which node's sockets.
		opts.Tag = messageIDOf(payload)
	}
	e.ns.Broadcast(opts, e.ns.Encode(event, [][]byte{raw}, nil))
}

func (e emitter) ToUser(userID, except, event string, payload any) {
	e.broadcast(userRoom(userID), except, event, payload)
}

func (e emitter) ToChat(chatID, except, event string, payload any) {
	e.broadcast(chatRoom(chatID), except, event, payload)
}

func (e emitter) ToChatExceptUser(chatID, userID, event string, payload any) {
	e.broadcastOpts(socketio.BroadcastOptions{Rooms: []string{chatRoom(chatID)}, Except: []string{userRoom(userID)}}, "", event, payload)
}

func (e emitter) JoinChat(userID, chatID string) {
	e.ns.SocketsJoin(socketio.BroadcastOptions{Rooms: []string{userRoom(userID)}}, chatRoom(chatID))
}

func (e emitter) LeaveChat(userID, chatID string) {
	e.ns.SocketsLeave(socketio.BroadcastOptions{Rooms: []string{userRoom(userID)}}, chatRoom(chatID))
}
