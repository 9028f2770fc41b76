package mongo

import (
	"encoding/json"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/parley-chat/parley/models"
)

// The BSON documents, shaped like the ones a mongoose-based Node server keeps, so both can
// read the same database: ObjectId `_id`s and references, `createdAt`/`updatedAt` as BSON
// dates, and the Node field names (users: name, image, handle; chats: participants,
// admins, name, lastActivity; messages: chatId, sender, text, replyTo; friendrequests:
// from, to, status; notifications: user, type, data, read). Parley's fields are additions;
// no Node field is removed or retyped. Unknown fields (mongoose's `__v`, anything a Node
// schema added) are ignored when decoding and left untouched by every update, since
// updates use $set/$inc/... on named fields, never whole-document replacement.

// Collection names: mongoose's pluralised, lower-cased model names, plus Parley's own.
const (
	collUsers          = "users"
	collChats          = "chats"
	collMessages       = "messages"
	collFriendRequests = "friendrequests"
	collNotifications  = "notifications"
	// Parley's additions, each one document per fact so that every change to it is a
	// single-document (hence atomic) write without transactions:
	collReadMarks   = "readmarks"   // one per (chat, user): how far the user has read
	collFriendships = "friendships" // one per pair of friends
	collBlocks      = "blocks"      // one per (blocker, blocked)
	collMeta        = "parley_meta" // the store's own bookkeeping (sweep checkpoints)
	// collAttachments ("attachments") and the GridFS bucket "uploads" hold uploads
	// (attachments.go).
)

type userDoc struct {
	ID     bson.ObjectID `bson:"_id"`
	Handle string        `bson:"handle"` // lower case; unique index
	Name   string        `bson:"name"`
	// Image is written as null when absent, as mongoose writes a field with a null default.
	Image        *string    `bson:"image"`
	PasswordHash string     `bson:"passwordHash,omitempty"`
	LastSeen     *time.Time `bson:"lastSeen,omitempty"`
	CreatedAt    time.Time  `bson:"createdAt"`
	UpdatedAt    time.Time  `bson:"updatedAt"`
}

func newUserDoc(u *models.User, id bson.ObjectID) userDoc {
	return userDoc{
		ID: id, Handle: u.Handle, Name: u.Name, Image: u.Image, PasswordHash: u.PasswordHash,
		LastSeen: msPtr(u.LastSeen), CreatedAt: ms(u.CreatedAt), UpdatedAt: ms(u.UpdatedAt),
	}
}

func (d *userDoc) model() *models.User {
	return &models.User{
		ID: d.ID.Hex(), Handle: d.Handle, Name: d.Name, Image: d.Image, PasswordHash: d.PasswordHash,
		LastSeen: utcPtr(d.LastSeen), CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(),
	}
}

type chatDoc struct {
	ID           bson.ObjectID   `bson:"_id"`
	Type         string          `bson:"type"`
	Name         *string         `bson:"name"`
	Participants []bson.ObjectID `bson:"participants"` // join order
	Admins       []bson.ObjectID `bson:"admins"`       // grant order
	CreatedBy    bson.ObjectID   `bson:"createdBy"`
	// DirectKey is "<lower id>:<higher id>" of a direct chat's pair and absent on groups;
	// a sparse unique index on it allows one direct chat per pair.
	DirectKey    string    `bson:"directKey,omitempty"`
	LastSeq      int64     `bson:"lastSeq"`
	LastActivity time.Time `bson:"lastActivity"`
	// LastSeqAt is the store's clock at the latest seq reservation: every seq up to
	// LastSeq was reserved before it, which is what lets the repair judge a hole's age.
	LastSeqAt *time.Time `bson:"lastSeqAt,omitempty"`
	// MutedUntil maps a member's id (hex) to the end of their mute (chat:mute); absent
	// until someone mutes. Each member's entry is set and unset on its own, by path
	// ("mutedUntil.<id>"), so two members muting at once never overwrite each other.
	MutedUntil map[string]time.Time `bson:"mutedUntil,omitempty"`
	CreatedAt  time.Time            `bson:"createdAt"`
	UpdatedAt  time.Time            `bson:"updatedAt"`
}

