package handlers

import (
	"context"
	"errors"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

// requestView renders a friend request with both users (they see each other's presence
// once friends; before that, as strangers do).
func (h *Handlers) requestView(ctx context.Context, viewer string, r *models.FriendRequest) (models.FriendRequestView, error) {
	users, err := h.usersByID(ctx, []string{r.FromID, r.ToID})
	if err != nil {
		return models.FriendRequestView{}, err
	}
	contacts, err := h.contacts(ctx, viewer)
	if err != nil {
		return models.FriendRequestView{}, err
	}
	view := func(id string) models.UserView {
		if u, ok := users[id]; ok {
			return h.userView(u, contacts[id])
		}
		return models.UserView{ID: id, Name: "Deleted user"}
	}
	return models.FriendRequestView{ID: r.ID, From: view(r.FromID), To: view(r.ToID), Status: r.Status,
		CreatedAt: models.FormatTime(r.CreatedAt)}, nil
}

// tellRequest sends a request event to a user (every socket but the acting one).
func (h *Handlers) tellRequest(ctx context.Context, c Caller, userID, event string, r *models.FriendRequest) {
	view, err := h.requestView(ctx, userID, r)
	if err != nil {
		h.Log.Warn().Err(err).Str("event", event).Msg("could not render friend request")
		return
	}
	h.Emit.ToUser(userID, c.SocketID, event, map[string]any{"request": view})
}

// requestResult answers the actor and tells both sides.
func (h *Handlers) requestResult(ctx context.Context, c Caller, event string, r *models.FriendRequest) (any, error) {
	other := r.ToID
	if other == c.UserID {
		other = r.FromID
	}
	h.tellRequest(ctx, c, other, event, r)
	h.tellRequest(ctx, c, c.UserID, event, r)
	view, err := h.requestView(ctx, c.UserID, r)
	if err != nil {
		return nil, err
	}
	return map[string]any{"request": view}, nil
}

// FriendRequestSend answers friend:request:send. If the other user already asked the
// caller, this accepts their request instead of opening a second one.
func (h *Handlers) FriendRequestSend(ctx context.Context, c Caller, in *UserIDInput) (any, error) {
	if _, err := h.otherUser(ctx, c, in.UserID); err != nil {
		return nil, err
	}
	if blocked, err := h.isBlocked(ctx, in.UserID, c.UserID); err != nil {
		return nil, err
	} else if blocked {
		return nil, utils.Forbidden("you cannot send this user a friend request")
	}
	if friends, err := h.Store.AreFriends(ctx, c.UserID, in.UserID); err != nil {
		return nil, err
	} else if friends {
		return nil, utils.Errorf(utils.CodeConflict, "you are already friends")
	}
	if theirs, err := h.Store.PendingRequest(ctx, in.UserID, c.UserID); err == nil {
		return h.acceptRequest(ctx, c, theirs)
	} else if !errors.Is(err, models.ErrNotFound) {
		return nil, err
	}
	now := h.Now()
	r := &models.FriendRequest{ID: models.NewID(), FromID: c.UserID, ToID: in.UserID, Status: models.RequestPending,
		CreatedAt: now, UpdatedAt: now}
	if err := h.Store.CreateFriendRequest(ctx, r); errors.Is(err, models.ErrConflict) {
		return nil, utils.Errorf(utils.CodeConflict, "a friend request to this user is already pending")
	} else if err != nil {
		return nil, err
	}
	h.notifyOffline(ctx, in.UserID, models.NotifyFriendRequest, map[string]any{"requestId": r.ID, "fromUserId": c.UserID})
	return h.requestResult(ctx, c, "friend:request:new", r)
}

// RequestIDInput is the payload of events that name one friend request.
type RequestIDInput struct {
	RequestID string `json:"requestId"`
}

// Validate checks the input.
func (in *RequestIDInput) Validate() error { return requireID("requestId", in.RequestID) }

// ownRequest loads a request the caller may act on as recipient (asRecipient) or sender.
// Anyone else gets NOT_FOUND, as for a request that does not exist.
func (h *Handlers) ownRequest(ctx context.Context, c Caller, id string, asRecipient bool) (*models.FriendRequest, error) {
	r, err := h.Store.FriendRequestByID(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, utils.NotFound("friend request")
	}
	if err != nil {
		return nil, err
	}
	if (asRecipient && r.ToID != c.UserID) || (!asRecipient && r.FromID != c.UserID) {
		return nil, utils.NotFound("friend request")
	}
	if r.Status != models.RequestPending {
		return nil, utils.Errorf(utils.CodeConflict, "the request is already %s", r.Status)
	}
	return r, nil
}

// resolve moves a pending request to status, mapping a lost race to CONFLICT.
func (h *Handlers) resolve(ctx context.Context, r *models.FriendRequest, status string) (*models.FriendRequest, error) {
	out, err := h.Store.ResolveFriendRequest(ctx, r.ID, status, h.Now())
	if errors.Is(err, models.ErrConflict) {
		return nil, utils.Errorf(utils.CodeConflict, "the request is no longer pending")
	}
	return out, err
}

// FriendRequestAccept answers friend:request:accept (recipient only).
func (h *Handlers) FriendRequestAccept(ctx context.Context, c Caller, in *RequestIDInput) (any, error) {
	r, err := h.ownRequest(ctx, c, in.RequestID, true)
	if err != nil {
		return nil, err
	}
	return h.acceptRequest(ctx, c, r)
}

func (h *Handlers) acceptRequest(ctx context.Context, c Caller, r *models.FriendRequest) (any, error) {
	r, err := h.resolve(ctx, r, models.RequestAccepted)
	if err != nil {
		return nil, err
	}
	h.notifyOffline(ctx, r.FromID, models.NotifyFriendAccepted, map[string]any{"requestId": r.ID, "userId": r.ToID})
	return h.requestResult(ctx, c, "friend:request:accepted", r)
}

// FriendRequestDecline answers friend:request:decline (recipient only).
func (h *Handlers) FriendRequestDecline(ctx context.Context, c Caller, in *RequestIDInput) (any, error) {
	return h.endRequest(ctx, c, in.RequestID, true, models.RequestDeclined, "friend:request:declined")
}

// FriendRequestCancel answers friend:request:cancel (sender only).
func (h *Handlers) FriendRequestCancel(ctx context.Context, c Caller, in *RequestIDInput) (any, error) {
	return h.endRequest(ctx, c, in.RequestID, false, models.RequestCanceled, "friend:request:canceled")
}

// endRequest declines or cancels a pending request the caller may act on, and tells both.
func (h *Handlers) endRequest(ctx context.Context, c Caller, id string, asRecipient bool, status, event string) (any, error) {
	r, err := h.ownRequest(ctx, c, id, asRecipient)
	if err != nil {
		return nil, err
	}
	if r, err = h.resolve(ctx, r, status); err != nil {
		return nil, err
	}
	return h.requestResult(ctx, c, event, r)
}

// FriendRequestList answers friend:request:list with the pending requests.
func (h *Handlers) FriendRequestList(ctx context.Context, c Caller, _ *Empty) (any, error) {
	incoming, outgoing, err := h.Store.PendingRequests(ctx, c.UserID)
	if err != nil {
		return nil, err
	}
	render := func(list []*models.FriendRequest) ([]models.FriendRequestView, error) {
		out := make([]models.FriendRequestView, len(list))
		for i, r := range list {
			if out[i], err = h.requestView(ctx, c.UserID, r); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	in, err := render(incoming)
	if err != nil {
		return nil, err
	}
	out, err := render(outgoing)
	if err != nil {
		return nil, err
	}
	return map[string]any{"incoming": in, "outgoing": out}, nil
}

// FriendList answers friend:list.
func (h *Handlers) FriendList(ctx context.Context, c Caller, _ *Empty) (any, error) {
	ids, err := h.Store.FriendIDs(ctx, c.UserID)
	if err != nil {
		return nil, err
	}
	friends, err := h.userViews(ctx, c.UserID, ids)
	if err != nil {
		return nil, err
	}
	return map[string]any{"friends": friends}, nil
}

// FriendRemove answers friend:remove; both sides learn it through friend:removed.
func (h *Handlers) FriendRemove(ctx context.Context, c Caller, in *UserIDInput) (any, error) {
	if _, err := h.otherUser(ctx, c, in.UserID); err != nil {
		return nil, err
	}
	removed, err := h.Store.RemoveFriend(ctx, c.UserID, in.UserID)
	if err != nil {
		return nil, err
	}
	if !removed {
		return nil, utils.NotFound("friend")
	}
	h.Emit.ToUser(in.UserID, "", "friend:removed", map[string]any{"userId": c.UserID})
	h.Emit.ToUser(c.UserID, c.SocketID, "friend:removed", map[string]any{"userId": in.UserID})
	return ok(), nil
}
