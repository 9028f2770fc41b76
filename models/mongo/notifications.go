package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/parley-chat/parley/models"
)

// Expiry: where the server accepts TTL indexes, it deletes notifications 30 days after
// createdAt by itself; where it refuses them (FerretDB), the store's sweep deletes them
// (sweep.go). Either way deletion lags (MongoDB's TTL monitor runs every 60 s, the sweep
// every SweepInterval), so every read also filters createdAt >= now - NotificationTTL.

func aliveSince(now time.Time) bson.E {
	return bson.E{Key: "createdAt", Value: bson.D{{Key: "$gte", Value: ms(now.Add(-models.NotificationTTL))}}}
}

// CreateNotification implements models.Notifications.
func (s *Store) CreateNotification(ctx context.Context, n *models.Notification) error {
	id, ok := oid(n.ID)
	if !ok {
		return errInvalidID("notification", n.ID)
	}
	uid, ok := oid(n.UserID)
	if !ok {
		return errInvalidID("user", n.UserID)
	}
	data := bson.M{}
	for k, v := range n.Data {
		data[k] = v
	}
	doc := notificationDoc{ID: id, User: uid, Type: n.Type, Data: data, Read: n.Read, CreatedAt: ms(n.CreatedAt), UpdatedAt: ms(n.UpdatedAt)}
	if n.UpdatedAt.IsZero() {
		doc.UpdatedAt = doc.CreatedAt
	}
	_, err := s.notifications.InsertOne(ctx, doc)
	return mapErr(err)
}

// UpsertMessageNotification implements models.Notifications.
//
// The common case is one findOneAndUpdate ($inc data.count) on the user's unread,
// unexpired message notification of the chat. When there is none, a new one is inserted
// with collapseKey "<user>:<chat>"; its sparse unique index makes a concurrent creation for
// the same user and chat fail with a duplicate key, and the loser loops back to the
// update, which then finds the winner's notification. Reading a notification removes its
// collapseKey; an expired holder is released here.
func (s *Store) UpsertMessageNotification(ctx context.Context, userID, chatID, messageID string, now time.Time) (*models.Notification, error) {
	uid, uok := oid(userID)
	cid, cok := oid(chatID)
	if !uok || !cok {
		return nil, models.ErrNotFound
	}
	key := uid.Hex() + ":" + cid.Hex()
	filter := bson.D{
		{Key: "user", Value: uid}, {Key: "type", Value: models.NotifyMessage},
		{Key: "data.chatId", Value: cid.Hex()}, {Key: "read", Value: false}, aliveSince(now),
	}
	update := bson.D{
		{Key: "$inc", Value: bson.D{{Key: "data.count", Value: int64(1)}}},
		{Key: "$set", Value: bson.D{{Key: "data.lastMessageId", Value: messageID}, {Key: "updatedAt", Value: ms(now)}}},
	}
	opts := options.FindOneAndUpdate().SetReturnDocument(options.After).
		SetSort(bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}})
	defer s.locks.lock(notificationsKey(uid))()
	for range 5 {
		var d notificationDoc
		err := s.notifications.FindOneAndUpdate(ctx, filter, update, opts).Decode(&d)
		if err == nil {
			return d.model(), nil
		}
		if !errors.Is(err, mongo.ErrNoDocuments) {
			return nil, mapErr(err)
		}
		doc := notificationDoc{
			ID: bson.NewObjectID(), User: uid, Type: models.NotifyMessage,
			Data:        bson.M{"chatId": cid.Hex(), "count": int64(1), "lastMessageId": messageID},
			CollapseKey: key, CreatedAt: ms(now), UpdatedAt: ms(now),
		}
		_, err = s.notifications.InsertOne(ctx, doc)
		if err == nil {
			return doc.model(), nil
		}
		if !isDup(err) {
			return nil, mapErr(err)
		}
		// Someone holds the key: a concurrent creation (the update will find it now), or
		// an expired notification nobody read; release the latter.
		_, err = s.notifications.UpdateMany(ctx,
			bson.D{{Key: "collapseKey", Value: key}, {Key: "createdAt", Value: bson.D{{Key: "$lt", Value: ms(now.Add(-models.NotificationTTL))}}}},
			bson.D{{Key: "$unset", Value: bson.D{{Key: "collapseKey", Value: ""}}}})
		if err != nil {
			return nil, mapErr(err)
		}
	}
	return nil, fmt.Errorf("mongo: message notification for %s kept colliding", key)
}

