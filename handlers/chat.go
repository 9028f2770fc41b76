package handlers

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

// ChatCreateInput is the payload of chat:create, direct or group.
type ChatCreateInput struct {
	Type           string   `json:"type"`
	ParticipantID  string   `json:"participantId"`
	Name           *string  `json:"name"`
	ParticipantIDs []string `json:"participantIds"`
}

// Validate checks the input for its type.
func (in *ChatCreateInput) Validate() error {
	switch in.Type {
	case models.ChatDirect:
		if in.Name != nil || in.ParticipantIDs != nil {
			return utils.Invalid("type", "a direct chat takes participantId only")
		}
		return requireID("participantId", in.ParticipantID)
	case models.ChatGroup:
		if in.ParticipantID != "" {
			return utils.Invalid("participantId", "a group takes participantIds")
		}
		if in.Name == nil {
			return utils.Invalid("name", "is required")
		}
		if err := utils.DisplayName("name", in.Name); err != nil {
			return err
		}
		return requireIDs("participantIds", in.ParticipantIDs, 1, maxGroupOthers)
	default:
		return utils.Invalid("type", `must be "direct" or "group"`)
	}
}

// ChatCreate answers chat:create.
func (h *Handlers) ChatCreate(ctx context.Context, c Caller, in *ChatCreateInput) (any, error) {
	if in.Type == models.ChatDirect {
		return h.createDirect(ctx, c, in.ParticipantID)
	}
	return h.createGroup(ctx, c, *in.Name, in.ParticipantIDs)
}

func (h *Handlers) createDirect(ctx context.Context, c Caller, otherID string) (any, error) {
	if otherID == c.UserID {
		return nil, utils.Invalid("participantId", "cannot open a direct chat with yourself")
	}
	if _, err := h.Store.UserByID(ctx, otherID); errors.Is(err, models.ErrNotFound) {
		return nil, utils.NotFound("user")
	} else if err != nil {
		return nil, err
	}
	if blocked, err := h.isBlocked(ctx, otherID, c.UserID); err != nil {
		return nil, err
	} else if blocked {
		return nil, utils.Forbidden("you cannot message this user")
	}
	chat, err := h.Store.DirectChat(ctx, c.UserID, otherID)
	if err == nil {
		return h.existingChat(ctx, c, chat)
	}
	if !errors.Is(err, models.ErrNotFound) {
		return nil, err
	}
	now := h.Now()
	chat = &models.Chat{
		ID: models.NewID(), Type: models.ChatDirect, Participants: []string{c.UserID, otherID},
		Admins: []string{}, CreatedBy: c.UserID, CreatedAt: now, UpdatedAt: now, LastActivity: now,
	}
	if err := h.Store.CreateChat(ctx, chat); errors.Is(err, models.ErrConflict) {
		// Both users opened the chat at the same moment: the other create won.
		if chat, err = h.Store.DirectChat(ctx, c.UserID, otherID); err != nil {
			return nil, err
		}
		return h.existingChat(ctx, c, chat)
	} else if err != nil {
		return nil, err
	}
	return h.announceNewChat(ctx, c, chat, map[string]any{"existing": false})
}

func (h *Handlers) existingChat(ctx context.Context, c Caller, chat *models.Chat) (any, error) {
	view, err := h.chatView(ctx, c.UserID, chat)
	if err != nil {
		return nil, err
	}
	return map[string]any{"chat": view, "existing": true}, nil
}

func (h *Handlers) createGroup(ctx context.Context, c Caller, name string, ids []string) (any, error) {
	others := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != c.UserID {
			others = append(others, id)
		}
	}
	if len(others) == 0 {
		return nil, utils.Invalid("participantIds", "must name at least one other user")
	}
	found, err := h.Store.UsersByIDs(ctx, others)
	if err != nil {
		return nil, err
	}
	if len(found) != len(others) {
		return nil, utils.NotFound("user")
	}
	now := h.Now()
	chat := &models.Chat{
		ID: models.NewID(), Type: models.ChatGroup, Name: &name,
		Participants: append([]string{c.UserID}, others...), Admins: []string{c.UserID},
		CreatedBy: c.UserID, CreatedAt: now, UpdatedAt: now, LastActivity: now,
	}
	if err := h.Store.CreateChat(ctx, chat); err != nil {
		return nil, err
	}
	return h.announceNewChat(ctx, c, chat, map[string]any{})
}

// announceNewChat puts every participant's live sockets into the chat room, tells them
// with chat:new, and answers the creator.
func (h *Handlers) announceNewChat(ctx context.Context, c Caller, chat *models.Chat, result map[string]any) (any, error) {
	for _, uid := range chat.Participants {
		h.Emit.JoinChat(uid, chat.ID)
	}
	h.announceChat(ctx, c, chat, "chat:new", chat.Participants)
	h.notifyChatAdded(ctx, c, chat, others(chat, c.UserID))
	view, err := h.chatView(ctx, c.UserID, chat)
	if err != nil {
		return nil, err
	}
	result["chat"] = view
	return result, nil
}

// ChatListInput is the payload of chat:list.
type ChatListInput struct {
	Before *string `json:"before"`
	Limit  *int    `json:"limit"`
	limit  int
	cursor *models.ChatCursor
}

// Validate checks the input and decodes the cursor.
func (in *ChatListInput) Validate() (err error) {
	if in.limit, err = limit("limit", in.Limit, 50, 100); err != nil {
		return err
	}
	if in.Before != nil {
		if in.cursor, err = decodeChatCursor(*in.Before); err != nil {
			return utils.Invalid("before", "is not a cursor this server issued")
		}
	}
	return nil
}

// The chat cursor is opaque to clients: base64 of "<lastActivity ms>:<chat id>".
func encodeChatCursor(c *models.Chat) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.LastActivity.UnixMilli(), 10) + ":" + c.ID))
}

func decodeChatCursor(s string) (*models.ChatCursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	ms, id, found := strings.Cut(string(raw), ":")
	if !found || !models.ValidID(id) {
		return nil, errors.New("bad cursor")
	}
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return nil, err
	}
	return &models.ChatCursor{LastActivity: time.UnixMilli(n).UTC(), ID: id}, nil
}

// ChatList answers chat:list: newest activity first, paged by an opaque cursor.
func (h *Handlers) ChatList(ctx context.Context, c Caller, in *ChatListInput) (any, error) {
	chats, err := h.Store.ChatsForUser(ctx, c.UserID, in.cursor, in.limit+1)
	if err != nil {
		return nil, err
	}
	var next *string
	if len(chats) > in.limit {
		chats = chats[:in.limit]
		cur := encodeChatCursor(chats[len(chats)-1])
		next = &cur
	}
	views, err := h.chatViews(ctx, c.UserID, chats)
	if err != nil {
		return nil, err
	}
	return map[string]any{"chats": views, "nextCursor": next}, nil
}

// ChatIDInput is the payload of events that name one chat.
type ChatIDInput struct {
	ChatID string `json:"chatId"`
}

// Validate checks the input.
func (in *ChatIDInput) Validate() error { return requireID("chatId", in.ChatID) }

// ChatGet answers chat:get.
func (h *Handlers) ChatGet(ctx context.Context, c Caller, in *ChatIDInput) (any, error) {
	chat, err := h.memberChat(ctx, c.UserID, in.ChatID)
	if err != nil {
		return nil, err
	}
	view, err := h.chatView(ctx, c.UserID, chat)
	if err != nil {
		return nil, err
	}
	return map[string]any{"chat": view}, nil
}
