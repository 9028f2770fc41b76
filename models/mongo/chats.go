package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/parley-chat/parley/models"
)

// CreateChat implements models.Chats. A direct chat carries directKey, whose sparse unique
// index turns a second direct chat of the same pair (whoever creates it) into ErrConflict.
func (s *Store) CreateChat(ctx context.Context, c *models.Chat) error {
	id, ok := oid(c.ID)
	if !ok {
		return errInvalidID("chat", c.ID)
	}
	participants, err := strictOIDs("participant", c.Participants)
	if err != nil {
		return err
	}
	admins, err := strictOIDs("admin", c.Admins)
	if err != nil {
		return err
	}
	doc := chatDoc{
		ID: id, Type: c.Type, Name: c.Name, Participants: participants, Admins: admins,
		LastSeq: c.LastSeq, CreatedAt: ms(c.CreatedAt), UpdatedAt: ms(c.UpdatedAt), LastActivity: ms(c.LastActivity),
	}
	if c.CreatedBy != "" {
		if doc.CreatedBy, ok = oid(c.CreatedBy); !ok {
			return errInvalidID("creator", c.CreatedBy)
		}
	}
	if c.UpdatedAt.IsZero() {
		doc.UpdatedAt = doc.CreatedAt
	}
	if c.LastActivity.IsZero() {
		doc.LastActivity = doc.CreatedAt
	}
	if c.Type == models.ChatDirect {
		switch len(participants) {
		case 1:
			doc.DirectKey = directKey(participants[0].Hex(), participants[0].Hex())
		case 2:
			doc.DirectKey = directKey(participants[0].Hex(), participants[1].Hex())
		}
	}
	_, err = s.chats.InsertOne(ctx, doc)
	return mapErr(err)
}

// strictOIDs parses ids for a new document, deduplicated in order; a malformed one is
// a caller bug. The result is never nil, so it is stored as [] rather than null.
func strictOIDs(kind string, ids []string) ([]bson.ObjectID, error) {
	out := make([]bson.ObjectID, 0, len(ids))
	for _, s := range ids {
		id, ok := oid(s)
		if !ok {
			return nil, errInvalidID(kind, s)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// DirectChat implements models.Chats.
func (s *Store) DirectChat(ctx context.Context, a, b string) (*models.Chat, error) {
	ida, oka := oid(a)
	idb, okb := oid(b)
	if !oka || !okb {
		return nil, models.ErrNotFound
	}
	return s.findChat(ctx, bson.D{{Key: "directKey", Value: directKey(ida.Hex(), idb.Hex())}})
}

// ChatByID implements models.Chats.
func (s *Store) ChatByID(ctx context.Context, id string) (*models.Chat, error) {
	cid, ok := oid(id)
	if !ok {
		return nil, models.ErrNotFound
	}
	return s.findChat(ctx, byID(cid))
}

func byID(id bson.ObjectID) bson.D { return bson.D{{Key: "_id", Value: id}} }

func (s *Store) findChat(ctx context.Context, filter bson.D) (*models.Chat, error) {
	var d chatDoc
	if err := s.chats.FindOne(ctx, filter).Decode(&d); err != nil {
		return nil, mapErr(err)
	}
	return d.model(), nil
}

// ChatsForUser implements models.Chats: keyset paging on (lastActivity desc, _id desc),
// served by the {participants, lastActivity, _id} index.
func (s *Store) ChatsForUser(ctx context.Context, userID string, before *models.ChatCursor, limit int) ([]*models.Chat, error) {
	uid, ok := oid(userID)
	if !ok {
		return nil, nil
	}
	filter := bson.D{{Key: "participants", Value: uid}}
	if before != nil {
		at := ms(before.LastActivity)
		older := bson.A{bson.D{{Key: "lastActivity", Value: bson.D{{Key: "$lt", Value: at}}}}}
		if cid, ok := oid(before.ID); ok {
			older = append(older, bson.D{{Key: "lastActivity", Value: at}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: cid}}}})
		}
		filter = append(filter, bson.E{Key: "$or", Value: older})
	}
	opts := options.Find().SetSort(bson.D{{Key: "lastActivity", Value: -1}, {Key: "_id", Value: -1}})
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	cur, err := s.chats.Find(ctx, filter, opts)
	if err != nil {
		return nil, mapErr(err)
	}
	var docs []chatDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err)
	}
	out := make([]*models.Chat, len(docs))
	for i := range docs {
		out[i] = docs[i].model()
	}
	return out, nil
}

// ChatIDsForUser implements models.Chats.
func (s *Store) ChatIDsForUser(ctx context.Context, userID string) ([]string, error) {
	uid, ok := oid(userID)
	if !ok {
		return nil, nil
	}
	ids, err := findIDs(ctx, s.chats, bson.D{{Key: "participants", Value: uid}}, 0)
	if err != nil {
		return nil, err
	}
	return hexes(ids), nil
}

// updateChat applies one atomic update to the chat matching filter (which must pin
// _id) and returns the chat as that update left it.
func (s *Store) updateChat(ctx context.Context, id bson.ObjectID, filter, update bson.D) (*models.Chat, error) {
	defer s.locks.lock(chatKey(id))()
	return s.updateChatLocked(ctx, filter, update)
}

// updateChatLocked is updateChat for a caller that holds the chat's lock.
func (s *Store) updateChatLocked(ctx context.Context, filter, update bson.D) (*models.Chat, error) {
	var d chatDoc
	err := s.chats.FindOneAndUpdate(ctx, filter, update, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		return nil, mapErr(err)
	}
	return d.model(), nil
}