func (d *chatDoc) model() *models.Chat {
	c := &models.Chat{
		ID: d.ID.Hex(), Type: d.Type, Name: d.Name,
		Participants: hexes(d.Participants), Admins: hexes(d.Admins),
		LastSeq: d.LastSeq, LastActivity: d.LastActivity.UTC(),
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(),
	}
	if !d.CreatedBy.IsZero() {
		c.CreatedBy = d.CreatedBy.Hex()
	}
	// Only members' mutes count: an entry left behind by a removal the Node server made
	// (it knows nothing of mutes) must not outlive the membership.
	for uid, until := range d.MutedUntil {
		if slices.Contains(c.Participants, uid) {
			if c.MutedUntil == nil {
				c.MutedUntil = map[string]time.Time{}
			}
			c.MutedUntil[uid] = until.UTC()
		}
	}
	if c.Type == "" { // a Node-era chat the migration has not typed yet
		c.Type = models.ChatGroup
		if len(d.Participants) == 2 && (d.Name == nil || *d.Name == "") {
			c.Type = models.ChatDirect
		}
	}
	return c
}

// directKey names the pair of a direct chat independently of who created it (the same
// form as the SQLite store's, so data moves between them unchanged).
func directKey(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return a + ":" + b
}

type messageDoc struct {
	ID      bson.ObjectID  `bson:"_id"`
	ChatID  bson.ObjectID  `bson:"chatId"`
	Sender  bson.ObjectID  `bson:"sender"`
	Text    string         `bson:"text"`
	ReplyTo *bson.ObjectID `bson:"replyTo"` // null when not a reply, as mongoose writes it
	// Seq is the per-chat sequence number (1, 2, 3, … without gaps). A message whose seq
	// is not assigned yet (see messages.go) holds a unique negative placeholder, so the
	// plain unique {chatId, seq} index needs no partial filter and every read that asks
	// for seq > 0 skips it.
	Seq      int64   `bson:"seq"`
	ClientID *string `bson:"clientId,omitempty"`
	// ClientKey is "<sender>:<chatId>:<clientId>", present only with a clientId; its
	// sparse unique index is the idempotency guard on servers without partial indexes.
	ClientKey string     `bson:"clientKey,omitempty"`
	EditedAt  *time.Time `bson:"editedAt,omitempty"`
	Deleted   bool       `bson:"deleted"`
	// Pending is the claim token of an insert that has stored the message but not yet
	// given it its seq; PendingAt (the store's clock) dates the claim so that a retry or
	// the sweep can take over an abandoned one.
	Pending   string     `bson:"pending,omitempty"`
	PendingAt *time.Time `bson:"pendingAt,omitempty"`
	// Reactions holds one {emoji, user} per reaction, in the order they were made: a
	// reaction is $addToSet and an unreaction $pull of one element, single atomic updates
	// that need no positional operator (FerretDB has none). ReactionEmoji lists the
	// distinct emoji in order of first use; it is what the MaxReactionEmoji check of a
	// react's filter reads ("reactionEmoji.19" must not exist). An emoji whose last
	// reaction was pulled is dropped from it by a second, conditional update; until then
	// (or if that update never ran) reads skip it and React removes it when it needs room.
	Reactions     []reactionDoc `bson:"reactions,omitempty"`
	ReactionEmoji []string      `bson:"reactionEmoji,omitempty"`
	// Mentions are the mentioned members' ids in order of first mention, absent when
	// there are none; the multikey index {mentions, chatId, seq} makes a member's unread
	// mentions of a chat one index range. Deleting a message removes the field.
	Mentions []bson.ObjectID `bson:"mentions,omitempty"`
	// SearchWords are the message's distinct words as message:search compares them
	// (models.SearchWords: case and accents folded), on every message that is not deleted;
	// a delete removes them, an edit replaces them. Messages a Node server wrote get them
	// from the migration (search.go).
	SearchWords []string `bson:"searchWords,omitempty"`
	// Tombstone marks a filler the store wrote into a seq hole (see RepairSeqHoles).
	Tombstone bool      `bson:"tombstone,omitempty"`
	CreatedAt time.Time `bson:"createdAt"`
	UpdatedAt time.Time `bson:"updatedAt"`
}

