package mongo

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/parley-chat/parley/models"
)

// capabilities records which optional index kinds the server accepted at Open.
type capabilities struct {
	// ttl: the notifications TTL index exists, so the server deletes expired ones by
	// itself. Without it the sweep does (reads filter expired ones out either way).
	ttl bool
	// partial: the partial unique index on messages {sender, chatId, clientId} exists.
	// Without it the sparse unique index on clientKey guards idempotency. Both are
	// correct; the store writes clientKey always, so data moves between servers as is.
	partial bool
}

// indexSpec is one index the store wants. Names are the driver's defaults (derived from
// the keys), which are also mongoose's, so an index a Node server already created under
// the same keys and options is recognised and left alone.
type indexSpec struct {
	coll  string
	model mongo.IndexModel
	// kind names an optional feature whose refusal has a fallback ("ttl", "partial");
	// empty for indexes every supported server must accept.
	kind string
}

// IndexResult says what happened to one index at Open or in Migrate.
type IndexResult struct {
	Collection string
	Keys       string
	// Outcome is "ok", "refused" (the server does not support this kind; a fallback is
	// used), "conflict" (an index on these keys exists with other options and was kept) or
	// "duplicates" (existing documents violate the unique index; run the migration).
	Outcome string
	Detail  string `json:",omitempty"`
}

func indexSpecs() []indexSpec {
	unique := func() *options.IndexOptionsBuilder { return options.Index().SetUnique(true) }
	sparseUnique := func() *options.IndexOptionsBuilder { return options.Index().SetUnique(true).SetSparse(true) }
	k := func(pairs ...any) bson.D {
		d := bson.D{}
		for i := 0; i < len(pairs); i += 2 {
			d = append(d, bson.E{Key: pairs[i].(string), Value: pairs[i+1]})
		}
		return d
	}
	return []indexSpec{
		// users: one account per handle; handles are stored lower case (the caller
		// lower-cases, the migration normalises Node-era ones), so this is case-insensitive
		// uniqueness without a collation (which FerretDB lacks).
		{coll: collUsers, model: mongo.IndexModel{Keys: k("handle", 1), Options: unique()}},

		// chats: "my chats, most recently active first". Its participants prefix also
		// serves every plain participants lookup, so no separate participants_1 is kept.
		{coll: collChats, model: mongo.IndexModel{Keys: k("participants", 1, "lastActivity", -1, "_id", -1)}},
		// One direct chat per pair: directKey exists only on direct chats, so a sparse
		// unique index needs no partial filter.
		{coll: collChats, model: mongo.IndexModel{Keys: k("directKey", 1), Options: sparseUnique()}},
		// The seq repair's work list: chats that reserved a seq since its last pass.
		{coll: collChats, model: mongo.IndexModel{Keys: k("lastSeqAt", 1), Options: options.Index().SetSparse(true)}},

		// messages: the Node server's history index, and Parley's seq order. Unassigned
		// seqs are unique negative placeholders (docs.go), so the unique index stays plain.
		{coll: collMessages, model: mongo.IndexModel{Keys: k("chatId", 1, "createdAt", 1)}},
		{coll: collMessages, model: mongo.IndexModel{Keys: k("chatId", 1, "seq", 1), Options: unique()}},
		// Idempotent sends: unique (sender, chatId, clientId) over the messages that have a
		// clientId only; messages without one (all Node-era ones) must never collide.
		{coll: collMessages, kind: "partial", model: mongo.IndexModel{
			Keys:    k("sender", 1, "chatId", 1, "clientId", 1),
			Options: unique().SetPartialFilterExpression(bson.D{{Key: "clientId", Value: bson.D{{Key: "$exists", Value: true}}}}),
		}},
		// A member's unread mentions of a chat (Chat.unreadMentions): multikey on the
		// mentioned ids, then the chat and the seq range above the member's read mark.
		{coll: collMessages, model: mongo.IndexModel{Keys: k("mentions", 1, "chatId", 1, "seq", 1)}},
		// message:search (search.go): a multikey index over each message's words, within
		// its chat, so a prefix term is one index range per chat searched.
		{coll: collMessages, model: mongo.IndexModel{Keys: k("chatId", 1, "searchWords", 1)}},
		// Inserts not finished yet (the sweep's work list); sparse: only they have it.
		{coll: collMessages, model: mongo.IndexModel{Keys: k("pendingAt", 1), Options: options.Index().SetSparse(true)}},

		// friendrequests: a user's pending requests in each direction, newest first; one
		// pending request per direction through pendingKey (present only while pending).
		{coll: collFriendRequests, model: mongo.IndexModel{Keys: k("to", 1, "status", 1, "createdAt", -1)}},
		{coll: collFriendRequests, model: mongo.IndexModel{Keys: k("from", 1, "status", 1, "createdAt", -1)}},
		{coll: collFriendRequests, model: mongo.IndexModel{Keys: k("pendingKey", 1), Options: sparseUnique()}},

		{coll: collFriendships, model: mongo.IndexModel{Keys: k("key", 1), Options: unique()}},
		{coll: collFriendships, model: mongo.IndexModel{Keys: k("users", 1, "createdAt", 1)}},
		{coll: collBlocks, model: mongo.IndexModel{Keys: k("blocker", 1, "blocked", 1), Options: unique()}},
		{coll: collReadMarks, model: mongo.IndexModel{Keys: k("userId", 1, "chatId", 1), Options: unique()}},

		// notifications: a user's list, newest first; the collapse guard; and expiry.
		{coll: collNotifications, model: mongo.IndexModel{Keys: k("user", 1, "createdAt", -1, "_id", -1)}},
		{coll: collNotifications, model: mongo.IndexModel{Keys: k("collapseKey", 1), Options: sparseUnique()}},
		// attachments: a message's uploads in order; the sweep's work lists (by state and
		// age; pending claims). uploads.files/chunks: the indexes the GridFS spec asks for
		// (the chunk index is what makes a file's chunks one ordered index scan).
		{coll: collAttachments, model: mongo.IndexModel{Keys: k("messageId", 1, "position", 1)}},
		{coll: collAttachments, model: mongo.IndexModel{Keys: k("state", 1, "createdAt", 1)}},
		{coll: collAttachments, model: mongo.IndexModel{Keys: k("claimPendingAt", 1), Options: options.Index().SetSparse(true)}},
		{coll: uploadsBucket + ".chunks", model: mongo.IndexModel{Keys: k("files_id", 1, "n", 1), Options: unique()}},
		{coll: uploadsBucket + ".files", model: mongo.IndexModel{Keys: k("filename", 1, "uploadDate", 1)}},

		{coll: collNotifications, kind: "ttl", model: mongo.IndexModel{
			Keys:    k("createdAt", 1),
			Options: options.Index().SetExpireAfterSeconds(int32(models.NotificationTTL.Seconds())),
		}},
	}
}

