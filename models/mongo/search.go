package mongo

import (
	"context"
	"errors"
	"regexp"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/parley-chat/parley/models"
)

// Message search on MongoDB: every message that is not deleted carries searchWords, its
// distinct words folded by models.SearchWords (the same function the SQLite store indexes
// with), and a search asks for messages of the caller's chats whose searchWords hold, for
// every query term, a word starting with it: {searchWords: {$regex: "^term"}} per term. A
// prefix expression anchored at the start and without options is one range of the
// {chatId, searchWords} multikey index on MongoDB.
//
// It does not use a text index, on any server: $text matches whole stemmed words of one
// language, drops stop words and cannot match a prefix, so it could not give the same
// answers as SQLite's index (and FerretDB refuses text indexes anyway). Nothing is tried
// and refused at Open; the same index and the same query run everywhere.
//
// A message written by a Node server has no searchWords and is not found until the
// migration (`parley migrate`) gives it some; an edit a Node server makes leaves the old
// words in place.

// searchWordsValue is the searchWords of text for an update: [] rather than null when the
// text has no words, so that the migration (which looks for messages without the field)
// does not pick the message up again.
func searchWordsValue(text string) []string {
	w := models.SearchWords(text)
	if w == nil {
		w = []string{}
	}
	return w
}

// defaultSearchLimit is used when the caller passes no limit.
const defaultSearchLimit = 20

// SearchMessages implements models.Messages. In one chat the order is descending seq
// (the {chatId, seq} index); across chats it is createdAt then _id, descending.
func (s *Store) SearchMessages(ctx context.Context, q models.SearchQuery) ([]*models.Message, error) {
	empty := []*models.Message{}
	uid, ok := oid(q.UserID)
	words := models.SearchTerms(q.Text)
	if len(words) == 0 || !ok {
		return empty, nil
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultSearchLimit
	}
	filter := bson.D{}
	var sort bson.D
	if q.ChatID != "" {
		cid, ok := oid(q.ChatID)
		if !ok {
			return empty, nil
		}
		// Only a member searches a chat: the handler has checked, and the store checks
		// again rather than trust its caller.
		err := s.chats.FindOne(ctx, bson.D{{Key: "_id", Value: cid}, {Key: "participants", Value: uid}},
			options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
		if errors.Is(err, mongo.ErrNoDocuments) {
			return empty, nil
		} else if err != nil {
			return nil, mapErr(err)
		}
		seq := bson.D{{Key: "$gt", Value: int64(0)}} // > 0 also skips claims' placeholders
		if q.Before != nil {
			seq = append(seq, bson.E{Key: "$lt", Value: q.Before.Seq})
		}
		filter = append(filter, bson.E{Key: "chatId", Value: cid}, bson.E{Key: "seq", Value: seq})
		sort = bson.D{{Key: "seq", Value: -1}}
	} else {
		ids, err := s.ChatIDsForUser(ctx, q.UserID)
		if err != nil {
			return nil, err
		}
		chats := oids(ids)
		if len(chats) == 0 {
			return empty, nil
		}
		filter = append(filter, bson.E{Key: "chatId", Value: bson.D{{Key: "$in", Value: chats}}},
			bson.E{Key: "seq", Value: bson.D{{Key: "$gt", Value: int64(0)}}})
		if q.Before != nil {
			at := ms(q.Before.CreatedAt)
			older := bson.A{bson.D{{Key: "createdAt", Value: bson.D{{Key: "$lt", Value: at}}}}}
			if mid, ok := oid(q.Before.ID); ok {
				older = append(older, bson.D{{Key: "createdAt", Value: at}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: mid}}}})
			}
			filter = append(filter, bson.E{Key: "$or", Value: older})
		}
		sort = bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}
	}
	terms := make(bson.A, len(words))
	for i, t := range words {
		// Terms hold only letters, digits and marks; quoting keeps it so whatever they hold.
		terms[i] = bson.D{{Key: "searchWords", Value: bson.Regex{Pattern: "^" + regexp.QuoteMeta(t)}}}
	}
	filter = append(filter,
		bson.E{Key: "$and", Value: terms},
		bson.E{Key: "deleted", Value: bson.D{{Key: "$ne", Value: true}}},
	)
	list, err := s.findMessages(ctx, filter, options.Find().SetSort(sort).SetLimit(int64(limit)).
		SetProjection(bson.D{{Key: "searchWords", Value: 0}}))
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = empty
	}
	return list, nil
}
