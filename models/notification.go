package models

import "time"

// Notification types.
const (
	NotifyMessage        = "message"
	NotifyFriendRequest  = "friend:request"
	NotifyFriendAccepted = "friend:accepted"
	NotifyChatAdded      = "chat:added"
)

// NotificationTTL is how long a notification lives after its creation.
const NotificationTTL = 30 * 24 * time.Hour

// Notification is the stored notification document. Data is a JSON object.
type Notification struct {
	ID        string
	UserID    string
	Type      string
	Data      map[string]any
	Read      bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NotificationQuery selects a page of a user's notifications, newest first. Before is a
// notification id (exclusive); Now excludes notifications older than NotificationTTL.
type NotificationQuery struct {
	Before     string
	Limit      int
	UnreadOnly bool
	Now        time.Time
}

// NotificationView is the wire shape (PROTOCOL.md `Notification`).
type NotificationView struct {
	ID        string         `json:"id" msgpack:"id"`
	Type      string         `json:"type" msgpack:"type"`
	Data      map[string]any `json:"data" msgpack:"data"`
	Read      bool           `json:"read" msgpack:"read"`
	CreatedAt string         `json:"createdAt" msgpack:"createdAt"`
}

// View returns the wire shape of n.
func (n *Notification) View() NotificationView {
	data := n.Data
	if data == nil {
		data = map[string]any{}
	}
	return NotificationView{ID: n.ID, Type: n.Type, Data: data, Read: n.Read, CreatedAt: FormatTime(n.CreatedAt)}
}
