package models

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Notification types.
const (
	NotifyMessage        = "message"
	NotifyFriendRequest  = "friend:request"
	NotifyFriendAccepted = "friend:accepted"
	NotifyChatAdded      = "chat:added"
	NotifyMention        = "mention"
)

// MentionNotificationID is the id of the mention notification of userID for messageID:
// the same for every attempt, on every node, so a second attempt to notify a user of one
// message (an edit that mentions them again, the sweep after a disconnect) is refused by
// the store as a duplicate (ErrConflict) instead of notifying twice. Like an ObjectId it
// starts with the 4-byte creation time, here the message's; the other 8 bytes are a hash
// of the pair. A malformed messageID yields a fresh id.
func MentionNotificationID(userID, messageID string) string {
	msg, err := hex.DecodeString(messageID)
	if err != nil || len(msg) != 12 {
		return NewID()
	}
	sum := sha256.Sum256([]byte("mention\x00" + userID + "\x00" + messageID))
	var id [12]byte
	copy(id[:4], msg[:4])
	copy(id[4:], sum[:8])
	return hex.EncodeToString(id[:])
}

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
