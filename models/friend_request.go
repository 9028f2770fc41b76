package models

import "time"

// Friend request states.
const (
	RequestPending  = "pending"
	RequestAccepted = "accepted"
	RequestDeclined = "declined"
	RequestCanceled = "canceled"
)

// FriendRequest is the stored friend request document.
type FriendRequest struct {
	ID        string
	FromID    string
	ToID      string
	Status    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// FriendRequestView is the wire shape (PROTOCOL.md `FriendRequest`).
type FriendRequestView struct {
	ID        string   `json:"id" msgpack:"id"`
	From      UserView `json:"from" msgpack:"from"`
	To        UserView `json:"to" msgpack:"to"`
	Status    string   `json:"status" msgpack:"status"`
	CreatedAt string   `json:"createdAt" msgpack:"createdAt"`
}
