package handlers_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

const forever = "9999-12-31T23:59:59.999Z"

func TestChatMute(t *testing.T) {
	e := newEnv(t)
	ada, bob, cid := e.user("ada"), e.user("bob"), e.user("cid")
	groupID := e.group(ada, "g", bob, cid)
	if c := obj(e.ok(bob, "chat:get", M{"chatId": groupID})["chat"]); c["mutedUntil"] != nil {
		t.Fatalf("a new chat reads mutedUntil %v", c["mutedUntil"])
	}
	e.rec.take()
	until := e.clock.Now().Add(time.Hour)
	chat := obj(e.ok(bob, "chat:mute", M{"chatId": groupID, "until": until.Format(time.RFC3339Nano)})["chat"])
	if chat["mutedUntil"] != models.FormatTime(until) || chat["id"] != groupID {
		t.Fatalf("chat:mute ack: mutedUntil %v, want %s", chat["mutedUntil"], models.FormatTime(until))
	}
	up := only(e.rec.take(), "chat:updated")
	if len(up) != 1 || up[0].Kind != "user" || up[0].Target != bob.UserID || up[0].Except != bob.SocketID ||
		obj(up[0].Payload["chat"])["mutedUntil"] != models.FormatTime(until) {
		t.Fatalf("chat:updated = %v, want one to bob's other sockets", up)
	}
	// Only bob's view says muted.
	if c := obj(e.ok(cid, "chat:get", M{"chatId": groupID})["chat"]); c["mutedUntil"] != nil {
		t.Fatalf("cid sees bob's mute: %v", c["mutedUntil"])
	}
	for _, res := range []M{
		obj(arr(e.ok(bob, "chat:list", M{})["chats"])[0]),
		obj(arr(e.ok(bob, "sync", M{"cursors": M{}})["chats"])[0]),
	} {
		if res["mutedUntil"] != models.FormatTime(until) {
			t.Fatalf("chat:list/sync mutedUntil %v", res["mutedUntil"])
		}
	}
	// Without until (or null): no end. Muting the same way again changes nothing.
	for _, p := range []M{{"chatId": groupID}, {"chatId": groupID, "until": nil}} {
		if c := obj(e.ok(bob, "chat:mute", p)["chat"]); c["mutedUntil"] != forever {
			t.Fatalf("chat:mute %v: mutedUntil %v, want %s", p, c["mutedUntil"], forever)
		}
	}
	if up := only(e.rec.take(), "chat:updated"); len(up) != 1 {
		t.Fatalf("two mutes forever emitted %d chat:updated, want 1", len(up))
	}
	chat = obj(e.ok(bob, "chat:unmute", M{"chatId": groupID})["chat"])
	if chat["mutedUntil"] != nil {
		t.Fatalf("after unmute: %v", chat["mutedUntil"])
	}
	if up := only(e.rec.take(), "chat:updated"); len(up) != 1 || obj(up[0].Payload["chat"])["mutedUntil"] != nil {
		t.Fatalf("unmute emitted %v", up)
	}
	e.ok(bob, "chat:unmute", M{"chatId": groupID})
	if got := e.rec.take(); len(got) != 0 {
		t.Fatalf("unmuting an unmuted chat emitted %v", got)
	}
}

func TestChatMuteValidation(t *testing.T) {
	e := newEnv(t)
	ada, bob, eve := e.user("ada"), e.user("bob"), e.user("eve")
	chatID := e.direct(ada, bob)
	past := e.clock.Now().Add(-time.Minute).Format(time.RFC3339Nano)
	for _, p := range []any{
		M{"chatId": chatID, "until": past},
		M{"chatId": chatID, "until": e.clock.Now().Format(time.RFC3339Nano)},
		M{"chatId": chatID, "until": "tomorrow"},
		M{"chatId": chatID, "until": "2999-01-01"},
		M{"chatId": chatID, "until": 1893456000000},
		M{"chatId": chatID, "forever": true},
		M{"until": past},
		`{"chatId": {"$ne": null}}`,
	} {
		if err := e.fail(bob, "chat:mute", p, utils.CodeValidation); len(err.Issues) == 0 {
			t.Errorf("chat:mute %v: no issues", p)
		}
	}
	e.fail(bob, "chat:unmute", M{"chatId": chatID, "until": nil}, utils.CodeValidation)
	e.fail(bob, "chat:unmute", M{}, utils.CodeValidation)
	future := e.clock.Now().Add(time.Hour).Format(time.RFC3339Nano)
	sameNotFound(t, e.fail(eve, "chat:mute", M{"chatId": chatID, "until": future}, utils.CodeNotFound),
		e.fail(eve, "chat:mute", M{"chatId": models.NewID(), "until": future}, utils.CodeNotFound))
	sameNotFound(t, e.fail(eve, "chat:unmute", M{"chatId": chatID}, utils.CodeNotFound),
		e.fail(eve, "chat:unmute", M{"chatId": models.NewID()}, utils.CodeNotFound))
	// A past until is refused before anything else only for members: an outsider still
	// learns nothing.
	e.fail(eve, "chat:mute", M{"chatId": chatID, "until": past}, utils.CodeNotFound)
	// An offset is a zone too.
	e.ok(bob, "chat:mute", M{"chatId": chatID, "until": "9000-01-01T00:00:00+02:00"})
}