// ListNotifications implements models.Notifications. The Before cursor is a notification
// id of the user; its (createdAt, _id) is the exclusive upper bound. A cursor that names
// no notification of the user yields an empty page.
func (s *Store) ListNotifications(ctx context.Context, userID string, q models.NotificationQuery) ([]*models.Notification, error) {
	out := []*models.Notification{}
	uid, ok := oid(userID)
	if !ok {
		return out, nil
	}
	now := q.Now
	if now.IsZero() {
		now = time.Now()
	}
	filter := bson.D{{Key: "user", Value: uid}, aliveSince(now)}
	if q.UnreadOnly {
		filter = append(filter, bson.E{Key: "read", Value: false})
	}
	if q.Before != "" {
		bid, ok := oid(q.Before)
		if !ok {
			return out, nil
		}
		var b notificationDoc
		err := s.notifications.FindOne(ctx, bson.D{{Key: "_id", Value: bid}, {Key: "user", Value: uid}}).Decode(&b)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return out, nil
		}
		if err != nil {
			return nil, mapErr(err)
		}
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "createdAt", Value: bson.D{{Key: "$lt", Value: b.CreatedAt}}}},
			bson.D{{Key: "createdAt", Value: b.CreatedAt}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: bid}}}},
		}})
	}
	opts := options.Find().SetSort(bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}})
	if q.Limit > 0 {
		opts.SetLimit(int64(q.Limit))
	}
	cur, err := s.notifications.Find(ctx, filter, opts)
	if err != nil {
		return nil, mapErr(err)
	}
	var docs []notificationDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err)
	}
	for i := range docs {
		out = append(out, docs[i].model())
	}
	return out, nil
}

// MarkNotificationsRead implements models.Notifications. Read notifications leave the
// collapse rule, so they give up their collapseKey in the same update.
func (s *Store) MarkNotificationsRead(ctx context.Context, userID string, ids []string, all bool) error {
	uid, ok := oid(userID)
	if !ok {
		return nil
	}
	filter := bson.D{{Key: "user", Value: uid}, {Key: "read", Value: false}}
	if !all {
		list := oids(ids)
		if len(list) == 0 {
			return nil
		}
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$in", Value: list}}})
	}
	defer s.locks.lock(notificationsKey(uid))()
	_, err := s.notifications.UpdateMany(ctx, filter, bson.D{
		{Key: "$set", Value: bson.D{{Key: "read", Value: true}, {Key: "updatedAt", Value: ms(time.Now())}}},
		{Key: "$unset", Value: bson.D{{Key: "collapseKey", Value: ""}}},
	})
	return mapErr(err)
}

// UnreadNotifications implements models.Notifications.
func (s *Store) UnreadNotifications(ctx context.Context, userID string, now time.Time) (int, error) {
	uid, ok := oid(userID)
	if !ok {
		return 0, nil
	}
	n, err := s.notifications.CountDocuments(ctx, bson.D{{Key: "user", Value: uid}, {Key: "read", Value: false}, aliveSince(now)})
	return int(n), mapErr(err)
}

// DeleteExpiredNotifications implements models.Notifications.
func (s *Store) DeleteExpiredNotifications(ctx context.Context, cutoff time.Time) (int, error) {
	res, err := s.notifications.DeleteMany(ctx, bson.D{{Key: "createdAt", Value: bson.D{{Key: "$lt", Value: ms(cutoff)}}}})
	if err != nil {
		return 0, mapErr(err)
	}
	return int(res.DeletedCount), nil
}