// SetChatName implements models.Chats.
func (s *Store) SetChatName(ctx context.Context, id, name string, now time.Time) (*models.Chat, error) {
	cid, ok := oid(id)
	if !ok {
		return nil, models.ErrNotFound
	}
	return s.updateChat(ctx, cid, byID(cid), bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: name}, {Key: "updatedAt", Value: ms(now)}}}})
}

// AddParticipants implements models.Chats with $addToSet/$each, which appends the ids not
// present yet in the given order and leaves existing members where they are.
func (s *Store) AddParticipants(ctx context.Context, id string, userIDs []string, now time.Time) (*models.Chat, error) {
	cid, ok := oid(id)
	if !ok {
		return nil, models.ErrNotFound
	}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: ms(now)}}}}
	if add := oids(userIDs); len(add) > 0 {
		update = append(update, bson.E{Key: "$addToSet", Value: bson.D{{Key: "participants", Value: bson.D{{Key: "$each", Value: add}}}}})
	}
	return s.updateChat(ctx, cid, byID(cid), update)
}

// RemoveParticipant implements models.Chats. Removing the member and promoting the
// longest-standing remaining one when no admin is left must be one write, and the server
// may lack update pipelines and transactions, so it is a compare-and-set: read the chat,
// compute both arrays, and write them only if neither array changed in between (the
// filter pins their exact stored values). A concurrent membership change makes the write
// match nothing, and the loop re-reads and tries again.
func (s *Store) RemoveParticipant(ctx context.Context, id, userID string, now time.Time) (*models.Chat, error) {
	cid, ok := oid(id)
	if !ok {
		return nil, models.ErrNotFound
	}
	uid, _ := oid(userID) // a malformed id removes nobody; the zero ObjectId is no member
	for attempt := 0; attempt < 50; attempt++ {
		var d chatDoc
		unlock := s.locks.lock(chatKey(cid)) // on FerretDB, the read and the write together
		if err := s.chats.FindOne(ctx, byID(cid)).Decode(&d); err != nil {
			unlock()
			return nil, mapErr(err)
		}
		participants := slices.DeleteFunc(slices.Clone(d.Participants), func(x bson.ObjectID) bool { return x == uid })
		admins := slices.DeleteFunc(slices.Clone(d.Admins), func(x bson.ObjectID) bool { return x == uid })
		if participants == nil {
			participants = []bson.ObjectID{}
		}
		if admins == nil {
			admins = []bson.ObjectID{}
		}
		if len(admins) == 0 && len(participants) > 0 && d.model().Type == models.ChatGroup {
			admins = append(admins, participants[0])
		}
		filter := bson.D{{Key: "_id", Value: cid}, {Key: "participants", Value: sameArray(d.Participants)}, {Key: "admins", Value: sameArray(d.Admins)}}
		update := bson.D{{Key: "$set", Value: bson.D{
			{Key: "participants", Value: participants}, {Key: "admins", Value: admins}, {Key: "updatedAt", Value: ms(now)},
		}}}
		if _, muted := d.MutedUntil[uid.Hex()]; muted {
			// A mute belongs to the membership (models.Chats.SetMute).
			update = append(update, bson.E{Key: "$unset", Value: bson.D{{Key: "mutedUntil." + uid.Hex(), Value: ""}}})
		}
		c, err := s.updateChatLocked(ctx, filter, update)
		unlock()
		if errors.Is(err, models.ErrNotFound) {
			continue // the arrays changed under us (or the chat vanished: the re-read says)
		}
		return c, err
	}
	return nil, fmt.Errorf("mongo: RemoveParticipant: chat %s kept changing", id)
}

// sameArray is the filter value that matches exactly the array a document was decoded
// with: the array itself, or for a missing/null field, null (which matches both).
func sameArray(ids []bson.ObjectID) any {
	if ids == nil {
		return nil
	}
	return ids
}

// SetAdmin implements models.Chats. The filter requires membership, so granting to a
// non-member matches nothing; that, like a missing chat, is ErrNotFound.
func (s *Store) SetAdmin(ctx context.Context, id, userID string, admin bool, now time.Time) (*models.Chat, error) {
	cid, ok := oid(id)
	uid, uok := oid(userID)
	if !ok || !uok {
		return nil, models.ErrNotFound
	}
	op := "$pull"
	if admin {
		op = "$addToSet"
	}
	filter := bson.D{{Key: "_id", Value: cid}, {Key: "participants", Value: uid}}
	update := bson.D{
		{Key: op, Value: bson.D{{Key: "admins", Value: uid}}},
		{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: ms(now)}}},
	}
	return s.updateChat(ctx, cid, filter, update)
}

// SetMute implements models.Chats: one update of the member's own entry
// ("mutedUntil.<id>"), filtered on membership, so a non-member matches nothing
// (ErrNotFound) and members muting at once never overwrite each other.
func (s *Store) SetMute(ctx context.Context, id, userID string, until *time.Time) (*models.Chat, error) {
	cid, ok := oid(id)
	uid, uok := oid(userID)
	if !ok || !uok {
		return nil, models.ErrNotFound
	}
	field := "mutedUntil." + uid.Hex()
	update := bson.D{{Key: "$unset", Value: bson.D{{Key: field, Value: ""}}}}
	if until != nil {
		update = bson.D{{Key: "$set", Value: bson.D{{Key: field, Value: ms(*until)}}}}
	}
	return s.updateChat(ctx, cid, bson.D{{Key: "_id", Value: cid}, {Key: "participants", Value: uid}}, update)
}
