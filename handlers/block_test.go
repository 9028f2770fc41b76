package handlers_test

import (
	"testing"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

func TestBlockRefusesDirectMessagesAndRequests(t *testing.T) {
	e := newEnv(t)
	ada, bob, cid := e.user("ada"), e.user("bob"), e.user("cid")
	chatID := e.direct(ada, bob)
	groupID := e.group(cid, "g", ada, bob)
	e.ok(ada, "user:block", M{"userId": bob.UserID})
	e.ok(ada, "user:block", M{"userId": bob.UserID}) // idempotent
	e.rec.take()

	blocked := arr(e.ok(ada, "user:blocked", nil)["users"])
	if len(blocked) != 1 || obj(blocked[0])["id"] != bob.UserID {
		t.Fatalf("user:blocked = %v", blocked)
	}
	e.fail(bob, "message:new", M{"chatId": chatID, "text": "hi"}, utils.CodeForbidden)
	e.fail(bob, "friend:request:send", M{"userId": ada.UserID}, utils.CodeForbidden)
	// Creating the (existing) direct chat again is refused too.
	e.fail(bob, "chat:create", M{"type": "direct", "participantId": ada.UserID}, utils.CodeForbidden)
	if got := e.rec.take(); len(got) != 0 {
		t.Fatalf("refused actions emitted %v", got)
	}
	// Group messages are not direct messages.
	e.send(bob, groupID, "hello group")
	// The blocker can still write (the block is one-way), and the blocked user is not told.
	e.send(ada, chatID, "still here")
	if res := e.ok(bob, "user:blocked", nil); len(arr(res["users"])) != 0 {
		t.Fatalf("bob's block list shows %v", res)
	}
	e.ok(ada, "user:unblock", M{"userId": bob.UserID})
	e.send(bob, chatID, "hi again")
	if len(arr(e.ok(ada, "user:blocked", nil)["users"])) != 0 {
		t.Fatal("user:blocked not empty after unblock")
	}
}

func TestBlockRefusesANewDirectChat(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	e.ok(ada, "user:block", M{"userId": bob.UserID})
	e.fail(bob, "chat:create", M{"type": "direct", "participantId": ada.UserID}, utils.CodeForbidden)
	// The blocker may still open it.
	e.direct(ada, bob)
}

func TestBlockValidation(t *testing.T) {
	e := newEnv(t)
	ada := e.user("ada")
	e.fail(ada, "user:block", M{"userId": ada.UserID}, utils.CodeValidation)
	e.fail(ada, "user:block", M{}, utils.CodeValidation)
	e.fail(ada, "user:block", M{"userId": models.NewID()}, utils.CodeNotFound)
	e.fail(ada, "user:unblock", M{"userId": models.NewID()}, utils.CodeNotFound)
}
