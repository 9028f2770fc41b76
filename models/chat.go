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
	// MutedUntil holds the mutes of members who muted the chat (chat:mute), expired ones
	// included: a mute is in force while its time is after now. MuteForever is a mute
	// without an end. Nil when nobody muted the chat.
	MutedUntil map[string]time.Time
}

// MuteForever is the end of a mute given without one (chat:mute with no `until`): the
// last millisecond of year 9999, the latest time an ISO-8601 string of the usual form
// holds, so clients read it as a date like any other.
var MuteForever = time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC)

// MutedFor returns the end of userID's mute of the chat if it is in force at now, else nil.
func (c *Chat) MutedFor(userID string, now time.Time) *time.Time {
	until, ok := c.MutedUntil[userID]
	if !ok || !until.After(now) {
		return nil
	}
	return &until
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
	// UnreadMentions counts the messages with seq > ReadSeq that mention the viewer and
	// are not deleted.
	UnreadMentions int `json:"unreadMentions" msgpack:"unreadMentions"`
	// MutedUntil is the viewer's own mute: its end while in force, else null.
	MutedUntil *string `json:"mutedUntil" msgpack:"mutedUntil"`
}
