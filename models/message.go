package models

import "time"

// Message is the stored message document.
type Message struct {
	ID        string
	ChatID    string
	Seq       int64
	SenderID  string
	Text      string
	ReplyToID *string
	ClientID  *string
	CreatedAt time.Time
	EditedAt  *time.Time
	Deleted   bool
}

// MessageQuery selects a page of a chat's messages (PROTOCOL.md `message:list`).
// Before and After are exclusive seq bounds; zero means unset. Since seqs start at 1, a
// client's `after: 0` ("from the first message") is passed as After = -1, which a store
// treats like any other After: seq > -1, read oldest first.
type MessageQuery struct {
	Before int64
	After  int64
	Limit  int
}

// MessageView is the wire shape of a message (PROTOCOL.md `Message`).
type MessageView struct {
	ID        string     `json:"id" msgpack:"id"`
	ChatID    string     `json:"chatId" msgpack:"chatId"`
	Seq       int64      `json:"seq" msgpack:"seq"`
	Sender    UserRef    `json:"sender" msgpack:"sender"`
	Text      string     `json:"text" msgpack:"text"`
	ReplyTo   *ReplyView `json:"replyTo" msgpack:"replyTo"`
	ClientID  *string    `json:"clientId" msgpack:"clientId"`
	CreatedAt string     `json:"createdAt" msgpack:"createdAt"`
	EditedAt  *string    `json:"editedAt" msgpack:"editedAt"`
	Deleted   bool       `json:"deleted" msgpack:"deleted"`
}

// ReplyView is the quoted message inside a reply.
type ReplyView struct {
	ID     string  `json:"id" msgpack:"id"`
	Seq    int64   `json:"seq" msgpack:"seq"`
	Text   string  `json:"text" msgpack:"text"`
	Sender UserRef `json:"sender" msgpack:"sender"`
}

// MessageID returns the id; the server uses it to recognise outgoing message packets.
func (v MessageView) MessageID() string { return v.ID }