func clientKey(sender, chat bson.ObjectID, clientID string) string {
	return sender.Hex() + ":" + chat.Hex() + ":" + clientID
}

func (d *messageDoc) model() *models.Message {
	m := &models.Message{
		ID: d.ID.Hex(), ChatID: d.ChatID.Hex(), Seq: d.Seq, SenderID: d.Sender.Hex(), Text: d.Text,
		ClientID: d.ClientID, CreatedAt: d.CreatedAt.UTC(), EditedAt: utcPtr(d.EditedAt), Deleted: d.Deleted,
	}
	if d.ReplyTo != nil && !d.ReplyTo.IsZero() {
		s := d.ReplyTo.Hex()
		m.ReplyToID = &s
	}
	if m.Seq < 0 {
		m.Seq = 0
	}
	if m.Deleted {
		m.Text = ""
	} else {
		m.Reactions = d.reactions()
		if len(d.Mentions) > 0 {
			m.Mentions = hexes(d.Mentions)
		}
	}
	return m
}

// mentionIDs converts mentioned user ids for a message document: nil when there are
// none (the field is then left out). A malformed id is an error: mentions are resolved
// from members, so one would be a bug.
func mentionIDs(ids []string) ([]bson.ObjectID, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	out := make([]bson.ObjectID, len(ids))
	for i, s := range ids {
		id, ok := oid(s)
		if !ok {
			return nil, errInvalidID("mentioned user", s)
		}
		out[i] = id
	}
	return out, nil
}

// reactionDoc is one user's reaction with one emoji.
type reactionDoc struct {
	Emoji string        `bson:"emoji"`
	User  bson.ObjectID `bson:"user"`
}

// reactionPair is a reaction as the filter and update documents spell it: field order
// matters to $addToSet's and $pull's document equality, so it is always this one.
func reactionPair(emoji string, user bson.ObjectID) bson.D {
	return bson.D{{Key: "emoji", Value: emoji}, {Key: "user", Value: user}}
}

func (d *messageDoc) hasReaction(emoji string, user bson.ObjectID) bool {
	return slices.Contains(d.Reactions, reactionDoc{Emoji: emoji, User: user})
}

// reactions groups the {emoji, user} elements by emoji, in ReactionEmoji's order (first
// use), then any emoji missing from it in the order of their first element; emoji
// without reactions are left out.
func (d *messageDoc) reactions() []models.Reaction {
	if len(d.Reactions) == 0 {
		return nil
	}
	order := slices.Clone(d.ReactionEmoji)
	users := make(map[string][]string, len(order))
	for _, r := range d.Reactions {
		if _, ok := users[r.Emoji]; !ok && !slices.Contains(order, r.Emoji) {
			order = append(order, r.Emoji)
		}
		if !slices.Contains(users[r.Emoji], r.User.Hex()) {
			users[r.Emoji] = append(users[r.Emoji], r.User.Hex())
		}
	}
	out := make([]models.Reaction, 0, len(users))
	for _, e := range order {
		if u := users[e]; len(u) > 0 {
			out = append(out, models.Reaction{Emoji: e, UserIDs: u})
			delete(users, e) // an emoji listed twice shows once
		}
	}
	return out
}

