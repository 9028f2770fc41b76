package handlers_test

import (
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
