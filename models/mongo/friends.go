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

// Friendships and blocks are separate collections (friendships, blocks) rather than
// `friends`/`blocked` arrays on the user documents. A friendship is one document per pair,
// so it exists or does not: with arrays, making or ending a friendship is two writes to
// two user documents, and without transactions a crash between them leaves a one-sided
// friendship. The same holds for blocks, which also must not depend on the blocker's user
// document (or grow it without bound). Both collections are Parley additions; the Node
// collections stay as they were.

// CreateFriendRequest implements models.Friends. While pending, a request carries
// pendingKey "<from>:<to>", whose sparse unique index refuses a second pending request in
// the same direction (ErrConflict) without needing a partial index.
func (s *Store) CreateFriendRequest(ctx context.Context, r *models.FriendRequest) error {
	id, ok := oid(r.ID)
	if !ok {
		return errInvalidID("friend request", r.ID)
	}
	from, fok := oid(r.FromID)
	to, tok := oid(r.ToID)
	if !fok || !tok {
		return errInvalidID("user", r.FromID+"/"+r.ToID)
	}
	doc := friendRequestDoc{ID: id, From: from, To: to, Status: r.Status, CreatedAt: ms(r.CreatedAt), UpdatedAt: ms(r.UpdatedAt)}
	if doc.Status == "" {
		doc.Status = models.RequestPending
	}
	if r.UpdatedAt.IsZero() {
		doc.UpdatedAt = doc.CreatedAt
	}
	if doc.Status == models.RequestPending {
		doc.PendingKey = from.Hex() + ":" + to.Hex()
	}
	_, err := s.requests.InsertOne(ctx, doc)
	return mapErr(err)
}

func (s *Store) findRequest(ctx context.Context, filter bson.D) (*friendRequestDoc, error) {
	var d friendRequestDoc
	if err := s.requests.FindOne(ctx, filter).Decode(&d); err != nil {
		return nil, mapErr(err)
	}
	return &d, nil
}

// FriendRequestByID implements models.Friends.
func (s *Store) FriendRequestByID(ctx context.Context, id string) (*models.FriendRequest, error) {
	rid, ok := oid(id)
	if !ok {
		return nil, models.ErrNotFound
	}
	d, err := s.findRequest(ctx, byID(rid))
	if err != nil {
		return nil, err
	}
	return d.model(), nil
}

// PendingRequest implements models.Friends. It asks for status "pending" rather than
// pendingKey so Node-era requests (which have no pendingKey) are found too.
func (s *Store) PendingRequest(ctx context.Context, from, to string) (*models.FriendRequest, error) {
	f, fok := oid(from)
	t, tok := oid(to)
	if !fok || !tok {
		return nil, models.ErrNotFound
	}
	d, err := s.findRequest(ctx, bson.D{{Key: "from", Value: f}, {Key: "to", Value: t}, {Key: "status", Value: models.RequestPending}})
	if err != nil {
		return nil, err
	}
	return d.model(), nil
}

