package mongo

import (
	"context"
	"hash/fnv"
	"slices"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Single-document atomicity, and the server that lacks it
//
// The store's correctness without transactions rests on MongoDB's guarantee that one
// update of one document is atomic: $inc hands out distinct numbers, a filter on
// {status: "pending"} is a compare-and-set, $addToSet never loses a concurrent $pull.
//
// FerretDB 1.x (the test server) does not give that guarantee: its SQLite backend runs an
// update as "query the matching documents, apply the operators in Go, write each whole
// document back by _id", with no isolation between the query and the write. Two
// concurrent $inc can return the same value, two concurrent conditional updates can both
// succeed, and any update can undo a concurrent one on the same document. (Measured: 8
// goroutines resolving one friend request concurrently, two of them "won".) Inserts
// are different: SQLite enforces unique indexes, so unique-index arbitration is atomic
// on FerretDB too.
//
// So, when Open finds FerretDB (buildInfo.ferretdbVersion), the store serialises inside
// this process every update of one logical document with a striped lock keyed by it.
// That restores single-document atomicity for one process, which is what the tests (and
// a single-node deployment on FerretDB) need. Several processes sharing one FerretDB
// are not protected: FerretDB is a test server here, production runs MongoDB. On MongoDB
// the locks are disabled and cost one branch.

// keyLocks is the striped lock set; the zero value is disabled.
type keyLocks struct {
	enabled bool
	stripes [256]sync.Mutex
}

// lock takes the stripes of keys (in a fixed order, so two callers cannot deadlock) and
// returns the function that releases them. It does nothing when the locks are disabled.
func (k *keyLocks) lock(keys ...string) func() {
	if !k.enabled {
		return func() {}
	}
	idx := make([]int, 0, len(keys))
	for _, key := range keys {
		h := fnv.New32a()
		_, _ = h.Write([]byte(key))
		i := int(h.Sum32() % uint32(len(k.stripes)))
		if !slices.Contains(idx, i) {
			idx = append(idx, i)
		}
	}
	slices.Sort(idx)
	for _, i := range idx {
		k.stripes[i].Lock()
	}
	return func() {
		for _, i := range slices.Backward(idx) {
			k.stripes[i].Unlock()
		}
	}
}

// Lock keys, one per kind of document that is updated in place.
func chatKey(id bson.ObjectID) string    { return "chat:" + id.Hex() }
func messageKey(id bson.ObjectID) string { return "message:" + id.Hex() }
func userKey(id bson.ObjectID) string    { return "user:" + id.Hex() }
func requestKey(id bson.ObjectID) string { return "request:" + id.Hex() }

// notificationsKey covers all notifications of a user: collapsing and marking read both
// update them by filter rather than by id.
func notificationsKey(user bson.ObjectID) string { return "notifications:" + user.Hex() }

func readMarkKey(user, chat bson.ObjectID) string { return "readmark:" + user.Hex() + ":" + chat.Hex() }

// detectNonAtomicUpdates reports whether the server is FerretDB.
func (s *Store) detectNonAtomicUpdates(ctx context.Context) (bool, error) {
	var info bson.M
	if err := s.db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return false, mapErr(err)
	}
	_, ferret := info["ferretdbVersion"]
	return ferret, nil
}
