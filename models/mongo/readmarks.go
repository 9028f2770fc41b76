package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/parley-chat/parley/models"
)

// Read marks live in their own collection, one document per (chat, user), rather than in
// the chat document: marking read is the most frequent write after sending, and keeping it
// off the chat document keeps that hot document (lastSeq) small and uncontended.

// MarkRead implements models.ReadMarks as one upsert with $max, so concurrent marks from
// several tabs can only move the mark forward. Two first marks racing may both try to
// insert; the loser's duplicate-key error is retried, and then finds the winner's mark.
func (s *Store) MarkRead(ctx context.Context, chatID, userID string, seq int64) (int64, error) {
	cid, cok := oid(chatID)
	uid, uok := oid(userID)
	if !cok || !uok {
		return 0, models.ErrNotFound
	}
	filter := bson.D{{Key: "userId", Value: uid}, {Key: "chatId", Value: cid}}
	update := bson.D{
		{Key: "$max", Value: bson.D{{Key: "seq", Value: max(seq, 0)}}},
		{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: ms(time.Now())}}},
	}
	opts := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)
	defer s.locks.lock(readMarkKey(uid, cid))()
	var err error
	for range 5 {
		var d readMarkDoc
		err = s.readMarks.FindOneAndUpdate(ctx, filter, update, opts).Decode(&d)
		if err == nil {
			return d.Seq, nil
		}
		if !isDup(err) {
			return 0, mapErr(err)
		}
	}
	return 0, fmt.Errorf("mongo: MarkRead kept colliding: %w", mapErr(err))
}

// ReadSeqs implements models.ReadMarks.
func (s *Store) ReadSeqs(ctx context.Context, userID string, chatIDs []string) (map[string]int64, error) {
	out := make(map[string]int64, len(chatIDs))
	for _, id := range chatIDs {
		out[id] = 0
	}
	uid, ok := oid(userID)
	ids := oids(chatIDs)
	if !ok || len(ids) == 0 {
		return out, nil
	}
	cur, err := s.readMarks.Find(ctx, bson.D{{Key: "userId", Value: uid}, {Key: "chatId", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, mapErr(err)
	}
	var docs []readMarkDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err)
	}
	for _, d := range docs {
		out[d.ChatID.Hex()] = d.Seq
	}
	return out, nil
}