// ResolveFriendRequest implements models.Friends.
//
// The status change is a compare-and-set (status: pending → status), so of concurrent
// resolutions exactly one wins and the others get ErrConflict. Accepting then needs a
// second write, the friendship document, and there are no transactions. The accepting
// write therefore also sets friendshipPending, which is cleared only after the friendship
// exists. A crash in between leaves an accepted request with friendshipPending set; a
// retry of the accept (which answers ErrConflict, the request being no longer pending)
// and the sweep both complete the friendship. RemoveFriend clears the flag first, so a
// friendship ended on purpose is never brought back.
func (s *Store) ResolveFriendRequest(ctx context.Context, id, status string, now time.Time) (*models.FriendRequest, error) {
	switch status {
	case models.RequestAccepted, models.RequestDeclined, models.RequestCanceled:
	default:
		return nil, fmt.Errorf("mongo: cannot resolve a friend request to %q", status)
	}
	rid, ok := oid(id)
	if !ok {
		return nil, models.ErrNotFound
	}
	set := bson.D{{Key: "status", Value: status}, {Key: "updatedAt", Value: ms(now)}}
	if status == models.RequestAccepted {
		set = append(set, bson.E{Key: "friendshipPending", Value: true})
	}
	var d friendRequestDoc
	unlock := s.locks.lock(requestKey(rid))
	err := s.requests.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: rid}, {Key: "status", Value: models.RequestPending}},
		bson.D{{Key: "$set", Value: set}, {Key: "$unset", Value: bson.D{{Key: "pendingKey", Value: ""}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	unlock()
	if errors.Is(err, mongo.ErrNoDocuments) {
		cur, ferr := s.findRequest(ctx, byID(rid))
		if ferr != nil {
			return nil, ferr // ErrNotFound: there is no such request
		}
		if cur.FriendshipPending {
			if herr := s.completeFriendship(ctx, cur); herr != nil {
				return nil, herr
			}
		}
		return nil, models.ErrConflict
	}
	if err != nil {
		return nil, mapErr(err)
	}
	if status == models.RequestAccepted {
		if err := s.completeFriendship(ctx, &d); err != nil {
			return nil, err
		}
	}
	return d.model(), nil
}

// completeFriendship stores the friendship of an accepted request and then clears the
// request's friendshipPending flag; both steps are idempotent.
func (s *Store) completeFriendship(ctx context.Context, r *friendRequestDoc) error {
	if err := s.addFriendship(ctx, r.From, r.To, r.UpdatedAt); err != nil {
		return err
	}
	defer s.locks.lock(requestKey(r.ID))()
	_, err := s.requests.UpdateOne(ctx, bson.D{{Key: "_id", Value: r.ID}, {Key: "friendshipPending", Value: true}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "friendshipPending", Value: ""}}}})
	return mapErr(err)
}

// addFriendship upserts the pair's friendship document; an existing one is kept as is.
func (s *Store) addFriendship(ctx context.Context, a, b bson.ObjectID, at time.Time) error {
	key := directKey(a.Hex(), b.Hex())
	users := []bson.ObjectID{a, b}
	if b.Hex() < a.Hex() {
		users = []bson.ObjectID{b, a}
	}
	_, err := s.friendships.UpdateOne(ctx, bson.D{{Key: "key", Value: key}},
		bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "users", Value: users}, {Key: "createdAt", Value: ms(at)}}}},
		options.UpdateOne().SetUpsert(true))
	if isDup(err) { // a concurrent upsert of the same pair inserted it first
		return nil
	}
	return mapErr(err)
}

// PendingRequests implements models.Friends.
func (s *Store) PendingRequests(ctx context.Context, userID string) (incoming, outgoing []*models.FriendRequest, err error) {
	uid, ok := oid(userID)
	if !ok {
		return nil, nil, nil
	}
	if incoming, err = s.requestList(ctx, "to", uid); err != nil {
		return nil, nil, err
	}
	if outgoing, err = s.requestList(ctx, "from", uid); err != nil {
		return nil, nil, err
	}
	return incoming, outgoing, nil
}

func (s *Store) requestList(ctx context.Context, field string, uid bson.ObjectID) ([]*models.FriendRequest, error) {
	cur, err := s.requests.Find(ctx, bson.D{{Key: field, Value: uid}, {Key: "status", Value: models.RequestPending}},
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}))
	if err != nil {
		return nil, mapErr(err)
	}
	var docs []friendRequestDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err)
	}
	out := make([]*models.FriendRequest, len(docs))
	for i := range docs {
		out[i] = docs[i].model()
	}
	return out, nil
}

// AreFriends implements models.Friends.
func (s *Store) AreFriends(ctx context.Context, a, b string) (bool, error) {
	ida, oka := oid(a)
	idb, okb := oid(b)
	if !oka || !okb {
		return false, nil
	}
	return s.exists(ctx, s.friendships, bson.D{{Key: "key", Value: directKey(ida.Hex(), idb.Hex())}})
}

