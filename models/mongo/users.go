package mongo

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/parley-chat/parley/models"
)

// CreateUser implements models.Users. The unique index on handle makes a taken handle
// (and the unique _id a taken id) ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u *models.User) error {
	id, ok := oid(u.ID)
	if !ok {
		return errInvalidID("user", u.ID)
	}
	_, err := s.users.InsertOne(ctx, newUserDoc(u, id))
	return mapErr(err)
}

// EnsureUser implements models.Users. It inserts and, when the insert collides, reads
// the user by id: found means the id existed (possibly created a moment ago by a
// concurrent call for the same user) and the stored user wins; not found means the
// collision was on the handle, which is ErrConflict.
func (s *Store) EnsureUser(ctx context.Context, u *models.User) (*models.User, error) {
	id, ok := oid(u.ID)
	if !ok {
		return nil, errInvalidID("user", u.ID)
	}
	doc := newUserDoc(u, id)
	_, err := s.users.InsertOne(ctx, doc)
	if err == nil {
		return doc.model(), nil
	}
	if !isDup(err) {
		return nil, mapErr(err)
	}
	got, gerr := s.UserByID(ctx, u.ID)
	if errors.Is(gerr, models.ErrNotFound) {
		return nil, mapErr(err)
	}
	return got, gerr
}

func (s *Store) findUser(ctx context.Context, filter bson.D) (*models.User, error) {
	var d userDoc
	if err := s.users.FindOne(ctx, filter).Decode(&d); err != nil {
		return nil, mapErr(err)
	}
	return d.model(), nil
}

// UserByID implements models.Users.
func (s *Store) UserByID(ctx context.Context, id string) (*models.User, error) {
	uid, ok := oid(id)
	if !ok {
		return nil, models.ErrNotFound
	}
	return s.findUser(ctx, bson.D{{Key: "_id", Value: uid}})
}

// UserByHandle implements models.Users. The handle is compared as given (the caller
// lower-cases); as a plain string value it can never act as a query operator.
func (s *Store) UserByHandle(ctx context.Context, handle string) (*models.User, error) {
	return s.findUser(ctx, bson.D{{Key: "handle", Value: handle}})
}

// UsersByIDs implements models.Users.
func (s *Store) UsersByIDs(ctx context.Context, ids []string) ([]*models.User, error) {
	list := oids(ids)
	if len(list) == 0 {
		return nil, nil
	}
	return s.findUsers(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: list}}}}, nil)
}

func (s *Store) findUsers(ctx context.Context, filter bson.D, opts *options.FindOptionsBuilder) ([]*models.User, error) {
	cur, err := s.users.Find(ctx, filter, opts)
	if err != nil {
		return nil, mapErr(err)
	}
	var docs []userDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err)
	}
	out := make([]*models.User, len(docs))
	for i := range docs {
		out[i] = docs[i].model()
	}
	return out, nil
}

// SearchUsers implements models.Users with anchored regular expressions: the prefix is
// quoted so its metacharacters match themselves. Handles are lower case, so the handle
// test is case-sensitive against the lower-cased prefix and can use the handle index;
// names are matched case-insensitively.
func (s *Store) SearchUsers(ctx context.Context, prefix string, limit int) ([]*models.User, error) {
	lower := "^" + regexp.QuoteMeta(strings.ToLower(prefix))
	name := "^" + regexp.QuoteMeta(prefix)
	filter := bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "handle", Value: bson.Regex{Pattern: lower}}},
		bson.D{{Key: "name", Value: bson.Regex{Pattern: name, Options: "i"}}},
	}}}
	opts := options.Find().SetSort(bson.D{{Key: "handle", Value: 1}, {Key: "_id", Value: 1}})
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	return s.findUsers(ctx, filter, opts)
}

// UpdateUser implements models.Users as one findOneAndUpdate.
func (s *Store) UpdateUser(ctx context.Context, id string, p models.UserPatch, now time.Time) (*models.User, error) {
	uid, ok := oid(id)
	if !ok {
		return nil, models.ErrNotFound
	}
	set := bson.D{{Key: "updatedAt", Value: ms(now)}}
	if p.Name != nil {
		set = append(set, bson.E{Key: "name", Value: *p.Name})
	}
	switch {
	case p.ClearImage:
		set = append(set, bson.E{Key: "image", Value: nil})
	case p.Image != nil:
		set = append(set, bson.E{Key: "image", Value: *p.Image})
	}
	var d userDoc
	defer s.locks.lock(userKey(uid))()
	err := s.users.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: uid}}, bson.D{{Key: "$set", Value: set}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		return nil, mapErr(err)
	}
	return d.model(), nil
}

// SetLastSeen implements models.Users.
func (s *Store) SetLastSeen(ctx context.Context, id string, t time.Time) error {
	uid, ok := oid(id)
	if !ok {
		return models.ErrNotFound
	}
	defer s.locks.lock(userKey(uid))()
	res, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: uid}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "lastSeen", Value: ms(t)}}}})
	return mustMatch(res, err)
}

// mustMatch turns "no document matched" into ErrNotFound.
func mustMatch(res *mongo.UpdateResult, err error) error {
	if err != nil {
		return mapErr(err)
	}
	if res.MatchedCount == 0 {
		return models.ErrNotFound
	}
	return nil
}
