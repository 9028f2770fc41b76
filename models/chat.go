package models

import "time"

// Chat types.
const (
	ChatDirect = "direct"
	ChatGroup  = "group"
)

// Chat is the stored chat document.
type Chat struct {
	ID           string
	Type         string
	Name         *string
	Participants []string // in join order: the first is the longest-standing member
	Admins       []string
	CreatedBy    string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	LastActivity time.Time
	LastSeq      int64
}

// IsMember reports whether userID participates in the chat.
func (c *Chat) IsMember(userID string) bool { return contains(c.Participants, userID) }

// IsAdmin reports whether userID is an admin of the chat.
func (c *Chat) IsAdmin(userID string) bool { return contains(c.Admins, userID) }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ChatCursor positions chat:list pages: chats strictly older than (LastActivity, ID) in
// the order lastActivity desc, id desc.
type ChatCursor struct {
	LastActivity time.Time
	ID           string
}

// ChatView is the wire shape of a chat (PROTOCOL.md `Chat`).
type ChatView struct {
	ID           string       `json:"id" msgpack:"id"`
	Type         string       `json:"type" msgpack:"type"`
	Name         *string      `json:"name" msgpack:"name"`
	Participants []UserView   `json:"participants" msgpack:"participants"`
	Admins       []string     `json:"admins" msgpack:"admins"`
	CreatedBy    string       `json:"createdBy" msgpack:"createdBy"`
	CreatedAt    string       `json:"createdAt" msgpack:"createdAt"`
	LastActivity string       `json:"lastActivity" msgpack:"lastActivity"`
	LastSeq      int64        `json:"lastSeq" msgpack:"lastSeq"`
	LastMessage  *MessageView `json:"lastMessage" msgpack:"lastMessage"`
	UnreadCount  int          `json:"unreadCount" msgpack:"unreadCount"`
	ReadSeq      int64        `json:"readSeq" msgpack:"readSeq"`
}