// fallbackSpecs are created when the server refuses an index kind.
func fallbackSpecs(kind string) []indexSpec {
	switch kind {
	case "partial":
		// clientKey is "<sender>:<chatId>:<clientId>" and exists only on messages sent
		// with a clientId; a sparse single-field index skips documents without the field,
		// so it is unique over exactly the set the partial index would cover. (FerretDB
		// accepts and ignores "sparse", but its SQLite expression index maps a missing
		// field to SQL NULL, and NULLs never collide: the effect is the same.)
		return []indexSpec{{coll: collMessages, model: mongo.IndexModel{
			Keys: bson.D{{Key: "clientKey", Value: 1}}, Options: options.Index().SetUnique(true).SetSparse(true),
		}}}
	case "ttl":
		// The sweep deletes expired notifications instead; this plain index keeps its
		// range delete cheap.
		return []indexSpec{{coll: collNotifications, model: mongo.IndexModel{Keys: bson.D{{Key: "createdAt", Value: 1}}}}}
	}
	return nil
}

// ensureIndexes creates every index idempotently and returns the server's capabilities.
// Only a failure to reach the server fails it: an index the existing data violates, or
// one that clashes with an index a Node server made, is logged and reported, because
// the migration (which needs an open Store) is what fixes such data.
func (s *Store) ensureIndexes(ctx context.Context) (capabilities, []IndexResult, error) {
	caps := capabilities{ttl: true, partial: true}
	var out []IndexResult
	for _, spec := range indexSpecs() {
		res, err := s.createIndex(ctx, spec)
		if err != nil {
			return caps, out, err
		}
		out = append(out, res)
		if spec.kind == "" || res.Outcome == "ok" {
			continue
		}
		// An optional kind the server refused, or one that clashes with an index a
		// Node server made (say createdAt_1 without a TTL): use the fallback. Logged
		// here once per Open.
		switch spec.kind {
		case "ttl":
			caps.ttl = false
			s.log.Warn().Str("index", "notifications.createdAt TTL").Str("outcome", res.Outcome).Str("reason", res.Detail).
				Msg("server refuses TTL indexes: expired notifications are deleted by the store's sweep instead")
		case "partial":
			caps.partial = false
			s.log.Warn().Str("index", "messages {sender, chatId, clientId} partial unique").Str("outcome", res.Outcome).Str("reason", res.Detail).
				Msg("server refuses partial indexes: idempotent sends are guarded by a sparse unique index on messages.clientKey instead")
		}
		for _, fb := range fallbackSpecs(spec.kind) {
			r, err := s.createIndex(ctx, fb)
			if err != nil {
				return caps, out, err
			}
			out = append(out, r)
		}
	}
	for _, r := range out {
		if r.Outcome == "duplicates" || r.Outcome == "conflict" {
			s.log.Warn().Str("collection", r.Collection).Str("keys", r.Keys).Str("outcome", r.Outcome).
				Str("detail", r.Detail).Msg("index not created; run the migration (`parley migrate`) on a Node-era database")
		}
	}
	return caps, out, nil
}

func (s *Store) createIndex(ctx context.Context, spec indexSpec) (IndexResult, error) {
	res := IndexResult{Collection: spec.coll, Keys: keysString(spec.model.Keys), Outcome: "ok"}
	_, err := s.db.Collection(spec.coll).Indexes().CreateOne(ctx, spec.model)
	var ce mongo.CommandError
	switch {
	case err == nil:
	case isUnavailable(err):
		return res, fmt.Errorf("mongo: create index %s %s: %w", spec.coll, res.Keys, mapErr(err))
	case isDup(err):
		res.Outcome, res.Detail = "duplicates", err.Error()
	case errors.As(err, &ce) && (ce.Code == 85 || ce.Code == 86): // IndexOptionsConflict, IndexKeySpecsConflict
		res.Outcome, res.Detail = "conflict", err.Error()
	case spec.kind != "" && isRefused(err):
		res.Outcome, res.Detail = "refused", err.Error()
	default:
		return res, fmt.Errorf("mongo: create index %s %s: %w", spec.coll, res.Keys, err)
	}
	return res, nil
}

func keysString(keys any) string {
	b, err := bson.MarshalExtJSON(keys, false, false)
	if err != nil {
		return fmt.Sprint(keys)
	}
	return string(b)
}
