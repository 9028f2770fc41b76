package handlers_test

import (
	"testing"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

func TestMessageEdit(t *testing.T) {
	e := newEnv(t)
	ada, bob, eve := e.user("ada"), e.user("bob"), e.user("eve")
	chatID := e.direct(ada, bob)
	m := e.send(ada, chatID, "typo")
	e.rec.take()
	edited := obj(e.ok(ada, "message:edit", M{"messageId": m["id"], "text": " fixed "})["message"])
	if edited["text"] != "fixed" || edited["editedAt"] == nil || edited["id"] != m["id"] || num(edited["seq"]) != 1 {
		t.Fatalf("edited = %v", edited)
	}
	up := only(e.rec.take(), "message:updated")
	if len(up) != 1 || up[0].Kind != "chat" || up[0].Target != chatID || up[0].Except != ada.SocketID || obj(up[0].Payload["message"])["text"] != "fixed" {
		t.Fatalf("message:updated = %v", up)
	}
	e.fail(bob, "message:edit", M{"messageId": m["id"], "text": "mine now"}, utils.CodeForbidden)
	sameNotFound(t, e.fail(eve, "message:edit", M{"messageId": m["id"], "text": "x"}, utils.CodeNotFound),
		e.fail(eve, "message:edit", M{"messageId": models.NewID(), "text": "x"}, utils.CodeNotFound))
	e.fail(ada, "message:edit", M{"messageId": m["id"], "text": "  "}, utils.CodeValidation)
	e.fail(ada, "message:edit", M{"text": "x"}, utils.CodeValidation)
	e.ok(ada, "message:delete", M{"messageId": m["id"]})
	e.fail(ada, "message:edit", M{"messageId": m["id"], "text": "revive"}, utils.CodeConflict)
}

func TestMessageDelete(t *testing.T) {
	e := newEnv(t)
	ada, bob, cid, eve := e.user("ada"), e.user("bob"), e.user("cid"), e.user("eve")
	groupID := e.group(ada, "g", bob, cid)
	byBob := e.send(bob, groupID, "bob's")
	byCid := e.send(cid, groupID, "cid's")
	e.rec.take()
	res := e.ok(bob, "message:delete", M{"messageId": byBob["id"]})
	if res["messageId"] != byBob["id"] || res["chatId"] != groupID {
		t.Fatalf("message:delete = %v", res)
	}
	del := only(e.rec.take(), "message:deleted")
	if len(del) != 1 || del[0].Kind != "chat" || del[0].Target != groupID || del[0].Except != bob.SocketID || del[0].Payload["messageId"] != byBob["id"] || del[0].Payload["chatId"] != groupID {
		t.Fatalf("message:deleted = %v", del)
	}
	// Deleting again answers the same and broadcasts nothing.
	if again := e.ok(bob, "message:delete", M{"messageId": byBob["id"]}); again["messageId"] != byBob["id"] {
		t.Fatalf("second delete = %v", again)
	}
	if got := e.rec.take(); len(got) != 0 {
		t.Fatalf("second delete emitted %v", got)
	}
	e.fail(bob, "message:delete", M{"messageId": byCid["id"]}, utils.CodeForbidden) // not an admin
	e.ok(ada, "message:delete", M{"messageId": byCid["id"]})                        // the admin may
	sameNotFound(t, e.fail(eve, "message:delete", M{"messageId": byCid["id"]}, utils.CodeNotFound),
		e.fail(eve, "message:delete", M{"messageId": models.NewID()}, utils.CodeNotFound))

	list := arr(e.ok(cid, "message:list", M{"chatId": groupID})["messages"])
	for _, m := range list {
		if obj(m)["deleted"] != true || obj(m)["text"] != "" {
			t.Fatalf("a deleted message reads %v", m)
		}
	}
	if seqs(list)[0] != 1 || seqs(list)[1] != 2 {
		t.Fatalf("deleted messages lost their seq: %v", seqs(list))
	}
	// Deleted messages are not unread.
	if c := obj(e.ok(cid, "chat:get", M{"chatId": groupID})["chat"]); num(c["unreadCount"]) != 0 {
		t.Fatalf("unreadCount %v counts deleted messages", c["unreadCount"])
	}
	// In a direct chat, the other side is no admin.
	dm := e.direct(ada, bob)
	m := e.send(ada, dm, "mine")
	e.fail(bob, "message:delete", M{"messageId": m["id"]}, utils.CodeForbidden)
}

func TestMessageRead(t *testing.T) {
	e := newEnv(t)
	ada, bob, eve := e.user("ada"), e.user("bob"), e.user("eve")
	chatID := e.direct(ada, bob)
	for i := 0; i < 5; i++ {
		e.send(ada, chatID, "m")
	}
	e.rec.take()
	res := e.ok(bob, "message:read", M{"chatId": chatID, "seq": 3})
	if res["chatId"] != chatID || num(res["readSeq"]) != 3 {
		t.Fatalf("message:read = %v", res)
	}
	reads := only(e.rec.take(), "message:read")
	if len(reads) != 1 || reads[0].Kind != "chat" || reads[0].Target != chatID || reads[0].Except != bob.SocketID ||
		reads[0].Payload["userId"] != bob.UserID || num(reads[0].Payload["readSeq"]) != 3 {
		t.Fatalf("message:read emits %v", reads)
	}
	if c := obj(e.ok(bob, "chat:get", M{"chatId": chatID})["chat"]); num(c["readSeq"]) != 3 || num(c["unreadCount"]) != 2 {
		t.Fatalf("chat after reading to 3: %v", c)
	}
	// Backwards: no change, no broadcast.
	if res := e.ok(bob, "message:read", M{"chatId": chatID, "seq": 1}); num(res["readSeq"]) != 3 {
		t.Fatalf("read mark moved back: %v", res)
	}
	if got := e.rec.take(); len(got) != 0 {
		t.Fatalf("a backwards read emitted %v", got)
	}
	// Past the end: clamped to the last message.
	if res := e.ok(bob, "message:read", M{"chatId": chatID, "seq": 1000}); num(res["readSeq"]) != 5 {
		t.Fatalf("read past the end: %v, want 5", res)
	}
	if c := obj(e.ok(bob, "chat:get", M{"chatId": chatID})["chat"]); num(c["unreadCount"]) != 0 {
		t.Fatalf("unread after reading all: %v", c)
	}
	e.fail(bob, "message:read", M{"chatId": chatID}, utils.CodeValidation)
	e.fail(bob, "message:read", M{"chatId": chatID, "seq": -1}, utils.CodeValidation)
	sameNotFound(t, e.fail(eve, "message:read", M{"chatId": chatID, "seq": 1}, utils.CodeNotFound),
		e.fail(eve, "message:read", M{"chatId": models.NewID(), "seq": 1}, utils.CodeNotFound))
}
