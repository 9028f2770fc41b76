package models

import (
	"errors"
	"time"
)

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
	// Reactions in order of first use; nil when there are none (and always for a
	// deleted message).
	Reactions []Reaction
	// Mentions are the ids of the members the text @mentions (resolved when the message
	// was sent or last edited), in order of first mention, each once, never the sender;
	// nil when there are none (and always for a deleted message).
	Mentions []string
	// Attachments in the order the sender listed them. InsertMessage reads only their
	// IDs and returns the message with the full records; reads of messages leave it nil
	// (Attachments.AttachmentsForMessages loads them).
	Attachments []Attachment
}

// Reaction is one emoji on a message and who reacted with it, in the order they did.
type Reaction struct {
	Emoji   string
	UserIDs []string
}

// MaxReactionEmoji is how many distinct emoji one message may carry.
const MaxReactionEmoji = 20

// ErrTooManyReactions: the message already carries MaxReactionEmoji distinct emoji and
// the reaction would add another.
var ErrTooManyReactions = errors.New("too many distinct reactions on one message")

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
	// Reactions is never null: [] when there are none.
	Reactions []ReactionView `json:"reactions" msgpack:"reactions"`
	// Mentions is never null: [] when there are none.
	Mentions []string `json:"mentions" msgpack:"mentions"`
	// Attachments is never null: [] when there are none (and always for a deleted message).
	Attachments []AttachmentView `json:"attachments" msgpack:"attachments"`
}

// ReactionView is one emoji of a message's reactions (PROTOCOL.md `Message.reactions`).
type ReactionView struct {
	Emoji   string   `json:"emoji" msgpack:"emoji"`
	Count   int      `json:"count" msgpack:"count"`
	UserIDs []string `json:"userIds" msgpack:"userIds"`
}

// noReactions is the shared empty list of a message without reactions: it encodes as []
// and costs no allocation.
var noReactions = []ReactionView{}

// noMentions is the shared empty list of a message that mentions nobody: it encodes as []
// and costs no allocation.
var noMentions = []string{}

// MentionViews renders mentions for the wire: never nil.
func MentionViews(ids []string) []string {
	if len(ids) == 0 {
		return noMentions
	}
	return ids
}

// ReactionViews renders reactions for the wire.
func ReactionViews(rs []Reaction) []ReactionView {
	if len(rs) == 0 {
		return noReactions
	}
	out := make([]ReactionView, 0, len(rs))
	for _, r := range rs {
		if len(r.UserIDs) > 0 {
			out = append(out, ReactionView{Emoji: r.Emoji, Count: len(r.UserIDs), UserIDs: r.UserIDs})
		}
	}
	return out
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

// AddReaction returns rs with userID's reaction emoji added: at the end of that emoji's
// users, the emoji itself at the end of rs if nobody used it yet. changed is false (and
// rs is returned as it is) when userID had reacted with emoji already; a new emoji beyond
// MaxReactionEmoji is ErrTooManyReactions. rs is never modified: stores apply this to
// what they read and write the result back.
func AddReaction(rs []Reaction, userID, emoji string) (out []Reaction, changed bool, err error) {
	for i, r := range rs {
		if r.Emoji != emoji {
			continue
		}
		if contains(r.UserIDs, userID) {
			return rs, false, nil
		}
		out = append([]Reaction(nil), rs...)
		out[i].UserIDs = append(append(make([]string, 0, len(r.UserIDs)+1), r.UserIDs...), userID)
		return out, true, nil
	}
	if len(rs) >= MaxReactionEmoji {
		return rs, false, ErrTooManyReactions
	}
	out = append(append(make([]Reaction, 0, len(rs)+1), rs...), Reaction{Emoji: emoji, UserIDs: []string{userID}})
	return out, true, nil
}

// RemoveReaction returns rs without userID's reaction emoji; an emoji left without users
// leaves the list. changed is false (and rs is returned as it is) when there was no such
// reaction. rs is never modified.
func RemoveReaction(rs []Reaction, userID, emoji string) (out []Reaction, changed bool) {
	for i, r := range rs {
		if r.Emoji != emoji || !contains(r.UserIDs, userID) {
			continue
		}
		users := make([]string, 0, len(r.UserIDs)-1)
		for _, u := range r.UserIDs {
			if u != userID {
				users = append(users, u)
			}
		}
		out = append(make([]Reaction, 0, len(rs)), rs[:i]...)
		if len(users) > 0 {
			out = append(out, Reaction{Emoji: emoji, UserIDs: users})
		}
		out = append(out, rs[i+1:]...)
		if len(out) == 0 {
			out = nil
		}
		return out, true
	}
	return rs, false
}
