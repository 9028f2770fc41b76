package handlers

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

// UserMe answers user:me.
func (h *Handlers) UserMe(ctx context.Context, c Caller, _ *Empty) (any, error) {
	u, err := h.Store.UserByID(ctx, c.UserID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"user": h.userView(u, true)}, nil
}

// UserGetInput is the payload of user:get.
type UserGetInput struct {
	UserID string `json:"userId"`
}

// Validate checks the input.
func (in *UserGetInput) Validate() error { return requireID("userId", in.UserID) }

// UserGet answers user:get.
func (h *Handlers) UserGet(ctx context.Context, c Caller, in *UserGetInput) (any, error) {
	u, err := h.Store.UserByID(ctx, in.UserID)
	if errors.Is(err, models.ErrNotFound) {
		return nil, utils.NotFound("user")
	}
	if err != nil {
		return nil, err
	}
	visible, err := h.canSeePresence(ctx, c.UserID, u.ID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"user": h.userView(u, visible)}, nil
}

// UserSearchInput is the payload of user:search.
type UserSearchInput struct {
	Query string `json:"query"`
	Limit *int   `json:"limit"`
	limit int
}

// Validate checks the input.
func (in *UserSearchInput) Validate() (err error) {
	in.Query = strings.TrimSpace(in.Query)
	if in.Query == "" {
		return utils.Invalid("query", "must not be empty")
	}
	if utf8.RuneCountInString(in.Query) > 100 {
		return utils.Invalid("query", "must be at most 100 characters")
	}
	in.limit, err = limit("limit", in.Limit, 20, 50)
	return err
}

// UserSearch answers user:search: prefix match on handle or name.
func (h *Handlers) UserSearch(ctx context.Context, c Caller, in *UserSearchInput) (any, error) {
	found, err := h.Store.SearchUsers(ctx, in.Query, in.limit)
	if err != nil {
		return nil, err
	}
	contacts, err := h.contacts(ctx, c.UserID)
	if err != nil {
		return nil, err
	}
	users := make([]models.UserView, len(found))
	for i, u := range found {
		users[i] = h.userView(u, contacts[u.ID])
	}
	return map[string]any{"users": users}, nil
}

// UserUpdateInput is the payload of user:update.
type UserUpdateInput struct {
	Name  *string                `json:"name"`
	Image utils.Nullable[string] `json:"image"`
}

// Validate checks the input.
func (in *UserUpdateInput) Validate() error {
	if in.Name == nil && !in.Image.Set {
		return utils.Invalid("payload", "name or image is required")
	}
	if in.Name != nil {
		if err := utils.DisplayName("name", in.Name); err != nil {
			return err
		}
	}
	if in.Image.Value != nil {
		img := strings.TrimSpace(*in.Image.Value)
		if img == "" || len(img) > maxImageLen || strings.ContainsFunc(img, utils.IsControl) {
			return utils.Invalid("image", "must be a URL of at most 2048 characters, or null")
		}
		in.Image.Value = &img
	}
	return nil
}

// UserUpdate answers user:update and tells friends, chat partners and the user's other
// sockets.
func (h *Handlers) UserUpdate(ctx context.Context, c Caller, in *UserUpdateInput) (any, error) {
	patch := models.UserPatch{Name: in.Name}
	if in.Image.Set {
		if in.Image.Value == nil {
			patch.ClearImage = true
		} else {
			patch.Image = in.Image.Value
		}
	}
	u, err := h.Store.UpdateUser(ctx, c.UserID, patch, h.Now())
	if err != nil {
		return nil, err
	}
	h.invalidate(CacheUser, c.UserID)
	contacts, err := h.contacts(ctx, c.UserID)
	if err != nil {
		return nil, err
	}
	view := h.userView(u, true)
	for id := range contacts {
		h.Emit.ToUser(id, c.SocketID, "user:updated", map[string]any{"user": view})
	}
	return map[string]any{"user": view}, nil
}
