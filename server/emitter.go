package server

import (
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// Room names. Emitting to a user goes through their room, never through a socket id map,
// so it reaches every tab on every node (the Redis adapter carries it across nodes).
func userRoom(userID string) socket.Room { return socket.Room("user:" + userID) }
func chatRoom(chatID string) socket.Room { return socket.Room("chat:" + chatID) }

// emitter implements handlers.Emitter on the Socket.IO server.
type emitter struct {
	io *socket.Server
}

func (e emitter) to(room socket.Room, except string) *socket.BroadcastOperator {
	op := e.io.To(room)
	if except != "" {
		// Every socket sits in a room named after its id, so this leaves out just the actor.
		op = op.Except(socket.Room(except))
	}
	return op
}

func (e emitter) ToUser(userID, except, event string, payload any) {
	_ = e.to(userRoom(userID), except).Emit(event, payload)
}

func (e emitter) ToChat(chatID, except, event string, payload any) {
	_ = e.to(chatRoom(chatID), except).Emit(event, payload)
}

func (e emitter) JoinChat(userID, chatID string) {
	e.io.In(userRoom(userID)).SocketsJoin(chatRoom(chatID))
}

func (e emitter) LeaveChat(userID, chatID string) {
	e.io.In(userRoom(userID)).SocketsLeave(chatRoom(chatID))
}

func (e emitter) ToChatExceptUser(chatID, userID, event string, payload any) {
	_ = e.io.To(chatRoom(chatID)).Except(userRoom(userID)).Emit(event, payload)
}
