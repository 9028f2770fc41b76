package handlers

import (
	"context"
	"errors"
	"strconv"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

// MessageReactInput is the payload of message:react and message:unreact.
type MessageReactInput struct {
	MessageID string `json:"messageId"`
	Emoji     string `json:"emoji"`
}

// Validate checks the input; the emoji rules are in emoji.go.
func (in *MessageReactInput) Validate() error {
	if err := requireID("messageId", in.MessageID); err != nil {
		return err
	}
	return reactionEmoji("emoji", in.Emoji)
}

// MessageReact answers message:react: any member may react to a message that is not
// deleted, once per emoji (reacting again succeeds and changes nothing).
func (h *Handlers) MessageReact(ctx context.Context, c Caller, in *MessageReactInput) (any, error) {
	return h.changeReaction(ctx, c, in, h.Store.React)
}

// MessageUnreact answers message:unreact: takes back the caller's own reaction
// (taking back one they never made succeeds and changes nothing).
func (h *Handlers) MessageUnreact(ctx context.Context, c Caller, in *MessageReactInput) (any, error) {
	return h.changeReaction(ctx, c, in, h.Store.Unreact)
}

func (h *Handlers) changeReaction(ctx context.Context, c Caller, in *MessageReactInput,
	change func(ctx context.Context, id, userID, emoji string) (*models.Message, bool, error)) (any, error) {
	msg, _, err := h.memberMessage(ctx, c.UserID, in.MessageID)
	if err != nil {
		return nil, err
	}
	if msg.Deleted {
		return nil, utils.NotFound("message") // the same answer as for an id that does not exist
	}
	msg, changed, err := change(ctx, msg.ID, c.UserID, in.Emoji)
	switch {
	case errors.Is(err, models.ErrNotFound): // deleted meanwhile
		return nil, utils.NotFound("message")
	case errors.Is(err, models.ErrTooManyReactions):
		return nil, utils.Invalid("emoji", "a message holds at most "+strconv.Itoa(models.MaxReactionEmoji)+" different emoji")
	case err != nil:
		return nil, err
	}
	views, err := h.messageViews(ctx, []*models.Message{msg})
	if err != nil {
		return nil, err
	}
	if changed {
		h.Emit.ToChat(msg.ChatID, c.SocketID, "message:reaction",
			map[string]any{"chatId": msg.ChatID, "messageId": msg.ID, "reactions": views[0].Reactions})
	}
	return map[string]any{"message": views[0]}, nil
}