func TestMutedChatCreatesNoMessageNotifications(t *testing.T) {
	e := newEnv(t)
	ada, bob, cid := e.user("ada"), e.user("bob"), e.user("cid")
	e.connect(ada) // bob and cid have no socket
	groupID := e.group(ada, "g", bob, cid)
	until := e.clock.Now().Add(time.Hour)
	e.ok(bob, "chat:mute", M{"chatId": groupID, "until": until.Format(time.RFC3339Nano)})
	e.rec.take()
	e.send(ada, groupID, "while bob muted")
	if notes := only(e.rec.take(), "notification:new"); len(notes) != 1 || notes[0].Target != cid.UserID {
		t.Fatalf("notification:new = %v, want one, for cid", notes)
	}
	if n := messageNotes(e, bob); len(n) != 0 {
		t.Fatalf("muted bob got %v", n)
	}
	if n := messageNotes(e, cid); len(n) != 1 {
		t.Fatalf("cid got %d message notifications, want 1", len(n))
	}
	// The mute ends by itself: the next message notifies bob again, and his view says so.
	e.clock.advance(time.Hour)
	m := e.send(ada, groupID, "after the mute")
	if n := messageNotes(e, bob); len(n) != 1 || num(obj(n[0]["data"])["count"]) != 1 || obj(n[0]["data"])["lastMessageId"] != m["id"] {
		t.Fatalf("after the mute expired bob has %v", n)
	}
	if c := obj(e.ok(bob, "chat:get", M{"chatId": groupID})["chat"]); c["mutedUntil"] != nil {
		t.Fatalf("an expired mute reads %v", c["mutedUntil"])
	}
	// Unmuting works the same: mute, message (nothing), unmute, message (notified).
	e.ok(cid, "chat:mute", M{"chatId": groupID})
	e.send(ada, groupID, "cid muted")
	e.ok(cid, "chat:unmute", M{"chatId": groupID})
	last := e.send(ada, groupID, "cid unmuted")
	n := messageNotes(e, cid)
	if len(n) != 1 || num(obj(n[0]["data"])["count"]) != 3 || obj(n[0]["data"])["lastMessageId"] != last["id"] {
		t.Fatalf("cid's notification %v: want the two messages before cid muted and the one after (count 3)", n)
	}
}

// The sweep after a disconnect (CoverRecentMessages) honours a mute too.
func TestMutedChatSkipsCoverRecentMessages(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	chatID := e.direct(ada, bob)
	e.connect(ada, bob)
	e.ok(bob, "chat:mute", M{"chatId": chatID})
	e.send(ada, chatID, "raced the disconnect")
	e.presence.Disconnect(bob.UserID)
	e.h.CoverRecentMessages(context.Background(), bob.UserID, 3*time.Second, nil)
	if n := messageNotes(e, bob); len(n) != 0 {
		t.Fatalf("the sweep notified a muted user: %v", n)
	}
}

// A mute made through one node reaches the other node's cached chat at once.
func TestChatMuteDropsCachedChatOnEveryNode(t *testing.T) {
	e := newEnv(t)
	p := e.peer()
	ada, bob := e.user("ada"), e.user("bob")
	chatID := e.direct(ada, bob)
	e.connect(ada)
	p.ok(ada, "message:new", M{"chatId": chatID, "text": "fills the peer's cache"})
	if n := messageNotes(e, bob); len(n) != 1 {
		t.Fatalf("before the mute bob has %d notifications", len(n))
	}
	e.ok(bob, "notification:read", M{"all": true})
	e.ok(bob, "chat:mute", M{"chatId": chatID}) // through the first node
	p.ok(ada, "message:new", M{"chatId": chatID, "text": "sent through the peer"})
	if n := messageNotes(e, bob); len(n) != 0 {
		t.Fatalf("the peer notified a muted user from its cached chat: %v", n)
	}
}
