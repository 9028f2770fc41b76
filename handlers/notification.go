package handlers

import (
	"context"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

// NotificationListInput is the payload of notification:list.
type NotificationListInput struct {
	Before     *string `json:"before"`
	Limit      *int    `json:"limit"`
	UnreadOnly *bool   `json:"unreadOnly"`
	limit      int
}

// Validate checks the input.
func (in *NotificationListInput) Validate() (err error) {
	if in.Before != nil {
		if err := requireID("before", *in.Before); err != nil {
			return err
		}
	}
	in.limit, err = limit("limit", in.Limit, 50, 100)
	return err
}

// NotificationList answers notification:list: newest first, never an expired one.
func (h *Handlers) NotificationList(ctx context.Context, c Caller, in *NotificationListInput) (any, error) {
	now := h.Now()
	q := models.NotificationQuery{Limit: in.limit + 1, UnreadOnly: in.UnreadOnly != nil && *in.UnreadOnly, Now: now}
	if in.Before != nil {
		q.Before = *in.Before
	}
	list, err := h.Store.ListNotifications(ctx, c.UserID, q)
	if err != nil {
		return nil, err
	}
	var next *string
	if len(list) > in.limit {
		list = list[:in.limit]
		id := list[len(list)-1].ID
		next = &id
	}
	views := make([]models.NotificationView, len(list))
	for i, n := range list {
		views[i] = n.View()
	}
	unread, err := h.Store.UnreadNotifications(ctx, c.UserID, now)
	if err != nil {
		return nil, err
	}
	return map[string]any{"notifications": views, "unreadCount": unread, "nextCursor": next}, nil
}

// NotificationReadInput is the payload of notification:read: ids, or all.
type NotificationReadInput struct {
	NotificationIDs []string `json:"notificationIds"`
	All             *bool    `json:"all"`
}

// Validate checks that exactly one form is used.
func (in *NotificationReadInput) Validate() error {
	all := in.All != nil && *in.All
	switch {
	case in.All != nil && !*in.All:
		return utils.Invalid("all", "must be true when given")
	case all && in.NotificationIDs != nil:
		return utils.Invalid("payload", "give notificationIds or all, not both")
	case all:
		return nil
	case in.NotificationIDs == nil:
		return utils.Invalid("notificationIds", "is required (or all: true)")
	default:
		return requireIDs("notificationIds", in.NotificationIDs, 1, 100)
	}
}

// NotificationRead answers notification:read.
func (h *Handlers) NotificationRead(ctx context.Context, c Caller, in *NotificationReadInput) (any, error) {
	all := in.All != nil && *in.All
	if err := h.Store.MarkNotificationsRead(ctx, c.UserID, in.NotificationIDs, all); err != nil {
		return nil, err
	}
	unread, err := h.Store.UnreadNotifications(ctx, c.UserID, h.Now())
	if err != nil {
		return nil, err
	}
	return map[string]any{"unreadCount": unread}, nil
}
