package handlers_test

import (
	"testing"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

func TestFriendRequestSendAndAccept(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	e.connect(ada, bob)
	e.rec.take()
	req := obj(e.ok(ada, "friend:request:send", M{"userId": bob.UserID})["request"])
	if req["status"] != "pending" || obj(req["from"])["id"] != ada.UserID || obj(req["to"])["id"] != bob.UserID || req["createdAt"] == "" {
		t.Fatalf("request = %v", req)
	}
	// Not friends yet: bob's presence is hidden from ada.
	if to := obj(req["to"]); to["online"] != false || to["lastSeen"] != nil {
		t.Fatalf("a pending request shows presence: %v", to)
	}
	log := e.rec.take()
	news := targets(only(log, "friend:request:new"))
	if len(news) != 2 || news["user:"+bob.UserID+"/"+ada.SocketID] != 1 || news["user:"+ada.UserID+"/"+ada.SocketID] != 1 {
		t.Fatalf("friend:request:new went to %v", news)
	}
	if n := only(log, "notification:new"); len(n) != 0 {
		t.Fatalf("a connected recipient was notified: %v", n)
	}
	lists := e.ok(bob, "friend:request:list", nil)
	if in := arr(lists["incoming"]); len(in) != 1 || obj(in[0])["id"] != req["id"] || len(arr(lists["outgoing"])) != 0 {
		t.Fatalf("bob's requests %v", lists)
	}
	if out := arr(e.ok(ada, "friend:request:list", nil)["outgoing"]); len(out) != 1 {
		t.Fatalf("ada's outgoing %v", out)
	}
	e.fail(ada, "friend:request:send", M{"userId": bob.UserID}, utils.CodeConflict) // already pending

	accepted := obj(e.ok(bob, "friend:request:accept", M{"requestId": req["id"]})["request"])
	if accepted["status"] != "accepted" || accepted["id"] != req["id"] {
		t.Fatalf("accepted = %v", accepted)
	}
	acc := targets(only(e.rec.take(), "friend:request:accepted"))
	if len(acc) != 2 || acc["user:"+ada.UserID+"/"+bob.SocketID] != 1 || acc["user:"+bob.UserID+"/"+bob.SocketID] != 1 {
		t.Fatalf("friend:request:accepted went to %v", acc)
	}
	// Friends now: presence is visible both ways.
	if from := obj(accepted["from"]); from["online"] != true {
		t.Fatalf("a friend's presence is hidden: %v", from)
	}
	for _, pair := range [][2]string{{ada.UserID, bob.UserID}, {bob.UserID, ada.UserID}} {
		caller := ada
		if pair[0] == bob.UserID {
			caller = bob
		}
		friends := arr(e.ok(caller, "friend:list", nil)["friends"])
		if len(friends) != 1 || obj(friends[0])["id"] != pair[1] || obj(friends[0])["online"] != true {
			t.Fatalf("friend:list of %s = %v", pair[0], friends)
		}
	}
	lists = e.ok(bob, "friend:request:list", nil)
	if len(arr(lists["incoming"])) != 0 || len(arr(lists["outgoing"])) != 0 {
		t.Fatalf("resolved requests still listed: %v", lists)
	}
	e.fail(bob, "friend:request:accept", M{"requestId": req["id"]}, utils.CodeConflict)
	e.fail(ada, "friend:request:send", M{"userId": bob.UserID}, utils.CodeConflict) // already friends
	e.fail(bob, "friend:request:send", M{"userId": ada.UserID}, utils.CodeConflict)
}

func TestFriendRequestToSomeoneWhoAskedYouAccepts(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	e.connect(ada, bob)
	theirs := obj(e.ok(ada, "friend:request:send", M{"userId": bob.UserID})["request"])
	e.rec.take()
	res := obj(e.ok(bob, "friend:request:send", M{"userId": ada.UserID})["request"])
	if res["id"] != theirs["id"] || res["status"] != "accepted" || obj(res["from"])["id"] != ada.UserID {
		t.Fatalf("crossing request = %v, want ada's request accepted", res)
	}
	log := e.rec.take()
	if len(only(log, "friend:request:new")) != 0 || len(only(log, "friend:request:accepted")) != 2 {
		t.Fatalf("crossing request emitted %v", log)
	}
	if len(arr(e.ok(ada, "friend:list", nil)["friends"])) != 1 {
		t.Fatal("not friends after the crossing request")
	}
	lists := e.ok(ada, "friend:request:list", nil)
	if len(arr(lists["incoming"])) != 0 || len(arr(lists["outgoing"])) != 0 {
		t.Fatalf("a second request was left pending: %v", lists)
	}
}

func TestFriendRequestOnlyTheRightSideMayAct(t *testing.T) {
	e := newEnv(t)
	ada, bob, eve := e.user("ada"), e.user("bob"), e.user("eve")
	req := obj(e.ok(ada, "friend:request:send", M{"userId": bob.UserID})["request"])
	id := req["id"]
	missing := models.NewID()
	// Accept and decline: the recipient only. Everyone else: the NOT_FOUND of a missing request.
	for _, ev := range []string{"friend:request:accept", "friend:request:decline"} {
		sameNotFound(t, e.fail(ada, ev, M{"requestId": id}, utils.CodeNotFound), e.fail(ada, ev, M{"requestId": missing}, utils.CodeNotFound))
		sameNotFound(t, e.fail(eve, ev, M{"requestId": id}, utils.CodeNotFound), e.fail(eve, ev, M{"requestId": "bogus"}, utils.CodeNotFound))
	}
	// Cancel: the sender only.
	sameNotFound(t, e.fail(bob, "friend:request:cancel", M{"requestId": id}, utils.CodeNotFound),
		e.fail(bob, "friend:request:cancel", M{"requestId": missing}, utils.CodeNotFound))
	e.fail(eve, "friend:request:cancel", M{"requestId": id}, utils.CodeNotFound)
	for _, ev := range []string{"friend:request:accept", "friend:request:decline", "friend:request:cancel"} {
		e.fail(ada, ev, M{}, utils.CodeValidation)
	}
	if got := arr(e.ok(bob, "friend:request:list", nil)["incoming"]); len(got) != 1 {
		t.Fatalf("refused actions changed the request: %v", got)
	}
}

func TestFriendRequestDeclineAndCancel(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	e.connect(ada, bob)
	req := obj(e.ok(ada, "friend:request:send", M{"userId": bob.UserID})["request"])
	e.rec.take()
	declined := obj(e.ok(bob, "friend:request:decline", M{"requestId": req["id"]})["request"])
	if declined["status"] != "declined" {
		t.Fatalf("declined = %v", declined)
	}
	if got := targets(only(e.rec.take(), "friend:request:declined")); len(got) != 2 || got["user:"+ada.UserID+"/"+bob.SocketID] != 1 {
		t.Fatalf("friend:request:declined went to %v", got)
	}
	e.fail(ada, "friend:request:cancel", M{"requestId": req["id"]}, utils.CodeConflict)
	if len(arr(e.ok(ada, "friend:list", nil)["friends"])) != 0 {
		t.Fatal("a declined request made friends")
	}
	// A new request after a decline is allowed; the sender cancels it.
	again := obj(e.ok(ada, "friend:request:send", M{"userId": bob.UserID})["request"])
	if again["id"] == req["id"] {
		t.Fatal("a new request reused the declined one")
	}
	e.rec.take()
	canceled := obj(e.ok(ada, "friend:request:cancel", M{"requestId": again["id"]})["request"])
	if canceled["status"] != "canceled" {
		t.Fatalf("canceled = %v", canceled)
	}
	if got := targets(only(e.rec.take(), "friend:request:canceled")); len(got) != 2 || got["user:"+bob.UserID+"/"+ada.SocketID] != 1 {
		t.Fatalf("friend:request:canceled went to %v", got)
	}
	e.fail(bob, "friend:request:accept", M{"requestId": again["id"]}, utils.CodeConflict)
}

func TestFriendRequestErrors(t *testing.T) {
	e := newEnv(t)
	ada := e.user("ada")
	e.fail(ada, "friend:request:send", M{"userId": ada.UserID}, utils.CodeValidation)
	e.fail(ada, "friend:request:send", M{}, utils.CodeValidation)
	sameNotFound(t, e.fail(ada, "friend:request:send", M{"userId": models.NewID()}, utils.CodeNotFound),
		e.fail(ada, "friend:request:send", M{"userId": "x"}, utils.CodeNotFound))
}

func TestFriendNotificationsForOfflineUsers(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	e.connect(ada) // bob offline
	req := obj(e.ok(ada, "friend:request:send", M{"userId": bob.UserID})["request"])
	notes := only(e.rec.take(), "notification:new")
	if len(notes) != 1 || notes[0].Target != bob.UserID {
		t.Fatalf("notification:new = %v, want one to bob", notes)
	}
	n := obj(notes[0].Payload["notification"])
	if n["type"] != "friend:request" || obj(n["data"])["requestId"] != req["id"] || obj(n["data"])["fromUserId"] != ada.UserID {
		t.Fatalf("notification %v", n)
	}
	// Bob accepts while ada is offline: ada gets friend:accepted.
	e.presence.Connect(bob.UserID)
	e.presence.Disconnect(ada.UserID)
	e.ok(bob, "friend:request:accept", M{"requestId": req["id"]})
	notes = only(e.rec.take(), "notification:new")
	if len(notes) != 1 || notes[0].Target != ada.UserID || obj(notes[0].Payload["notification"])["type"] != "friend:accepted" {
		t.Fatalf("notification:new = %v, want friend:accepted to ada", notes)
	}
}

func TestFriendRemove(t *testing.T) {
	e := newEnv(t)
	ada, bob, eve := e.user("ada"), e.user("bob"), e.user("eve")
	e.befriend(ada, bob)
	e.connect(bob)
	if u := obj(e.ok(ada, "user:get", M{"userId": bob.UserID})["user"]); u["online"] != true {
		t.Fatal("a friend's presence is hidden")
	}
	e.rec.take()
	if res := e.ok(ada, "friend:remove", M{"userId": bob.UserID}); len(res) != 0 {
		t.Fatalf("friend:remove = %v", res)
	}
	got := only(e.rec.take(), "friend:removed")
	want := map[string]string{"user:" + bob.UserID + "/": ada.UserID, "user:" + ada.UserID + "/" + ada.SocketID: bob.UserID}
	if len(got) != 2 {
		t.Fatalf("friend:removed = %v", got)
	}
	for _, x := range got {
		if want[x.Kind+":"+x.Target+"/"+x.Except] != x.Payload["userId"] {
			t.Fatalf("friend:removed = %v", got)
		}
	}
	if len(arr(e.ok(bob, "friend:list", nil)["friends"])) != 0 {
		t.Fatal("still friends after friend:remove")
	}
	if u := obj(e.ok(ada, "user:get", M{"userId": bob.UserID})["user"]); u["online"] != false || u["lastSeen"] != nil {
		t.Fatalf("a former friend's presence is still shown: %v", u)
	}
	e.fail(ada, "friend:remove", M{"userId": bob.UserID}, utils.CodeNotFound)
	e.fail(ada, "friend:remove", M{"userId": eve.UserID}, utils.CodeNotFound)
	e.fail(ada, "friend:remove", M{"userId": ada.UserID}, utils.CodeValidation)
	// Friends again through a new request.
	e.befriend(bob, ada)
}
