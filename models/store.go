package models

import (
	"context"
	"io"
	"time"
)

// The store interfaces, one per aggregate. Handlers depend on these only; models/sqlite
// and models/mongo implement them, and models/storetest is the contract both must pass.
//
// Conventions for every method:
//   - ids are 24-hex strings; a malformed id behaves like an id that does not exist
//     (ErrNotFound or "no rows"), never a driver error;
//   - lookups of a missing document return ErrNotFound;
//   - a failure to reach the database returns an error wrapping ErrUnavailable;
//   - a method returns only after its write is durable (committed).

// Users stores accounts.
type Users interface {
	// CreateUser inserts u (ID, Handle lower-cased by the caller, timestamps set by the
	// caller). A taken handle returns ErrConflict.
	CreateUser(ctx context.Context, u *User) error
	// EnsureUser inserts u unless a user with u.ID exists; it returns the stored user
	// either way. Used for users of external identity providers, created on first connect.
	// A taken handle returns ErrConflict.
	EnsureUser(ctx context.Context, u *User) (*User, error)
	UserByID(ctx context.Context, id string) (*User, error)
	UserByHandle(ctx context.Context, handle string) (*User, error)
	// UsersByIDs returns the users that exist among ids, in no particular order.
	UsersByIDs(ctx context.Context, ids []string) ([]*User, error)
	// SearchUsers returns up to limit users whose handle or name starts with prefix,
	// case-insensitively, ordered by handle.
	SearchUsers(ctx context.Context, prefix string, limit int) ([]*User, error)
	UpdateUser(ctx context.Context, id string, p UserPatch, now time.Time) (*User, error)
	SetLastSeen(ctx context.Context, id string, t time.Time) error
}

// Chats stores chats and their membership.
type Chats interface {
	// CreateChat inserts c (ID, timestamps, Participants with the creator first, Admins).
	// For a direct chat, a second chat for the same pair returns ErrConflict.
	CreateChat(ctx context.Context, c *Chat) error
	// DirectChat returns the direct chat between a and b, or ErrNotFound.
	DirectChat(ctx context.Context, a, b string) (*Chat, error)
	ChatByID(ctx context.Context, id string) (*Chat, error)
	// ChatsForUser returns the chats userID participates in, ordered by LastActivity
	// desc then ID desc, strictly after before (when non-nil), at most limit (0 = all).
	ChatsForUser(ctx context.Context, userID string, before *ChatCursor, limit int) ([]*Chat, error)
	// ChatIDsForUser returns the ids of every chat userID participates in.
	ChatIDsForUser(ctx context.Context, userID string) ([]string, error)
	SetChatName(ctx context.Context, id, name string, now time.Time) (*Chat, error)
	// AddParticipants appends the userIDs that are not members yet, in the given order.
	AddParticipants(ctx context.Context, id string, userIDs []string, now time.Time) (*Chat, error)
	// RemoveParticipant removes userID from participants and admins. When that leaves a
	// group with members but no admin, the longest-standing remaining member (the first
	// in Participants) becomes admin, in the same write.
	RemoveParticipant(ctx context.Context, id, userID string, now time.Time) (*Chat, error)
	// SetAdmin grants or revokes admin rights of a member.
	SetAdmin(ctx context.Context, id, userID string, admin bool, now time.Time) (*Chat, error)
	// SetMute records that member userID muted the chat until *until (MuteForever for no
	// end), replacing an earlier mute, or with until == nil lifts the mute; it returns the
	// chat with its MutedUntil. A missing chat, or a userID that is not a member, is
	// ErrNotFound. A mute belongs to the membership: a member who leaves (or is removed)
	// loses it.
	SetMute(ctx context.Context, id, userID string, until *time.Time) (*Chat, error)
}

