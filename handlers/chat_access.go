package handlers

import (
	"context"
	"errors"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

// memberChat loads a chat the caller belongs to. A chat that does not exist and one the
// caller is not in get the same NOT_FOUND, so ids reveal nothing.
func (h *Handlers) memberChat(ctx context.Context, userID, chatID string) (*models.Chat, error) {
	chat, err := h.Store.ChatByID(ctx, chatID)
	if errors.Is(err, models.ErrNotFound) || (err == nil && !chat.IsMember(userID)) {
		return nil, utils.NotFound("chat")
	}
	return chat, err
}

// adminGroup loads a group chat the caller administers: NOT_FOUND for outsiders,
// FORBIDDEN for members who are not admins or for direct chats.
func (h *Handlers) adminGroup(ctx context.Context, userID, chatID string) (*models.Chat, error) {
	chat, err := h.memberChat(ctx, userID, chatID)
	if err != nil {
		return nil, err
	}
	if chat.Type != models.ChatGroup {
		return nil, utils.Forbidden("direct chats have no admins")
	}
	if !chat.IsAdmin(userID) {
		return nil, utils.Forbidden("only group admins can do this")
	}
	return chat, nil
}

// memberMessage loads a message in a chat the caller belongs to, with its chat as the
// store has it.
func (h *Handlers) memberMessage(ctx context.Context, userID, messageID string) (*models.Message, *models.Chat, error) {
	return h.messageInChat(ctx, userID, messageID, h.memberChat)
}

// messageInChat loads a message and, through loadChat, its chat if the caller belongs to
// it; NOT_FOUND for the message otherwise.
func (h *Handlers) messageInChat(ctx context.Context, userID, messageID string,
	loadChat func(ctx context.Context, userID, chatID string) (*models.Chat, error)) (*models.Message, *models.Chat, error) {
	msg, err := h.Store.MessageByID(ctx, messageID)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil, utils.NotFound("message")
	}
	if err != nil {
		return nil, nil, err
	}
	chat, err := loadChat(ctx, userID, msg.ChatID)
	var ae *utils.AppError
	if errors.As(err, &ae) && ae.Code == utils.CodeNotFound {
		return nil, nil, utils.NotFound("message")
	}
	return msg, chat, err
}

// others returns the participants except userID.
func others(chat *models.Chat, userID string) []string {
	out := make([]string, 0, len(chat.Participants))
	for _, id := range chat.Participants {
		if id != userID {
			out = append(out, id)
		}
	}
	return out
}
