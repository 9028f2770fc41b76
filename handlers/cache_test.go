package handlers_test

import (
	"sync/atomic"
	"testing"

	"github.com/parley-chat/parley/utils"
)

// The hot path reads membership, profiles and blocks through a cache; every change must
// be visible to the very next event, on this node and on the others.

func TestCachedMembershipFollowsChanges(t *testing.T) {
	e := newEnv(t)
	ada, bob, cid := e.user("ada"), e.user("bob"), e.user("cid")
	groupID := e.group(ada, "g", bob)
	e.send(bob, groupID, "cached now")
	e.ok(bob, "typing:start", M{"chatId": groupID})
	// A user added after the chat was cached can write at once.
	e.fail(cid, "message:new", M{"chatId": groupID, "text": "not yet"}, utils.CodeNotFound)
	e.ok(ada, "chat:participants:add", M{"chatId": groupID, "userIds": []string{cid.UserID}})
	e.send(cid, groupID, "hello")
	// A removed user is refused at once.
	e.ok(ada, "chat:participants:remove", M{"chatId": groupID, "userId": bob.UserID})
	e.fail(bob, "message:new", M{"chatId": groupID, "text": "still here?"}, utils.CodeNotFound)
	e.fail(bob, "typing:start", M{"chatId": groupID}, utils.CodeNotFound)
	// And one who left.
	e.ok(cid, "chat:leave", M{"chatId": groupID})
	e.fail(cid, "message:new", M{"chatId": groupID, "text": "bye?"}, utils.CodeNotFound)
}

func TestCachedBlockFollowsChanges(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	chatID := e.direct(ada, bob)
	e.send(bob, chatID, "not blocked yet") // caches "ada does not block bob"
	e.ok(ada, "user:block", M{"userId": bob.UserID})
	e.fail(bob, "message:new", M{"chatId": chatID, "text": "blocked?"}, utils.CodeForbidden)
	e.ok(ada, "user:unblock", M{"userId": bob.UserID})
	e.send(bob, chatID, "unblocked")
}

func TestCachedProfileFollowsChanges(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	chatID := e.direct(ada, bob)
	e.send(ada, chatID, "one")
	e.ok(ada, "typing:start", M{"chatId": chatID})
	e.ok(ada, "user:update", M{"name": "Ada Renamed"})
	e.rec.take()
	e.ok(ada, "typing:start", M{"chatId": chatID})
	starts := only(e.rec.take(), "typing:start")
	if len(starts) != 1 || obj(starts[0].Payload["user"])["name"] != "Ada Renamed" {
		t.Fatalf("typing:start after a rename = %v", starts)
	}
	if m := e.send(ada, chatID, "two"); obj(m["sender"])["name"] != "Ada Renamed" {
		t.Fatalf("message sender after a rename = %v", m["sender"])
	}
}

// Two nodes on one store: a change on one is seen by the next event on the other.
func TestCacheInvalidationReachesOtherNodes(t *testing.T) {
	a := newEnv(t)
	b := a.peer()
	ada, bob, cid := a.user("ada"), a.user("bob"), a.user("cid")
	groupID := a.group(ada, "g", bob, cid)
	directID := a.direct(ada, bob)
	// Node b caches the chats, the block answer and the profile.
	b.send(bob, groupID, "from node b")
	b.send(bob, directID, "from node b")
	b.ok(ada, "typing:start", M{"chatId": directID})

	a.ok(ada, "chat:participants:remove", M{"chatId": groupID, "userId": bob.UserID})
	b.fail(bob, "message:new", M{"chatId": groupID, "text": "x"}, utils.CodeNotFound)

	a.ok(ada, "user:block", M{"userId": bob.UserID})
	b.fail(bob, "message:new", M{"chatId": directID, "text": "x"}, utils.CodeForbidden)

	a.ok(ada, "user:update", M{"name": "Ada Two"})
	b.rec.take()
	b.ok(ada, "typing:start", M{"chatId": directID})
	if s := only(b.rec.take(), "typing:start"); len(s) != 1 || obj(s[0].Payload["user"])["name"] != "Ada Two" {
		t.Fatalf("node b's typing:start after a rename on node a = %v", s)
	}
}

// While the bus is down an invalidation cannot arrive: the other node must not use its
// cache then, nor anything it cached before the bus came back.
func TestCacheIsNotTrustedWhileTheBusIsDown(t *testing.T) {
	a := newEnv(t)
	var up atomic.Bool
	up.Store(true)
	b := a.peerTrusting(up.Load)
	// Invalidations from a reach b only while the bus is up.
	a.h.Invalidate = func(kind, key string) {
		if up.Load() {
			b.h.DropCached(kind, key)
		}
	}
	ada, bob, cid := a.user("ada"), a.user("bob"), a.user("cid")
	groupID := a.group(ada, "g", bob, cid)
	b.send(bob, groupID, "cached on b")
	b.send(cid, groupID, "cached on b")

	up.Store(false) // the bus goes; the server resets the cache on every change of state
	b.h.ResetCache()
	a.ok(ada, "chat:participants:remove", M{"chatId": groupID, "userId": bob.UserID})
	b.fail(bob, "message:new", M{"chatId": groupID, "text": "stale?"}, utils.CodeNotFound)
	// What b reads meanwhile is not kept: a second removal, also lost, is seen too.
	b.send(cid, groupID, "read from the store while the bus is down")
	a.ok(ada, "chat:participants:remove", M{"chatId": groupID, "userId": cid.UserID})
	b.fail(cid, "message:new", M{"chatId": groupID, "text": "stale?"}, utils.CodeNotFound)
}

// An entry filled before a change of the bus's state is not used after it.
func TestCacheEntriesDoNotOutliveAReset(t *testing.T) {
	a := newEnv(t)
	b := a.peerTrusting(func() bool { return true })
	a.h.Invalidate = func(string, string) {} // every invalidation lost
	ada, bob := a.user("ada"), a.user("bob")
	groupID := a.group(ada, "g", bob)
	b.send(bob, groupID, "cached on b")
	a.ok(ada, "chat:participants:remove", M{"chatId": groupID, "userId": bob.UserID})
	b.h.ResetCache() // the bus dropped and came back
	b.fail(bob, "message:new", M{"chatId": groupID, "text": "stale?"}, utils.CodeNotFound)
}