// Messages stores messages; InsertMessage owns the per-chat seq.
type Messages interface {
	// InsertMessage assigns m.Seq = chat.LastSeq+1, stores m (with its Mentions), and sets
	// the chat's LastSeq and LastActivity, all in one atomic write. If m.ClientID is set
	// and the same (SenderID, ChatID, ClientID) exists, it stores nothing and returns the
	// original with created == false. A missing chat returns ErrNotFound.
	//
	// m.Attachments names uploads (by ID only) to attach: each must be a ready upload of
	// m.SenderID that no message holds. Either all are attached to the new message, in
	// that order, or the message is not stored and the error is an *AttachmentRefError
	// naming the first that could not be (wrapping ErrNotFound: missing or another
	// user's; ErrAttachmentTaken: attached already). Concurrent inserts naming the same
	// upload attach it to at most one message. The returned message carries the full
	// attachment records (the original's, for a repeated clientId).
	InsertMessage(ctx context.Context, m *Message) (stored *Message, created bool, err error)
	MessageByID(ctx context.Context, id string) (*Message, error)
	// MessagesByIDs returns the messages that exist among ids, in no particular order.
	MessagesByIDs(ctx context.Context, ids []string) ([]*Message, error)
	// ListMessages returns a page in ascending seq, and whether more lie beyond it in
	// the direction of travel (PROTOCOL.md `message:list`).
	ListMessages(ctx context.Context, chatID string, q MessageQuery) ([]*Message, bool, error)
	// LastMessages returns the highest-seq message of each chat that has one.
	LastMessages(ctx context.Context, chatIDs []string) (map[string]*Message, error)
	// EditMessage replaces the text and the mentions (nil: none) of a message and sets its
	// EditedAt, in one atomic write. A deleted message is ErrNotFound, like a missing one.
	EditMessage(ctx context.Context, id, text string, mentions []string, at time.Time) (*Message, error)
	// DeleteMessage marks the message deleted and clears its text, reactions and mentions,
	// and removes its attachments, records and bytes (idempotent).
	DeleteMessage(ctx context.Context, id string, at time.Time) (*Message, error)
	// React adds userID's reaction emoji to the message and returns the message as that
	// write left it; changed is false when the user had reacted with that emoji already
	// (nothing is written). The emoji joins the message's Reactions at the end the first
	// time anyone uses it, and the user at the end of that emoji's UserIDs. A deleted
	// message is ErrNotFound, like a missing one. A reaction is no edit: editedAt and the
	// message's update time stay as they are. If the message carries MaxReactionEmoji
	// distinct emoji and not this one, it is ErrTooManyReactions. Concurrent reactions are
	// never lost or counted twice.
	React(ctx context.Context, id, userID, emoji string) (msg *Message, changed bool, err error)
	// Unreact removes userID's reaction emoji (changed is false when there was none); an
	// emoji nobody reacts with any more leaves Reactions. A deleted message is ErrNotFound.
	Unreact(ctx context.Context, id, userID, emoji string) (msg *Message, changed bool, err error)
	// CountUnread counts messages of chatID with seq > afterSeq, not sent by userID and
	// not deleted.
	CountUnread(ctx context.Context, chatID, userID string, afterSeq int64) (int, error)
	// UnreadMentions counts, for each chat id of after, the messages of that chat with seq
	// > after[chatID] whose Mentions hold userID and that are not deleted (in one query
	// where the store can). Chats without any are absent from the result.
	UnreadMentions(ctx context.Context, userID string, after map[string]int64) (map[string]int, error)
	// SearchMessages returns up to q.Limit messages that match q.Text (every word of
	// SearchTerms(q.Text) the start of one of the message's SearchWords, models/search.go;
	// nothing in q.Text is query syntax), are not deleted, and
	// belong to a chat q.UserID is a member of when the search runs (q.ChatID only, when it
	// is set). They come newest first: in one chat by descending seq, across chats in the
	// order the store took them in (createdAt, give or take messages sent within the same
	// few milliseconds), and strictly after q.Before when it is set. An edit is searchable
	// by its new text only, at once. A text without words, or no such chats, find nothing
	// (an empty list, not an error).
	SearchMessages(ctx context.Context, q SearchQuery) ([]*Message, error)
}

// ReadMarks stores how far each member has read each chat.
type ReadMarks interface {
	// MarkRead moves the user's read mark of the chat forward to seq (never back) and
	// returns the mark now stored.
	MarkRead(ctx context.Context, chatID, userID string, seq int64) (int64, error)
	// ReadSeqs returns the read marks of userID for chatIDs; missing ones are 0.
	ReadSeqs(ctx context.Context, userID string, chatIDs []string) (map[string]int64, error)
}

