// Package handlers holds the event flows: validate, check permissions, write, populate,
// broadcast, notify, ack. Handlers depend on small interfaces (store, emitter, presence)
// and never on a driver or a *socket.Socket, so they are testable in-process.
package handlers

import (
	"context"
	"reflect"
	"time"

	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

// Caller is who sent an event and through which socket.
type Caller struct {
	UserID   string
	SocketID string
}

// Emitter delivers server events. Every method reaches sockets on every node. except is a
// socket id to leave out (the acting socket), or "".
type Emitter interface {
	ToUser(userID, except, event string, payload any)
	ToChat(chatID, except, event string, payload any)
	// ToChatExceptUser reaches the chat's sockets except every socket of userID.
	ToChatExceptUser(chatID, userID, event string, payload any)
	// JoinChat and LeaveChat change the chat room membership of every live socket of userID.
	JoinChat(userID, chatID string)
	LeaveChat(userID, chatID string)
}

// Presence answers who is online (connected, or within the reload grace) and who has a
// connected socket right now, anywhere in the cluster.
type Presence interface {
	IsOnline(userID string) bool
	Connected(userID string) bool
}

// Typing holds typing states in memory; Stop fires the typing:stop broadcast.
type Typing interface {
	Start(chatID, userID string) bool
	Stop(chatID, userID string)
}

// Deps is everything the handlers need.
type Deps struct {
	Store    models.Store
	Emit     Emitter
	Presence Presence
	Typing   Typing
	Now      func() time.Time
	Log      zerolog.Logger
	// Invalidate tells the other nodes to drop a cached entry (nil on a single node).
	Invalidate func(kind, key string)
	// CacheTrusted reports whether invalidations can reach this node (the bus is
	// connected); nil on a single node, where they always can.
	CacheTrusted func() bool
	// AttachmentURL returns the (signed, short-lived) url of an upload, rendered into
	// every attachment view; nil renders empty urls.
	AttachmentURL func(id string) string
}

// Handlers implements every client → server event.
type Handlers struct {
	Deps
	notify *notifier
	cache  *readCache
}

// New builds the handlers.
func New(d Deps) *Handlers {
	if d.Now == nil {
		d.Now = func() time.Time { return time.Now().UTC() }
	}
	c := newReadCache()
	c.trusted = d.CacheTrusted
	return &Handlers{Deps: d, notify: newNotifier(), cache: c}
}

// Event is one client → server event: its name and the function that decodes, validates
// and handles a raw JSON payload.
type Event struct {
	Name   string
	Handle func(ctx context.Context, c Caller, raw []byte) (any, error)
}

// bind ties an input type to a handler: strict decoding into In, then In.Validate, then fn.
func bind[In any, P interface {
	*In
	utils.Validator
}](name string, fn func(context.Context, Caller, P) (any, error)) Event {
	dec := utils.NewStrictDecoder(reflect.TypeFor[In]())
	return Event{Name: name, Handle: func(ctx context.Context, c Caller, raw []byte) (any, error) {
		in := P(new(In))
		if err := dec.Decode(raw, in); err != nil {
			return nil, err
		}
		if err := in.Validate(); err != nil {
			return nil, err
		}
		return fn(ctx, c, in)
	}}
}

// Events lists every client → server event with its handler.
func (h *Handlers) Events() []Event {
	return []Event{
		bind("user:me", h.UserMe),
		bind("user:get", h.UserGet),
		bind("user:search", h.UserSearch),
		bind("user:update", h.UserUpdate),
		bind("chat:create", h.ChatCreate),
		bind("chat:list", h.ChatList),
		bind("chat:get", h.ChatGet),
		bind("chat:update", h.ChatUpdate),
		bind("chat:participants:add", h.ChatParticipantsAdd),
		bind("chat:participants:remove", h.ChatParticipantsRemove),
		bind("chat:admin:set", h.ChatAdminSet),
		bind("chat:leave", h.ChatLeave),
		bind("chat:mute", h.ChatMute),
		bind("chat:unmute", h.ChatUnmute),
		bind("message:new", h.MessageNew),
		bind("message:list", h.MessageList),
		bind("message:edit", h.MessageEdit),
		bind("message:delete", h.MessageDelete),
		bind("message:read", h.MessageRead),
		bind("message:react", h.MessageReact),
		bind("message:unreact", h.MessageUnreact),
		bind("message:search", h.MessageSearch),
		bind("sync", h.Sync),
		bind("user:block", h.UserBlock),
		bind("user:unblock", h.UserUnblock),
		bind("user:blocked", h.UserBlocked),
		bind("presence:get", h.PresenceGet),
		bind("typing:start", h.TypingStart),
		bind("typing:stop", h.TypingStop),
		bind("friend:request:send", h.FriendRequestSend),
		bind("friend:request:accept", h.FriendRequestAccept),
		bind("friend:request:decline", h.FriendRequestDecline),
		bind("friend:request:cancel", h.FriendRequestCancel),
		bind("friend:request:list", h.FriendRequestList),
		bind("friend:list", h.FriendList),
		bind("friend:remove", h.FriendRemove),
		bind("notification:list", h.NotificationList),
		bind("notification:read", h.NotificationRead),
	}
}

// Empty is the input of events that take no fields.
type Empty struct{}

// Validate accepts the empty object.
func (*Empty) Validate() error { return nil }

// ok is a success result with no fields.
func ok() map[string]any { return map[string]any{} }
