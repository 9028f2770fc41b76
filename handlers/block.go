package handlers

import (
	"context"
	"errors"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

// UserIDInput is the payload of events that name one other user.
type UserIDInput struct {
	UserID string `json:"userId"`
}

// Validate checks the input.
func (in *UserIDInput) Validate() error { return requireID("userId", in.UserID) }

// otherUser loads the user an event names, refusing the caller themself.
func (h *Handlers) otherUser(ctx context.Context, c Caller, userID string) (*models.User, error) {
	if userID == c.UserID {
		return nil, utils.Invalid("userId", "must be another user")
	}
	u, err := h.Store.UserByID(ctx, userID)
	if errors.Is(err, models.ErrNotFound) {
		return nil, utils.NotFound("user")
	}
	return u, err
}

// UserBlock answers user:block. The blocked user is not told; they find out only by being
// refused a direct chat, a direct message or a friend request.
func (h *Handlers) UserBlock(ctx context.Context, c Caller, in *UserIDInput) (any, error) {
	if _, err := h.otherUser(ctx, c, in.UserID); err != nil {
		return nil, err
	}
	if err := h.Store.Block(ctx, c.UserID, in.UserID, h.Now()); err != nil {
		return nil, err
	}
	h.invalidate(CacheBlock, blockKey(c.UserID, in.UserID))
	return ok(), nil
}

// UserUnblock answers user:unblock.
func (h *Handlers) UserUnblock(ctx context.Context, c Caller, in *UserIDInput) (any, error) {
	if _, err := h.otherUser(ctx, c, in.UserID); err != nil {
		return nil, err
	}
	if err := h.Store.Unblock(ctx, c.UserID, in.UserID); err != nil {
		return nil, err
	}
	h.invalidate(CacheBlock, blockKey(c.UserID, in.UserID))
	return ok(), nil
}

// UserBlocked answers user:blocked with the users the caller blocks.
func (h *Handlers) UserBlocked(ctx context.Context, c Caller, _ *Empty) (any, error) {
	ids, err := h.Store.BlockedIDs(ctx, c.UserID)
	if err != nil {
		return nil, err
	}
	users, err := h.userViews(ctx, c.UserID, ids)
	if err != nil {
		return nil, err
	}
	return map[string]any{"users": users}, nil
}

// userViews renders users for the viewer, in the order of ids, skipping unknown ids.
func (h *Handlers) userViews(ctx context.Context, viewer string, ids []string) ([]models.UserView, error) {
	users, err := h.usersByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	contacts, err := h.contacts(ctx, viewer)
	if err != nil {
		return nil, err
	}
	out := make([]models.UserView, 0, len(ids))
	for _, id := range ids {
		if u, ok := users[id]; ok {
			out = append(out, h.userView(u, contacts[id]))
		}
	}
	return out, nil
}
