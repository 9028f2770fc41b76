package handlers_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley/handlers"
)

// messageNotes returns the unread message notifications of c, newest first.
func messageNotes(e *env, c handlers.Caller) []M {
	e.t.Helper()
	var out []M
	for _, n := range arr(e.ok(c, "notification:list", M{"unreadOnly": true})["notifications"]) {
		if obj(n)["type"] == "message" {
			out = append(out, obj(n))
		}
	}
	return out
}

func TestMessageNotificationsOnlyForUnconnectedUsers(t *testing.T) {
	e := newEnv(t)
	ada, bob, cid := e.user("ada"), e.user("bob"), e.user("cid")
	e.connect(ada, bob) // cid has no socket
	groupID := e.group(ada, "g", bob, cid)
	e.rec.take()
	m1 := e.send(ada, groupID, "one")
	log := e.rec.take()
	notes := only(log, "notification:new")
	if len(notes) != 1 || notes[0].Kind != "user" || notes[0].Target != cid.UserID || notes[0].Except != "" {
		t.Fatalf("notification:new = %v, want one to cid's room", notes)
	}
	n := obj(notes[0].Payload["notification"])
	data := obj(n["data"])
	if n["type"] != "message" || data["chatId"] != groupID || num(data["count"]) != 1 || data["lastMessageId"] != m1["id"] || n["read"] != false {
		t.Fatalf("notification = %v", n)
	}
	if len(messageNotes(e, bob)) != 0 || len(messageNotes(e, ada)) != 0 {
		t.Fatal("a connected user or the sender got a message notification")
	}
	// The next message collapses into the same notification.
	m2 := e.send(bob, groupID, "two")
	list := messageNotes(e, cid)
	if len(list) != 1 || list[0]["id"] != n["id"] || num(obj(list[0]["data"])["count"]) != 2 || obj(list[0]["data"])["lastMessageId"] != m2["id"] {
		t.Fatalf("after two messages: %v, want one notification with count 2", list)
	}
	// Once read, the next message starts a new one.
	e.ok(cid, "notification:read", M{"notificationIds": []string{str(n["id"])}})
	e.send(ada, groupID, "three")
	list = messageNotes(e, cid)
	if len(list) != 1 || list[0]["id"] == n["id"] || num(obj(list[0]["data"])["count"]) != 1 {
		t.Fatalf("after reading: %v, want a fresh notification with count 1", list)
	}
	// Another chat gets its own notification.
	other := e.direct(ada, cid)
	e.send(ada, other, "dm")
	if list := messageNotes(e, cid); len(list) != 2 {
		t.Fatalf("two chats collapsed into %d notifications", len(list))
	}
}

func TestMessageNotificationDuringTheReloadGrace(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	chatID := e.direct(ada, bob)
	e.connect(ada, bob)
	e.presence.Disconnect(bob.UserID) // bob is in his grace: online, not connected
	if !e.presence.IsOnline(bob.UserID) || e.presence.Connected(bob.UserID) {
		t.Fatal("bob should be online and not connected")
	}
	e.send(ada, chatID, "while reloading")
	if len(messageNotes(e, bob)) != 1 {
		t.Fatal("a user in the grace got no notification")
	}
	// Reconnected through another node: no notification.
	e.presence.Remote("node-b", bob.UserID, 2)
	e.send(ada, chatID, "again")
	if list := messageNotes(e, bob); len(list) != 1 || num(obj(list[0]["data"])["count"]) != 1 {
		t.Fatalf("a user connected elsewhere was notified: %v", list)
	}
}

