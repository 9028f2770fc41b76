package handlers

import (
	"context"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

// ChatUpdateInput is the payload of chat:update.
type ChatUpdateInput struct {
	ChatID string `json:"chatId"`
	Name   string `json:"name"`
}

// Validate checks the input.
func (in *ChatUpdateInput) Validate() error {
	if err := requireID("chatId", in.ChatID); err != nil {
		return err
	}
	return utils.DisplayName("name", &in.Name)
}

// ChatUpdate answers chat:update (group admins only).
func (h *Handlers) ChatUpdate(ctx context.Context, c Caller, in *ChatUpdateInput) (any, error) {
	if _, err := h.adminGroup(ctx, c.UserID, in.ChatID); err != nil {
		return nil, err
	}
	chat, err := h.Store.SetChatName(ctx, in.ChatID, in.Name, h.Now())
	if err != nil {
		return nil, err
	}
	h.invalidate(CacheChat, chat.ID)
	return h.chatChanged(ctx, c, chat)
}

// chatChanged tells every member about a changed chat and answers the caller with it.
func (h *Handlers) chatChanged(ctx context.Context, c Caller, chat *models.Chat) (any, error) {
	h.announceChat(ctx, c, chat, "chat:updated", chat.Participants)
	view, err := h.chatView(ctx, c.UserID, chat)
	if err != nil {
		return nil, err
	}
	return map[string]any{"chat": view}, nil
}

// ChatParticipantsAddInput is the payload of chat:participants:add.
type ChatParticipantsAddInput struct {
	ChatID  string   `json:"chatId"`
	UserIDs []string `json:"userIds"`
}

// Validate checks the input.
func (in *ChatParticipantsAddInput) Validate() error {
	if err := requireID("chatId", in.ChatID); err != nil {
		return err
	}
	return requireIDs("userIds", in.UserIDs, 1, maxGroupOthers)
}

// ChatParticipantsAdd answers chat:participants:add (group admins only).
func (h *Handlers) ChatParticipantsAdd(ctx context.Context, c Caller, in *ChatParticipantsAddInput) (any, error) {
	chat, err := h.adminGroup(ctx, c.UserID, in.ChatID)
	if err != nil {
		return nil, err
	}
	var added []string
	for _, id := range in.UserIDs {
		if !chat.IsMember(id) {
			added = append(added, id)
		}
	}
	if len(added) == 0 {
		return h.chatChanged(ctx, c, chat)
	}
	if len(chat.Participants)+len(added) > maxGroupOthers+1 {
		return nil, utils.Invalid("userIds", "a group holds at most 201 members")
	}
	found, err := h.Store.UsersByIDs(ctx, added)
	if err != nil {
		return nil, err
	}
	if len(found) != len(added) {
		return nil, utils.NotFound("user")
	}
	chat, err = h.Store.AddParticipants(ctx, chat.ID, added, h.Now())
	if err != nil {
		return nil, err
	}
	h.invalidate(CacheChat, chat.ID)
	for _, id := range added {
		h.Emit.JoinChat(id, chat.ID)
	}
	h.announceChat(ctx, c, chat, "chat:new", added)
	h.notifyChatAdded(ctx, c, chat, added)
	h.announceChat(ctx, c, chat, "chat:updated", except(chat.Participants, added))
	view, err := h.chatView(ctx, c.UserID, chat)
	if err != nil {
		return nil, err
	}
	return map[string]any{"chat": view}, nil
}

// ChatParticipantsRemoveInput is the payload of chat:participants:remove.
type ChatParticipantsRemoveInput struct {
	ChatID string `json:"chatId"`
	UserID string `json:"userId"`
}

// Validate checks the input.
func (in *ChatParticipantsRemoveInput) Validate() error {
	if err := requireID("chatId", in.ChatID); err != nil {
		return err
	}
	return requireID("userId", in.UserID)
}

// ChatParticipantsRemove answers chat:participants:remove (group admins only; never the
// last admin).
func (h *Handlers) ChatParticipantsRemove(ctx context.Context, c Caller, in *ChatParticipantsRemoveInput) (any, error) {
	chat, err := h.adminGroup(ctx, c.UserID, in.ChatID)
	if err != nil {
		return nil, err
	}
	if !chat.IsMember(in.UserID) {
		return nil, utils.NotFound("participant")
	}
	if chat.IsAdmin(in.UserID) && len(chat.Admins) == 1 {
		return nil, utils.Forbidden("a group keeps at least one admin")
	}
	chat, err = h.Store.RemoveParticipant(ctx, chat.ID, in.UserID, h.Now())
	if err != nil {
		return nil, err
	}
	h.invalidate(CacheChat, chat.ID)
	h.removedFromChat(c, chat.ID, in.UserID)
	return h.chatChanged(ctx, c, chat)
}

// removedFromChat takes a user's sockets out of the chat room at once and tells them.
func (h *Handlers) removedFromChat(c Caller, chatID, userID string) {
	h.Emit.LeaveChat(userID, chatID)
	h.Emit.ToUser(userID, c.SocketID, "chat:removed", map[string]any{"chatId": chatID})
}

// ChatAdminSetInput is the payload of chat:admin:set.
type ChatAdminSetInput struct {
	ChatID string `json:"chatId"`
	UserID string `json:"userId"`
	Admin  *bool  `json:"admin"`
}

// Validate checks the input.
func (in *ChatAdminSetInput) Validate() error {
	if err := requireID("chatId", in.ChatID); err != nil {
		return err
	}
	if err := requireID("userId", in.UserID); err != nil {
		return err
	}
	if in.Admin == nil {
		return utils.Invalid("admin", "is required")
	}
	return nil
}

// ChatAdminSet answers chat:admin:set (group admins only; a group keeps an admin).
func (h *Handlers) ChatAdminSet(ctx context.Context, c Caller, in *ChatAdminSetInput) (any, error) {
	chat, err := h.adminGroup(ctx, c.UserID, in.ChatID)
	if err != nil {
		return nil, err
	}
	if !chat.IsMember(in.UserID) {
		return nil, utils.NotFound("participant")
	}
	if !*in.Admin && chat.IsAdmin(in.UserID) && len(chat.Admins) == 1 {
		return nil, utils.Forbidden("a group keeps at least one admin")
	}
	chat, err = h.Store.SetAdmin(ctx, chat.ID, in.UserID, *in.Admin, h.Now())
	if err != nil {
		return nil, err
	}
	h.invalidate(CacheChat, chat.ID)
	return h.chatChanged(ctx, c, chat)
}

// ChatLeave answers chat:leave (groups only). The store promotes the longest-standing
// member when the last admin leaves.
func (h *Handlers) ChatLeave(ctx context.Context, c Caller, in *ChatIDInput) (any, error) {
	chat, err := h.memberChat(ctx, c.UserID, in.ChatID)
	if err != nil {
		return nil, err
	}
	if chat.Type != models.ChatGroup {
		return nil, utils.Forbidden("direct chats cannot be left")
	}
	chat, err = h.Store.RemoveParticipant(ctx, chat.ID, c.UserID, h.Now())
	if err != nil {
		return nil, err
	}
	h.invalidate(CacheChat, chat.ID)
	h.removedFromChat(c, chat.ID, c.UserID)
	h.announceChat(ctx, c, chat, "chat:updated", chat.Participants)
	return ok(), nil
}

// except returns list without the members of drop.
func except(list, drop []string) []string {
	skip := make(map[string]struct{}, len(drop))
	for _, id := range drop {
		skip[id] = struct{}{}
	}
	out := make([]string, 0, len(list))
	for _, id := range list {
		if _, ok := skip[id]; !ok {
			out = append(out, id)
		}
	}
	return out
}
