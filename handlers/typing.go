package handlers

import (
	"context"

	"github.com/parley-chat/parley/models"
)

// TypingStart answers typing:start: the chat's other members see the typist (never the
// typist's own sockets), until typing:stop, a message, the timeout, or their last socket
// closing ends it.
func (h *Handlers) TypingStart(ctx context.Context, c Caller, in *ChatIDInput) (any, error) {
	if _, err := h.cachedMemberChat(ctx, c.UserID, in.ChatID); err != nil {
		return nil, err
	}
	users, err := h.cachedUsers(ctx, []string{c.UserID})
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, models.ErrNotFound
	}
	u := users[0]
	h.Typing.Start(in.ChatID, c.UserID)
	h.Emit.ToChatExceptUser(in.ChatID, c.UserID, "typing:start", map[string]any{
		"chatId": in.ChatID,
		"user":   map[string]any{"id": u.ID, "name": u.Name, "handle": u.Handle},
	})
	return ok(), nil
}

// TypingStop answers typing:stop.
func (h *Handlers) TypingStop(ctx context.Context, c Caller, in *ChatIDInput) (any, error) {
	if _, err := h.cachedMemberChat(ctx, c.UserID, in.ChatID); err != nil {
		return nil, err
	}
	h.Typing.Stop(in.ChatID, c.UserID)
	return ok(), nil
}

// TypingStopped is the Typing tracker's callback: it tells the chat a typing state ended.
func (h *Handlers) TypingStopped(chatID, userID string) {
	h.Emit.ToChatExceptUser(chatID, userID, "typing:stop", map[string]any{"chatId": chatID, "userId": userID})
}
