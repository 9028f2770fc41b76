package handlers

import (
	"context"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

// maxSyncCursors bounds the work one sync may ask for.
const maxSyncCursors = 1000

// SyncInput is the payload of sync.
type SyncInput struct {
	Cursors map[string]int64 `json:"cursors"`
	Limit   *int             `json:"limit"`
	limit   int
}

// Validate checks the input.
func (in *SyncInput) Validate() (err error) {
	if in.Cursors == nil {
		return utils.Invalid("cursors", "is required (an object of chatId → last seq held; {} for none)")
	}
	if in.limit, err = limit("limit", in.Limit, 200, 500); err != nil {
		return err
	}
	if len(in.Cursors) > maxSyncCursors {
		return utils.Invalid("cursors", "must name at most 1000 chats")
	}
	for id, seq := range in.Cursors {
		if seq < 0 {
			return utils.Invalid("cursors."+id, "must be a seq of at least 0")
		}
	}
	return nil
}

// Sync answers sync: every chat of the caller, and the messages after each cursor.
// Cursors for chats the caller is not in are ignored, so they reveal nothing.
func (h *Handlers) Sync(ctx context.Context, c Caller, in *SyncInput) (any, error) {
	chats, err := h.Store.ChatsForUser(ctx, c.UserID, nil, 0)
	if err != nil {
		return nil, err
	}
	views, err := h.chatViews(ctx, c.UserID, chats)
	if err != nil {
		return nil, err
	}
	var msgs []*models.Message
	truncated := []string{}
	for _, chat := range chats {
		cursor, ok := in.Cursors[chat.ID]
		if !ok || cursor >= chat.LastSeq {
			continue
		}
		page, more, err := h.Store.ListMessages(ctx, chat.ID, models.MessageQuery{After: afterCursor(cursor), Limit: in.limit})
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, page...)
		if more {
			truncated = append(truncated, chat.ID)
		}
	}
	msgViews, err := h.messageViews(ctx, msgs)
	if err != nil {
		return nil, err
	}
	return map[string]any{"chats": views, "messages": msgViews, "truncated": truncated}, nil
}