type friendRequestDoc struct {
	ID     bson.ObjectID `bson:"_id"`
	From   bson.ObjectID `bson:"from"`
	To     bson.ObjectID `bson:"to"`
	Status string        `bson:"status"`
	// PendingKey is "<from>:<to>" while the request is pending and absent afterwards: its
	// sparse unique index allows one pending request per direction without a partial index.
	PendingKey string `bson:"pendingKey,omitempty"`
	// FriendshipPending is set by the accepting write and cleared once the friendship
	// document exists; a crash in between is healed by a retry or by the sweep.
	FriendshipPending bool      `bson:"friendshipPending,omitempty"`
	CreatedAt         time.Time `bson:"createdAt"`
	UpdatedAt         time.Time `bson:"updatedAt"`
}

func (d *friendRequestDoc) model() *models.FriendRequest {
	return &models.FriendRequest{
		ID: d.ID.Hex(), FromID: d.From.Hex(), ToID: d.To.Hex(), Status: d.Status,
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(),
	}
}

// friendshipDoc is one friendship; Users holds the pair in ascending order and Key is
// "<lower>:<higher>" under a unique index, so "are a and b friends" is one document that
// exists or not (never half of a two-sided write).
type friendshipDoc struct {
	ID        bson.ObjectID   `bson:"_id"`
	Key       string          `bson:"key"`
	Users     []bson.ObjectID `bson:"users"`
	CreatedAt time.Time       `bson:"createdAt"`
}

type blockDoc struct {
	ID        bson.ObjectID `bson:"_id"`
	Blocker   bson.ObjectID `bson:"blocker"`
	Blocked   bson.ObjectID `bson:"blocked"`
	CreatedAt time.Time     `bson:"createdAt"`
}

type readMarkDoc struct {
	ChatID bson.ObjectID `bson:"chatId"`
	UserID bson.ObjectID `bson:"userId"`
	Seq    int64         `bson:"seq"`
}

type notificationDoc struct {
	ID   bson.ObjectID `bson:"_id"`
	User bson.ObjectID `bson:"user"` // the recipient
	Type string        `bson:"type"`
	Data bson.M        `bson:"data"`
	Read bool          `bson:"read"`
	// CollapseKey is "<user>:<chatId>" on an unread message notification and absent
	// otherwise; its sparse unique index keeps concurrent messages collapsing into one.
	CollapseKey string    `bson:"collapseKey,omitempty"`
	CreatedAt   time.Time `bson:"createdAt"`
	UpdatedAt   time.Time `bson:"updatedAt"`
}

func (d *notificationDoc) model() *models.Notification {
	return &models.Notification{
		ID: d.ID.Hex(), UserID: d.User.Hex(), Type: d.Type, Data: jsonData(d.Data), Read: d.Read,
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(),
	}
}

// jsonData returns data as encoding/json would decode it (numbers float64, nested
// objects map[string]any), so callers see the same Go types from either store.
func jsonData(data bson.M) map[string]any {
	out := map[string]any{}
	if len(data) == 0 {
		return out
	}
	b, err := bson.MarshalExtJSON(data, false, false)
	if err != nil {
		return out
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return map[string]any{}
	}
	return out
}

// oid parses a wire id; ok is false for anything that is not a 24-hex ObjectId string,
// which callers treat exactly like an id that does not exist.
func oid(s string) (bson.ObjectID, bool) {
	if !models.ValidID(s) {
		return bson.ObjectID{}, false
	}
	id, err := bson.ObjectIDFromHex(s)
	return id, err == nil
}

// oids parses the well-formed ids of ids, dropping the rest.
func oids(ids []string) []bson.ObjectID {
	out := make([]bson.ObjectID, 0, len(ids))
	for _, s := range ids {
		if id, ok := oid(s); ok {
			out = append(out, id)
		}
	}
	return out
}

// hexes renders ObjectIds as wire ids; it never returns nil, so an empty list encodes
// as [] and compares equal to a stored empty array.
func hexes(ids []bson.ObjectID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.Hex()
	}
	return out
}

// ms rounds t to what a BSON date keeps (milliseconds, UTC), so what a write returns
// equals what a later read returns.
func ms(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

func msPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := ms(*t)
	return &v
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}
