package handlers

import (
	"context"
	"time"

	"github.com/parley-chat/parley/models"
)

// PresenceGetInput is the payload of presence:get.
type PresenceGetInput struct {
	UserIDs []string `json:"userIds" msgpack:"userIds"`
}

// Validate checks the input.
func (in *PresenceGetInput) Validate() error { return requireIDs("userIds", in.UserIDs, 1, 200) }

type presenceEntry struct {
	UserID   string  `json:"userId" msgpack:"userId"`
	Online   bool    `json:"online" msgpack:"online"`
	LastSeen *string `json:"lastSeen" msgpack:"lastSeen"`
}

// PresenceGet answers presence:get. Users the caller may not see (not themself, a friend
// or a chat partner), and ids that name nobody, read as offline with no lastSeen.
func (h *Handlers) PresenceGet(ctx context.Context, c Caller, in *PresenceGetInput) (any, error) {
	contacts, err := h.contacts(ctx, c.UserID)
	if err != nil {
		return nil, err
	}
	users, err := h.usersByID(ctx, in.UserIDs)
	if err != nil {
		return nil, err
	}
	out := make([]presenceEntry, len(in.UserIDs))
	for i, id := range in.UserIDs {
		out[i] = presenceEntry{UserID: id}
		if u, ok := users[id]; ok && contacts[id] {
			v := h.userView(u, true)
			out[i].Online, out[i].LastSeen = v.Online, v.LastSeen
		}
	}
	return map[string]any{"presence": out}, nil
}

// AnnouncePresence tells a user's friends and chat partners that they came online or went
// offline. Going offline stores lastSeen first, so what the update says is durable.
func (h *Handlers) AnnouncePresence(ctx context.Context, userID string, online bool, at time.Time) {
	var lastSeen *string
	if !online {
		if err := h.Store.SetLastSeen(ctx, userID, at); err != nil {
			h.Log.Warn().Err(err).Str("userId", userID).Msg("could not store lastSeen")
		}
		h.invalidate(CacheUser, userID)
		lastSeen = models.FormatTimePtr(&at)
	} else if u, err := h.Store.UserByID(ctx, userID); err == nil {
		lastSeen = models.FormatTimePtr(u.LastSeen)
	}
	contacts, err := h.contacts(ctx, userID)
	if err != nil {
		h.Log.Warn().Err(err).Str("userId", userID).Msg("could not find who sees this user's presence")
		return
	}
	update := presenceEntry{UserID: userID, Online: online, LastSeen: lastSeen}
	for id := range contacts {
		if id != userID {
			h.Emit.ToUser(id, "", "presence:update", update)
		}
	}
}