// CoverRecentMessages: a message broadcast to a socket that was going away is covered by a
// notification when the last socket closes, exactly once, whichever path ran first.
func TestCoverRecentMessagesCoversOnce(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	chatID := e.direct(ada, bob)
	e.connect(ada, bob)
	m := e.send(ada, chatID, "raced the disconnect") // bob connected: no notification
	if len(messageNotes(e, bob)) != 0 {
		t.Fatal("a connected user was notified")
	}
	e.presence.Disconnect(bob.UserID)
	e.rec.take()
	ctx := context.Background()
	e.h.CoverRecentMessages(ctx, bob.UserID, 3*time.Second, nil)
	list := messageNotes(e, bob)
	if len(list) != 1 || num(obj(list[0]["data"])["count"]) != 1 || obj(list[0]["data"])["lastMessageId"] != m["id"] {
		t.Fatalf("after the sweep: %v, want one notification covering the message", list)
	}
	if got := only(e.rec.take(), "notification:new"); len(got) != 1 || got[0].Target != bob.UserID {
		t.Fatalf("notification:new = %v", got)
	}
	// Again: nothing new.
	e.h.CoverRecentMessages(ctx, bob.UserID, 3*time.Second, nil)
	// A restarted node (no memory) reads the coverage from the store.
	e.rebuild().CoverRecentMessages(ctx, bob.UserID, 3*time.Second, nil)
	if list := messageNotes(e, bob); len(list) != 1 || num(obj(list[0]["data"])["count"]) != 1 {
		t.Fatalf("repeated sweeps counted again: %v", list)
	}
	if got := e.rec.take(); len(got) != 0 {
		t.Fatalf("repeated sweeps emitted %v", got)
	}
	// Ada's own message is never a notification for ada.
	e.presence.Disconnect(ada.UserID)
	e.h.CoverRecentMessages(ctx, ada.UserID, 3*time.Second, nil)
	if len(messageNotes(e, ada)) != 0 {
		t.Fatal("the sender was notified of her own message")
	}
}

func TestCoverRecentMessagesAfterNotifyMessage(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	chatID := e.direct(ada, bob)
	e.connect(ada) // bob already gone: message:new notifies him
	e.send(ada, chatID, "one")
	e.send(ada, chatID, "two")
	e.rec.take()
	for _, h := range []*handlers.Handlers{e.h, e.rebuild()} {
		h.CoverRecentMessages(context.Background(), bob.UserID, 3*time.Second, nil)
	}
	list := messageNotes(e, bob)
	if len(list) != 1 || num(obj(list[0]["data"])["count"]) != 2 {
		t.Fatalf("after message:new and the sweep: %v, want one notification with count 2", list)
	}
	if got := e.rec.take(); len(got) != 0 {
		t.Fatalf("the sweep emitted %v for messages already covered", got)
	}
	// Messages older than the window are left alone; deleted ones too.
	e.ok(bob, "notification:read", M{"all": true})
	e.clock.advance(time.Minute)
	e.h.CoverRecentMessages(context.Background(), bob.UserID, 3*time.Second, nil)
	m := e.send(ada, chatID, "three") // notified by message:new
	e.ok(bob, "notification:read", M{"all": true})
	e.ok(ada, "message:delete", M{"messageId": m["id"]})
	e.rebuild().CoverRecentMessages(context.Background(), bob.UserID, 3*time.Second, nil)
	if list := messageNotes(e, bob); len(list) != 0 {
		t.Fatalf("old or deleted messages were covered again: %v", list)
	}
}

// Covering the message after a read notification: once bob read the notification that
// covered message 1, a sweep must not resurrect it.
func TestCoverRecentMessagesAfterTheNotificationWasRead(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	chatID := e.direct(ada, bob)
	e.connect(ada)
	e.send(ada, chatID, "one") // bob offline: notified
	e.ok(bob, "notification:read", M{"all": true})
	e.h.CoverRecentMessages(context.Background(), bob.UserID, 3*time.Second, nil)
	if list := messageNotes(e, bob); len(list) != 0 {
		t.Fatalf("a message whose notification was read was notified again: %v", list)
	}
}

// The same on another node (or after a restart): the node sweeping has no memory of the
// notification another node stored, and must not count the message a second time.
func TestCoverRecentMessagesOnAnotherNodeAfterTheNotificationWasRead(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	chatID := e.direct(ada, bob)
	e.connect(ada)
	e.send(ada, chatID, "one") // bob offline: notified by this node
	e.ok(bob, "notification:read", M{"all": true})
	e.rebuild().CoverRecentMessages(context.Background(), bob.UserID, 3*time.Second, nil)
	if list := messageNotes(e, bob); len(list) != 0 {
		t.Fatalf("a message whose notification was read was notified again by another node: %v", list)
	}
}
