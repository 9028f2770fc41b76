package mongo

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/parley-chat/parley/models"
)

// Reactions live in the message document (docs.go, messageDoc.Reactions): each change is
// one atomic update of that document, so concurrent reactions on any number of nodes
// never lose one another, and the limit of distinct emoji is part of the update's filter.
// Only operators FerretDB 1.24 implements are used: $addToSet and $pull of one whole
// element (no positional "$", no arrayFilters), $or, $nor and $exists on an array index.

// liveMessage matches a complete, undeleted message.
func liveMessage(id bson.ObjectID) bson.D {
	return bson.D{{Key: "_id", Value: id}, notPending(), {Key: "deleted", Value: bson.D{{Key: "$ne", Value: true}}}}
}

// maxReactAttempts bounds React's retries after making room (see dropUnusedEmoji).
const maxReactAttempts = 3

// React implements models.Messages: one findOneAndUpdate adds the {emoji, user} element
// and the emoji to the list of distinct emoji, if the message is live and either already
// has the emoji or has room for another. The document from before the update tells
// whether it changed anything, and the result is that document plus this reaction,
// exactly what the atomic update left.
func (s *Store) React(ctx context.Context, id, userID, emoji string) (*models.Message, bool, error) {
	mid, ok := oid(id)
	uid, uok := oid(userID)
	if !ok || !uok {
		return nil, false, models.ErrNotFound
	}
	defer s.locks.lock(messageKey(mid))()
	filter := append(liveMessage(mid), bson.E{Key: "$or", Value: bson.A{
		bson.D{{Key: "reactionEmoji", Value: emoji}},
		bson.D{{Key: "reactionEmoji." + strconv.Itoa(models.MaxReactionEmoji-1), Value: bson.D{{Key: "$exists", Value: false}}}},
	}})
	update := bson.D{{Key: "$addToSet", Value: bson.D{
		{Key: "reactions", Value: reactionPair(emoji, uid)},
		{Key: "reactionEmoji", Value: emoji},
	}}}
	for range maxReactAttempts {
		var before messageDoc
		err := s.messages.FindOneAndUpdate(ctx, filter, update,
			options.FindOneAndUpdate().SetReturnDocument(options.Before)).Decode(&before)
		if err == nil {
			if before.hasReaction(emoji, uid) {
				return before.model(), false, nil
			}
			after := before
			after.Reactions = append(slices.Clone(before.Reactions), reactionDoc{Emoji: emoji, User: uid})
			if !slices.Contains(before.ReactionEmoji, emoji) {
				after.ReactionEmoji = append(slices.Clone(before.ReactionEmoji), emoji)
			}
			return after.model(), true, nil
		}
		if err = mapErr(err); !errors.Is(err, models.ErrNotFound) {
			return nil, false, err
		}
		// Nothing matched: no such message, a deleted one, or no room for another emoji.
		var cur messageDoc
		if err := s.messages.FindOne(ctx, liveMessage(mid)).Decode(&cur); err != nil {
			return nil, false, mapErr(err)
		}
		made, err := s.dropUnusedEmoji(ctx, &cur)
		if err != nil {
			return nil, false, err
		}
		if !made && !slices.Contains(cur.ReactionEmoji, emoji) && len(cur.ReactionEmoji) >= models.MaxReactionEmoji {
			return nil, false, models.ErrTooManyReactions
		}
		// Room was made, or the message changed since the update: try again.
	}
	return nil, false, models.ErrTooManyReactions
}

// Unreact implements models.Messages: one findOneAndUpdate pulls the {emoji, user}
// element; if that was the emoji's last reaction, a second update drops the emoji from
// the list of distinct emoji, on condition that no reaction with it arrived meanwhile.
func (s *Store) Unreact(ctx context.Context, id, userID, emoji string) (*models.Message, bool, error) {
	mid, ok := oid(id)
	uid, uok := oid(userID)
	if !ok || !uok {
		return nil, false, models.ErrNotFound
	}
	defer s.locks.lock(messageKey(mid))()
	var before messageDoc
	err := s.messages.FindOneAndUpdate(ctx, liveMessage(mid),
		bson.D{{Key: "$pull", Value: bson.D{{Key: "reactions", Value: reactionPair(emoji, uid)}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.Before)).Decode(&before)
	if err != nil {
		return nil, false, mapErr(err)
	}
	if !before.hasReaction(emoji, uid) {
		return before.model(), false, nil
	}
	after := before
	after.Reactions = slices.DeleteFunc(slices.Clone(before.Reactions), func(r reactionDoc) bool {
		return r == reactionDoc{Emoji: emoji, User: uid}
	})
	if !slices.ContainsFunc(after.Reactions, func(r reactionDoc) bool { return r.Emoji == emoji }) {
		if err := s.dropEmoji(ctx, mid, emoji); err != nil {
			// The reaction is gone (reads skip an emoji nobody uses); React cleans up
			// when the emoji's place is needed.
			s.log.Warn().Err(err).Str("message", id).Msg("could not drop an unused reaction emoji")
		}
	}
	return after.model(), true, nil
}

// dropEmoji removes emoji from the message's distinct emoji if no reaction uses it.
func (s *Store) dropEmoji(ctx context.Context, mid bson.ObjectID, emoji string) error {
	_, err := s.messages.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: mid}, {Key: "reactionEmoji", Value: emoji},
			{Key: "$nor", Value: bson.A{bson.D{{Key: "reactions.emoji", Value: emoji}}}}},
		bson.D{{Key: "$pull", Value: bson.D{{Key: "reactionEmoji", Value: emoji}}}})
	return mapErr(err)
}

// dropUnusedEmoji drops the emoji of d's distinct emoji that no reaction uses (left by an
// Unreact whose second update did not run) and reports whether it dropped any.
func (s *Store) dropUnusedEmoji(ctx context.Context, d *messageDoc) (bool, error) {
	dropped := false
	for _, e := range d.ReactionEmoji {
		if slices.ContainsFunc(d.Reactions, func(r reactionDoc) bool { return r.Emoji == e }) {
			continue
		}
		if err := s.dropEmoji(ctx, d.ID, e); err != nil {
			return dropped, err
		}
		dropped = true
	}
	return dropped, nil
}
