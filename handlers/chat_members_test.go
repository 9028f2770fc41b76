package handlers_test

import (
	"testing"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

func participantIDs(chat M) []string {
	var out []string
	for _, p := range arr(chat["participants"]) {
		out = append(out, str(obj(p)["id"]))
	}
	return out
}

func TestChatUpdate(t *testing.T) {
	e := newEnv(t)
	ada, bob, eve := e.user("ada"), e.user("bob"), e.user("eve")
	groupID := e.group(ada, "old", bob)
	directID := e.direct(ada, bob)
	e.rec.take()
	chat := obj(e.ok(ada, "chat:update", M{"chatId": groupID, "name": " new "})["chat"])
	if chat["name"] != "new" {
		t.Fatalf("chat:update = %v", chat)
	}
	got := targets(only(e.rec.take(), "chat:updated"))
	if len(got) != 2 || got["user:"+bob.UserID+"/"+ada.SocketID] != 1 || got["user:"+ada.UserID+"/"+ada.SocketID] != 1 {
		t.Fatalf("chat:updated went to %v", got)
	}
	e.fail(bob, "chat:update", M{"chatId": groupID, "name": "mine"}, utils.CodeForbidden)
	e.fail(ada, "chat:update", M{"chatId": directID, "name": "x"}, utils.CodeForbidden)
	sameNotFound(t,
		e.fail(eve, "chat:update", M{"chatId": groupID, "name": "x"}, utils.CodeNotFound),
		e.fail(eve, "chat:update", M{"chatId": models.NewID(), "name": "x"}, utils.CodeNotFound))
	e.fail(ada, "chat:update", M{"chatId": groupID, "name": "  "}, utils.CodeValidation)
	e.fail(ada, "chat:update", M{"chatId": groupID}, utils.CodeValidation)
	if c := obj(e.ok(bob, "chat:get", M{"chatId": groupID})["chat"]); c["name"] != "new" {
		t.Fatalf("refused updates changed the name: %v", c)
	}
}

func TestChatParticipantsAdd(t *testing.T) {
	e := newEnv(t)
	ada, bob, cid, dan := e.user("ada"), e.user("bob"), e.user("cid"), e.user("dan")
	e.connect(ada, bob, cid, dan)
	groupID := e.group(ada, "g", bob)
	e.rec.take()
	chat := obj(e.ok(ada, "chat:participants:add", M{"chatId": groupID, "userIds": []string{cid.UserID, bob.UserID, dan.UserID}})["chat"])
	if ids := participantIDs(chat); len(ids) != 4 || ids[2] != cid.UserID || ids[3] != dan.UserID {
		t.Fatalf("participants %v, want ada, bob, cid, dan", ids)
	}
	log := e.rec.take()
	joined := map[string]bool{}
	for _, j := range log {
		if j.Kind == "join" && j.Event == groupID {
			joined[j.Target] = true
		}
	}
	if len(joined) != 2 || !joined[cid.UserID] || !joined[dan.UserID] {
		t.Fatalf("JoinChat for %v, want cid and dan", joined)
	}
	news := targets(only(log, "chat:new"))
	if len(news) != 2 || news["user:"+cid.UserID+"/"+ada.SocketID] != 1 || news["user:"+dan.UserID+"/"+ada.SocketID] != 1 {
		t.Fatalf("chat:new went to %v", news)
	}
	updated := targets(only(log, "chat:updated"))
	if len(updated) != 2 || updated["user:"+ada.UserID+"/"+ada.SocketID] != 1 || updated["user:"+bob.UserID+"/"+ada.SocketID] != 1 {
		t.Fatalf("chat:updated went to %v", updated)
	}
	// Everyone connected: no chat:added notification.
	if n := only(log, "notification:new"); len(n) != 0 {
		t.Fatalf("connected users were notified: %v", n)
	}
	// Adding members again changes nothing.
	again := obj(e.ok(ada, "chat:participants:add", M{"chatId": groupID, "userIds": []string{cid.UserID}})["chat"])
	if len(participantIDs(again)) != 4 {
		t.Fatalf("re-adding changed the members: %v", participantIDs(again))
	}
	e.fail(bob, "chat:participants:add", M{"chatId": groupID, "userIds": []string{e.user("x1").UserID}}, utils.CodeForbidden)
	e.fail(ada, "chat:participants:add", M{"chatId": groupID, "userIds": []string{models.NewID()}}, utils.CodeNotFound)
	e.fail(ada, "chat:participants:add", M{"chatId": groupID, "userIds": []string{}}, utils.CodeValidation)
	e.fail(ada, "chat:participants:add", M{"chatId": groupID}, utils.CodeValidation)
	eve := e.user("eve")
	sameNotFound(t,
		e.fail(eve, "chat:participants:add", M{"chatId": groupID, "userIds": []string{eve.UserID}}, utils.CodeNotFound),
		e.fail(eve, "chat:participants:add", M{"chatId": models.NewID(), "userIds": []string{eve.UserID}}, utils.CodeNotFound))
	directID := e.direct(ada, bob)
	e.fail(ada, "chat:participants:add", M{"chatId": directID, "userIds": []string{cid.UserID}}, utils.CodeForbidden)
}

func TestChatParticipantsAddNotifiesOfflineUsers(t *testing.T) {
	e := newEnv(t)
	ada, bob, cid := e.user("ada"), e.user("bob"), e.user("cid")
	e.connect(ada, bob) // cid is offline
	groupID := e.group(ada, "g", bob)
	e.rec.take()
	e.ok(ada, "chat:participants:add", M{"chatId": groupID, "userIds": []string{cid.UserID}})
	notes := only(e.rec.take(), "notification:new")
	if len(notes) != 1 || notes[0].Target != cid.UserID {
		t.Fatalf("notification:new = %v, want one to cid", notes)
	}
	n := obj(notes[0].Payload["notification"])
	if n["type"] != "chat:added" || obj(n["data"])["chatId"] != groupID || obj(n["data"])["addedBy"] != ada.UserID {
		t.Fatalf("notification %v", n)
	}
	list := arr(e.ok(cid, "notification:list", nil)["notifications"])
	if len(list) != 1 || obj(list[0])["type"] != "chat:added" {
		t.Fatalf("cid's notifications: %v", list)
	}
}

func TestChatParticipantsRemove(t *testing.T) {
	e := newEnv(t)
	ada, bob, cid, eve := e.user("ada"), e.user("bob"), e.user("cid"), e.user("eve")
	groupID := e.group(ada, "g", bob, cid)
	e.rec.take()
	chat := obj(e.ok(ada, "chat:participants:remove", M{"chatId": groupID, "userId": cid.UserID})["chat"])
	if ids := participantIDs(chat); len(ids) != 2 {
		t.Fatalf("participants after removal %v", ids)
	}
	log := e.rec.take()
	var left, removed bool
	for _, x := range log {
		if x.Kind == "leave" && x.Target == cid.UserID && x.Event == groupID {
			left = true
		}
		if x.Event == "chat:removed" && x.Kind == "user" && x.Target == cid.UserID && x.Payload["chatId"] == groupID {
			removed = true
		}
	}
	if !left || !removed {
		t.Fatalf("removal emits %v, want LeaveChat and chat:removed for cid", log)
	}
	updated := targets(only(log, "chat:updated"))
	if len(updated) != 2 || updated["user:"+bob.UserID+"/"+ada.SocketID] != 1 || updated["user:"+ada.UserID+"/"+ada.SocketID] != 1 {
		t.Fatalf("chat:updated went to %v", updated)
	}
	sameNotFound(t, e.fail(cid, "chat:get", M{"chatId": groupID}, utils.CodeNotFound),
		e.fail(cid, "chat:get", M{"chatId": models.NewID()}, utils.CodeNotFound))
	e.fail(cid, "message:new", M{"chatId": groupID, "text": "let me in"}, utils.CodeNotFound)

	e.fail(ada, "chat:participants:remove", M{"chatId": groupID, "userId": cid.UserID}, utils.CodeNotFound)
	e.fail(bob, "chat:participants:remove", M{"chatId": groupID, "userId": ada.UserID}, utils.CodeForbidden)
	e.fail(ada, "chat:participants:remove", M{"chatId": groupID, "userId": ada.UserID}, utils.CodeForbidden) // the last admin
	e.fail(eve, "chat:participants:remove", M{"chatId": groupID, "userId": bob.UserID}, utils.CodeNotFound)
	e.fail(ada, "chat:participants:remove", M{"chatId": groupID}, utils.CodeValidation)
}

func TestChatAdminSet(t *testing.T) {
	e := newEnv(t)
	ada, bob, cid, eve := e.user("ada"), e.user("bob"), e.user("cid"), e.user("eve")
	groupID := e.group(ada, "g", bob, cid)
	e.fail(bob, "chat:admin:set", M{"chatId": groupID, "userId": bob.UserID, "admin": true}, utils.CodeForbidden)
	e.fail(ada, "chat:admin:set", M{"chatId": groupID, "userId": ada.UserID, "admin": false}, utils.CodeForbidden)
	e.fail(ada, "chat:admin:set", M{"chatId": groupID, "userId": bob.UserID}, utils.CodeValidation)
	e.fail(ada, "chat:admin:set", M{"chatId": groupID, "userId": eve.UserID, "admin": true}, utils.CodeNotFound)
	e.fail(eve, "chat:admin:set", M{"chatId": groupID, "userId": eve.UserID, "admin": true}, utils.CodeNotFound)
	e.rec.take()
	chat := obj(e.ok(ada, "chat:admin:set", M{"chatId": groupID, "userId": bob.UserID, "admin": true})["chat"])
	if admins := arr(chat["admins"]); len(admins) != 2 {
		t.Fatalf("admins %v", admins)
	}
	if got := only(e.rec.take(), "chat:updated"); len(got) != 3 {
		t.Fatalf("chat:updated sent %d times, want 3 (one per member)", len(got))
	}
	// Bob, now an admin, can revoke ada: one admin remains.
	chat = obj(e.ok(bob, "chat:admin:set", M{"chatId": groupID, "userId": ada.UserID, "admin": false})["chat"])
	if admins := arr(chat["admins"]); len(admins) != 1 || admins[0] != bob.UserID {
		t.Fatalf("admins %v, want bob", admins)
	}
	e.fail(ada, "chat:update", M{"chatId": groupID, "name": "x"}, utils.CodeForbidden)
}

func TestChatLeave(t *testing.T) {
	e := newEnv(t)
	ada, bob, cid, eve := e.user("ada"), e.user("bob"), e.user("cid"), e.user("eve")
	groupID := e.group(ada, "g", bob, cid)
	directID := e.direct(ada, bob)
	e.rec.take()
	// The only admin leaves: the longest-standing member (bob) becomes admin.
	if res := e.ok(ada, "chat:leave", M{"chatId": groupID}); len(res) != 0 {
		t.Fatalf("chat:leave = %v, want {}", res)
	}
	log := e.rec.take()
	var left bool
	for _, x := range log {
		if x.Kind == "leave" && x.Target == ada.UserID && x.Event == groupID {
			left = true
		}
	}
	removed := only(log, "chat:removed")
	if !left || len(removed) != 1 || removed[0].Target != ada.UserID || removed[0].Except != ada.SocketID {
		t.Fatalf("leave emits %v", log)
	}
	updated := targets(only(log, "chat:updated"))
	if len(updated) != 2 || updated["user:"+bob.UserID+"/"+ada.SocketID] != 1 || updated["user:"+cid.UserID+"/"+ada.SocketID] != 1 {
		t.Fatalf("chat:updated went to %v", updated)
	}
	chat := obj(e.ok(bob, "chat:get", M{"chatId": groupID})["chat"])
	if admins := arr(chat["admins"]); len(admins) != 1 || admins[0] != bob.UserID {
		t.Fatalf("admins after the last admin left: %v, want bob", admins)
	}
	e.fail(ada, "chat:get", M{"chatId": groupID}, utils.CodeNotFound)
	e.fail(ada, "chat:leave", M{"chatId": groupID}, utils.CodeNotFound)
	e.fail(ada, "chat:leave", M{"chatId": directID}, utils.CodeForbidden)
	sameNotFound(t, e.fail(eve, "chat:leave", M{"chatId": groupID}, utils.CodeNotFound),
		e.fail(eve, "chat:leave", M{"chatId": models.NewID()}, utils.CodeNotFound))
}