// Friends stores friend requests, friendships and blocks.
type Friends interface {
	// CreateFriendRequest inserts r (pending). If a pending request from r.FromID to
	// r.ToID exists it returns ErrConflict.
	CreateFriendRequest(ctx context.Context, r *FriendRequest) error
	FriendRequestByID(ctx context.Context, id string) (*FriendRequest, error)
	// PendingRequest returns the pending request from → to, or ErrNotFound.
	PendingRequest(ctx context.Context, from, to string) (*FriendRequest, error)
	// ResolveFriendRequest moves a pending request to status. A request that is not
	// pending any more returns ErrConflict. Accepting also records the friendship, in
	// the same write where the store can.
	ResolveFriendRequest(ctx context.Context, id, status string, now time.Time) (*FriendRequest, error)
	// PendingRequests returns the user's pending incoming and outgoing requests, newest first.
	PendingRequests(ctx context.Context, userID string) (incoming, outgoing []*FriendRequest, err error)
	AreFriends(ctx context.Context, a, b string) (bool, error)
	FriendIDs(ctx context.Context, userID string) ([]string, error)
	// RemoveFriend ends the friendship; it reports whether there was one.
	RemoveFriend(ctx context.Context, a, b string) (bool, error)
	// Block records that blocker blocks blocked (idempotent); Unblock removes it.
	Block(ctx context.Context, blocker, blocked string, now time.Time) error
	Unblock(ctx context.Context, blocker, blocked string) error
	IsBlocked(ctx context.Context, blocker, blocked string) (bool, error)
	BlockedIDs(ctx context.Context, blocker string) ([]string, error)
}

// Notifications stores notifications for users who were offline.
type Notifications interface {
	// CreateNotification inserts n. An n.ID that exists returns ErrConflict and stores
	// nothing: mention notifications take their id from (user, message)
	// (MentionNotificationID), so a second one for the same pair is refused.
	CreateNotification(ctx context.Context, n *Notification) error
	// UpsertMessageNotification collapses message notifications: if userID has an unread,
	// unexpired "message" notification for chatID, its data.count grows by one and
	// data.lastMessageId becomes messageID; otherwise a new one is created with count 1.
	UpsertMessageNotification(ctx context.Context, userID, chatID, messageID string, now time.Time) (*Notification, error)
	// ListNotifications returns a page newest first (by CreatedAt desc then ID desc),
	// never one older than NotificationTTL at q.Now.
	ListNotifications(ctx context.Context, userID string, q NotificationQuery) ([]*Notification, error)
	// MarkNotificationsRead marks the given notifications of userID read; ids of other
	// users' notifications are ignored. all == true marks every one.
	MarkNotificationsRead(ctx context.Context, userID string, ids []string, all bool) error
	// UnreadNotifications counts unread, unexpired notifications of userID at now.
	UnreadNotifications(ctx context.Context, userID string, now time.Time) (int, error)
	// DeleteExpiredNotifications removes notifications created before cutoff.
	DeleteExpiredNotifications(ctx context.Context, cutoff time.Time) (int, error)
}

// Attachments stores uploads: their records, and their bytes in the store's own file
// storage, so a deployment needs no other service.
type Attachments interface {
	// CreateAttachment stores the bytes read from body (to its end) as a new, unattached
	// upload described by a (ID, UploaderID, Name, ContentType, CreatedAt set by the
	// caller; an empty ID gets a fresh one) and sets a.Size. The bytes are streamed to
	// storage, never held in memory whole. If reading body fails (a size cap, the client
	// going away) nothing is kept and the read error is returned wrapped, so errors.As
	// finds it. A.MessageID and a.ChatID are ignored.
	CreateAttachment(ctx context.Context, a *Attachment, body io.Reader) error
	// AttachmentByID returns a stored upload, attached or not; one still arriving or being
	// removed is ErrNotFound.
	AttachmentByID(ctx context.Context, id string) (*Attachment, error)
	// OpenAttachment opens the stored bytes of an upload for streaming; the caller closes
	// the reader. A missing upload is ErrNotFound.
	OpenAttachment(ctx context.Context, id string) (io.ReadCloser, error)
	// AttachmentsForMessages returns the attachments of each of messageIDs that has any,
	// in the order of the message.
	AttachmentsForMessages(ctx context.Context, messageIDs []string) (map[string][]Attachment, error)
	// SweepAttachments removes (records and bytes) the unattached uploads created before
	// unattachedBefore, finishes removals that were interrupted (a deleted message's
	// attachments), and clears what uploads abandoned for UploadAbandonAfter left. It
	// returns how many uploads it removed. Safe to run on several nodes at once.
	SweepAttachments(ctx context.Context, unattachedBefore time.Time) (int, error)
}

// Store is everything a Parley node persists.
type Store interface {
	Users
	Chats
	Messages
	ReadMarks
	Friends
	Notifications
	Attachments
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Name is "sqlite" or "mongodb", for logs and /readyz.
	Name() string
	Close() error
}
