package handlers

import (
	"context"
	"errors"
	"time"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

// ChatMuteInput is the payload of chat:mute.
type ChatMuteInput struct {
	ChatID string `json:"chatId"`
	// Until is an ISO-8601 time; absent or null mutes without an end.
	Until *string `json:"until"`
	until time.Time
}

// Validate checks the input and parses until (that it lies ahead is checked against the
// handler's clock).
func (in *ChatMuteInput) Validate() error {
	if err := requireID("chatId", in.ChatID); err != nil {
		return err
	}
	in.until = models.MuteForever
	if in.Until != nil {
		t, err := time.Parse(time.RFC3339Nano, *in.Until)
		if err != nil {
			return utils.Invalid("until", "must be an ISO-8601 time with a zone, such as 2030-01-01T00:00:00.000Z, or null")
		}
		// Stores keep milliseconds, as the wire shows them.
		if in.until = t.UTC().Truncate(time.Millisecond); in.until.After(models.MuteForever) {
			in.until = models.MuteForever
		}
	}
	return nil
}

// ChatMute answers chat:mute: while muted, the chat's messages create no message
// notifications for the caller (live events still arrive). Muting again replaces the end.
func (h *Handlers) ChatMute(ctx context.Context, c Caller, in *ChatMuteInput) (any, error) {
	chat, err := h.memberChat(ctx, c.UserID, in.ChatID)
	if err != nil {
		return nil, err
	}
	if !in.until.After(h.Now()) {
		return nil, utils.Invalid("until", "must be in the future")
	}
	return h.setMute(ctx, c, chat, &in.until)
}

// ChatUnmute answers chat:unmute (unmuting a chat that is not muted succeeds).
func (h *Handlers) ChatUnmute(ctx context.Context, c Caller, in *ChatIDInput) (any, error) {
	chat, err := h.memberChat(ctx, c.UserID, in.ChatID)
	if err != nil {
		return nil, err
	}
	return h.setMute(ctx, c, chat, nil)
}

// setMute stores the caller's mute, drops the cached chat everywhere (message:new reads
// mutes from it), and tells the caller's other sockets when their view of the chat changed.
func (h *Handlers) setMute(ctx context.Context, c Caller, chat *models.Chat, until *time.Time) (any, error) {
	before := chat.MutedFor(c.UserID, h.Now())
	updated, err := h.Store.SetMute(ctx, chat.ID, c.UserID, until)
	if errors.Is(err, models.ErrNotFound) { // left or removed meanwhile
		return nil, utils.NotFound("chat")
	} else if err != nil {
		return nil, err
	}
	h.invalidate(CacheChat, chat.ID)
	view, err := h.chatView(ctx, c.UserID, updated)
	if err != nil {
		return nil, err
	}
	if !sameTimePtr(before, updated.MutedFor(c.UserID, h.Now())) {
		h.Emit.ToUser(c.UserID, c.SocketID, "chat:updated", map[string]any{"chat": view})
	}
	return map[string]any{"chat": view}, nil
}

func sameTimePtr(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}