func (s *Store) exists(ctx context.Context, coll *mongo.Collection, filter bson.D) (bool, error) {
	n, err := coll.CountDocuments(ctx, filter, options.Count().SetLimit(1))
	return n > 0, mapErr(err)
}

// FriendIDs implements models.Friends, oldest friendship first.
func (s *Store) FriendIDs(ctx context.Context, userID string) ([]string, error) {
	uid, ok := oid(userID)
	if !ok {
		return nil, nil
	}
	cur, err := s.friendships.Find(ctx, bson.D{{Key: "users", Value: uid}},
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, mapErr(err)
	}
	var docs []friendshipDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err)
	}
	out := make([]string, 0, len(docs))
	for _, d := range docs {
		for _, u := range d.Users {
			if u != uid {
				out = append(out, u.Hex())
			}
		}
	}
	return out, nil
}

// RemoveFriend implements models.Friends. It first disarms any unfinished acceptance
// between the two (see ResolveFriendRequest), then deletes the one friendship document.
func (s *Store) RemoveFriend(ctx context.Context, a, b string) (bool, error) {
	ida, oka := oid(a)
	idb, okb := oid(b)
	if !oka || !okb {
		return false, nil
	}
	_, err := s.requests.UpdateMany(ctx, bson.D{
		{Key: "friendshipPending", Value: true},
		{Key: "$or", Value: bson.A{
			bson.D{{Key: "from", Value: ida}, {Key: "to", Value: idb}},
			bson.D{{Key: "from", Value: idb}, {Key: "to", Value: ida}},
		}},
	}, bson.D{{Key: "$unset", Value: bson.D{{Key: "friendshipPending", Value: ""}}}})
	if err != nil {
		return false, mapErr(err)
	}
	res, err := s.friendships.DeleteOne(ctx, bson.D{{Key: "key", Value: directKey(ida.Hex(), idb.Hex())}})
	if err != nil {
		return false, mapErr(err)
	}
	return res.DeletedCount > 0, nil
}

// Block implements models.Friends as an idempotent upsert.
func (s *Store) Block(ctx context.Context, blocker, blocked string, now time.Time) error {
	br, ok1 := oid(blocker)
	bd, ok2 := oid(blocked)
	if !ok1 || !ok2 {
		return models.ErrNotFound
	}
	_, err := s.blocks.UpdateOne(ctx, bson.D{{Key: "blocker", Value: br}, {Key: "blocked", Value: bd}},
		bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "createdAt", Value: ms(now)}}}},
		options.UpdateOne().SetUpsert(true))
	if isDup(err) {
		return nil
	}
	return mapErr(err)
}

// Unblock implements models.Friends; unblocking someone not blocked is not an error.
func (s *Store) Unblock(ctx context.Context, blocker, blocked string) error {
	br, ok1 := oid(blocker)
	bd, ok2 := oid(blocked)
	if !ok1 || !ok2 {
		return nil
	}
	_, err := s.blocks.DeleteOne(ctx, bson.D{{Key: "blocker", Value: br}, {Key: "blocked", Value: bd}})
	return mapErr(err)
}

// IsBlocked implements models.Friends.
func (s *Store) IsBlocked(ctx context.Context, blocker, blocked string) (bool, error) {
	br, ok1 := oid(blocker)
	bd, ok2 := oid(blocked)
	if !ok1 || !ok2 {
		return false, nil
	}
	return s.exists(ctx, s.blocks, bson.D{{Key: "blocker", Value: br}, {Key: "blocked", Value: bd}})
}

// BlockedIDs implements models.Friends, oldest block first.
func (s *Store) BlockedIDs(ctx context.Context, blocker string) ([]string, error) {
	br, ok := oid(blocker)
	if !ok {
		return nil, nil
	}
	cur, err := s.blocks.Find(ctx, bson.D{{Key: "blocker", Value: br}},
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, mapErr(err)
	}
	var docs []blockDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err)
	}
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.Blocked.Hex()
	}
	return out, nil
}
