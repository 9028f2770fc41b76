package handlers

import (
	"context"
	"errors"
	"unicode/utf8"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

// MessageNewInput is the payload of message:new.
type MessageNewInput struct {
	ChatID   string  `json:"chatId"`
	Text     string  `json:"text"`
	ReplyTo  *string `json:"replyTo"`
	ClientID *string `json:"clientId"`
	// Attachments are ids of the caller's uploads (POST /uploads) not attached yet.
	Attachments []string `json:"attachments"`
}

// Validate checks the input; text is trimmed, and may be empty when the message carries
// attachments.
func (in *MessageNewInput) Validate() error {
	if err := requireID("chatId", in.ChatID); err != nil {
		return err
	}
	if len(in.Attachments) > 0 {
		if err := requireIDs("attachments", in.Attachments, 1, models.MaxAttachmentsPerMessage); err != nil {
			return err
		}
		if err := optionalText("text", &in.Text); err != nil {
			return err
		}
	} else if err := messageText("text", &in.Text); err != nil {
		return err
	}
	if in.ReplyTo != nil {
		if err := requireID("replyTo", *in.ReplyTo); err != nil {
			return err
		}
	}
	if in.ClientID != nil {
		if n := utf8.RuneCountInString(*in.ClientID); n == 0 || n > maxClientIDRunes {
			return utils.Invalid("clientId", "must be 1 to 64 characters")
		}
	}
	return nil
}

// MessageNew answers message:new: resolve mentions, store with the next seq, broadcast to
// the chat, notify.
func (h *Handlers) MessageNew(ctx context.Context, c Caller, in *MessageNewInput) (any, error) {
	chat, err := h.cachedMemberChat(ctx, c.UserID, in.ChatID)
	if err != nil {
		return nil, err
	}
	if chat.Type == models.ChatDirect {
		for _, other := range others(chat, c.UserID) {
			if blocked, err := h.isBlocked(ctx, other, c.UserID); err != nil {
				return nil, err
			} else if blocked {
				return nil, utils.Forbidden("you cannot message this user")
			}
		}
	}
	if in.ReplyTo != nil {
		target, err := h.Store.MessageByID(ctx, *in.ReplyTo)
		if errors.Is(err, models.ErrNotFound) || (err == nil && target.ChatID != chat.ID) {
			return nil, utils.NotFound("reply target")
		} else if err != nil {
			return nil, err
		}
	}
	mentions, err := h.resolveMentions(ctx, chat, c.UserID, in.Text)
	if err != nil {
		return nil, err
	}
	msg := &models.Message{
		ID: models.NewID(), ChatID: chat.ID, SenderID: c.UserID, Text: in.Text,
		ReplyToID: in.ReplyTo, ClientID: in.ClientID, CreatedAt: h.Now(), Mentions: mentions,
	}
	for _, id := range in.Attachments {
		msg.Attachments = append(msg.Attachments, models.Attachment{ID: id})
	}
	stored, created, err := h.Store.InsertMessage(ctx, msg)
	if err != nil {
		return nil, attachmentRefusal(err)
	}
	// InsertMessage returns the message with its attachments: no read needed.
	views, err := h.renderMessages(ctx, []*models.Message{stored}, true)
	if err != nil {
		return nil, err
	}
	view, err := renderMessage(views[0])
	if err != nil {
		return nil, err
	}
	if created {
		h.Emit.ToChat(chat.ID, c.SocketID, "message:new", map[string]any{"message": view})
		if h.Typing != nil {
			h.Typing.Stop(chat.ID, c.UserID)
		}
		h.notifyMessage(ctx, chat, stored)
	}
	return map[string]any{"message": view}, nil
}

// attachmentRefusal answers an upload InsertMessage would not attach: NOT_FOUND for one
// that does not exist or is someone else's (the same answer, so ids reveal nothing),
// CONFLICT for the caller's own upload that another message holds.
func attachmentRefusal(err error) error {
	var re *models.AttachmentRefError
	switch {
	case !errors.As(err, &re):
		return err
	case errors.Is(err, models.ErrAttachmentTaken):
		return utils.Errorf(utils.CodeConflict, "attachment %s is already attached to a message", re.ID)
	default:
		return utils.NotFound("attachment " + re.ID)
	}
}

// MessageListInput is the payload of message:list.
type MessageListInput struct {
	ChatID string `json:"chatId"`
	Before *int64 `json:"before"`
	After  *int64 `json:"after"`
	Limit  *int   `json:"limit"`
	query  models.MessageQuery
}

// Validate checks the input and builds the store query.
func (in *MessageListInput) Validate() (err error) {
	if err := requireID("chatId", in.ChatID); err != nil {
		return err
	}
	if in.query.Limit, err = limit("limit", in.Limit, 50, 100); err != nil {
		return err
	}
	if in.Before != nil {
		if *in.Before < 1 {
			return utils.Invalid("before", "must be a seq of at least 1")
		}
		in.query.Before = *in.Before
	}
	if in.After != nil {
		if *in.After < 0 {
			return utils.Invalid("after", "must be a seq of at least 0")
		}
		in.query.After = afterCursor(*in.After)
	}
	if in.Before != nil && in.After != nil && *in.After >= *in.Before-1 {
		in.query.Limit = 0 // an empty range: nothing lies strictly between the bounds
	}
	return nil
}

// MessageList answers message:list.
func (h *Handlers) MessageList(ctx context.Context, c Caller, in *MessageListInput) (any, error) {
	if _, err := h.memberChat(ctx, c.UserID, in.ChatID); err != nil {
		return nil, err
	}
	if in.query.Limit == 0 {
		return map[string]any{"messages": []models.MessageView{}, "hasMore": false}, nil
	}
	msgs, hasMore, err := h.Store.ListMessages(ctx, in.ChatID, in.query)
	if err != nil {
		return nil, err
	}
	views, err := h.messageViews(ctx, msgs)
	if err != nil {
		return nil, err
	}
	return map[string]any{"messages": views, "hasMore": hasMore}, nil
}

// MessageEditInput is the payload of message:edit.
type MessageEditInput struct {
	MessageID string `json:"messageId"`
	Text      string `json:"text"`
}

// Validate checks the input; text is trimmed. An empty text is checked by the handler:
// only a message with attachments may have one.
func (in *MessageEditInput) Validate() error {
	if err := requireID("messageId", in.MessageID); err != nil {
		return err
	}
	return optionalText("text", &in.Text)
}

// MessageEdit answers message:edit (sender only). The mentions are resolved again from
// the new text and the chat's members now; members it mentions that the previous text did
// not are notified as for a new message (a member is notified of one message once).
func (h *Handlers) MessageEdit(ctx context.Context, c Caller, in *MessageEditInput) (any, error) {
	// The cached chat, as for a send: its handle index resolves the mentions below.
	msg, chat, err := h.messageInChat(ctx, c.UserID, in.MessageID, h.cachedMemberChat)
	if err != nil {
		return nil, err
	}
	if msg.SenderID != c.UserID {
		return nil, utils.Forbidden("only the sender can edit a message")
	}
	if msg.Deleted {
		return nil, errDeleted()
	}
	if in.Text == "" {
		atts, err := h.Store.AttachmentsForMessages(ctx, []string{msg.ID})
		if err != nil {
			return nil, err
		}
		if len(atts[msg.ID]) == 0 {
			return nil, utils.Invalid("text", "must not be empty (only a message with attachments may have no text)")
		}
	}
	mentions, err := h.resolveMentions(ctx, chat, c.UserID, in.Text)
	if err != nil {
		return nil, err
	}
	edited, err := h.Store.EditMessage(ctx, msg.ID, in.Text, mentions, h.Now())
	if errors.Is(err, models.ErrNotFound) {
		return nil, errDeleted() // deleted since it was read
	} else if err != nil {
		return nil, err
	}
	views, err := h.messageViews(ctx, []*models.Message{edited})
	if err != nil {
		return nil, err
	}
	h.Emit.ToChat(edited.ChatID, c.SocketID, "message:updated", map[string]any{"message": views[0]})
	h.notifyMentions(ctx, edited, newlyMentioned(msg.Mentions, edited.Mentions))
	return map[string]any{"message": views[0]}, nil
}

// errDeleted answers an edit of a deleted message.
func errDeleted() error { return utils.Errorf(utils.CodeConflict, "the message was deleted") }

// MessageIDInput is the payload of events that name one message.
type MessageIDInput struct {
	MessageID string `json:"messageId"`
}

// Validate checks the input.
func (in *MessageIDInput) Validate() error { return requireID("messageId", in.MessageID) }

// MessageDelete answers message:delete (the sender, or an admin of the group).
func (h *Handlers) MessageDelete(ctx context.Context, c Caller, in *MessageIDInput) (any, error) {
	msg, chat, err := h.memberMessage(ctx, c.UserID, in.MessageID)
	if err != nil {
		return nil, err
	}
	if msg.SenderID != c.UserID && !(chat.Type == models.ChatGroup && chat.IsAdmin(c.UserID)) {
		return nil, utils.Forbidden("only the sender or a group admin can delete a message")
	}
	result := map[string]any{"messageId": msg.ID, "chatId": msg.ChatID}
	if msg.Deleted {
		return result, nil
	}
	if _, err := h.Store.DeleteMessage(ctx, msg.ID, h.Now()); err != nil {
		return nil, err
	}
	h.Emit.ToChat(msg.ChatID, c.SocketID, "message:deleted", result)
	return result, nil
}

// MessageReadInput is the payload of message:read.
type MessageReadInput struct {
	ChatID string `json:"chatId"`
	Seq    *int64 `json:"seq"`
}

// Validate checks the input.
func (in *MessageReadInput) Validate() error {
	if err := requireID("chatId", in.ChatID); err != nil {
		return err
	}
	if in.Seq == nil {
		return utils.Invalid("seq", "is required")
	}
	if *in.Seq < 0 {
		return utils.Invalid("seq", "must be at least 0")
	}
	return nil
}

// MessageRead answers message:read: the read mark only moves forward, and never past the
// chat's last message.
func (h *Handlers) MessageRead(ctx context.Context, c Caller, in *MessageReadInput) (any, error) {
	chat, err := h.memberChat(ctx, c.UserID, in.ChatID)
	if err != nil {
		return nil, err
	}
	seq := min(*in.Seq, chat.LastSeq)
	before, err := h.Store.ReadSeqs(ctx, c.UserID, []string{chat.ID})
	if err != nil {
		return nil, err
	}
	readSeq, err := h.Store.MarkRead(ctx, chat.ID, c.UserID, seq)
	if err != nil {
		return nil, err
	}
	if readSeq > before[chat.ID] {
		h.Emit.ToChat(chat.ID, c.SocketID, "message:read", map[string]any{"chatId": chat.ID, "userId": c.UserID, "readSeq": readSeq})
	}
	return map[string]any{"chatId": chat.ID, "readSeq": readSeq}, nil
}

// afterCursor turns a client's `after` seq into the store's After: a client's 0 means "from
// the first message", which the store spells -1 because its 0 means "unset".
func afterCursor(seq int64) int64 {
	if seq == 0 {
		return -1
	}
	return seq
}
