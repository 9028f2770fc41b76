package handlers_test

import (
	"testing"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

func TestNotificationListAndRead(t *testing.T) {
	e := newEnv(t)
	ada := e.user("ada")
	var senders []string
	for i := 0; i < 5; i++ { // five friend requests to an offline ada: five notifications
		s := e.user("s" + string(rune('a'+i)))
		senders = append(senders, s.UserID)
		e.ok(s, "friend:request:send", M{"userId": ada.UserID})
	}
	res := e.ok(ada, "notification:list", M{"limit": 2})
	page := arr(res["notifications"])
	if len(page) != 2 || num(res["unreadCount"]) != 5 || res["nextCursor"] == nil {
		t.Fatalf("first page %v", res)
	}
	// Newest first.
	if obj(obj(page[0])["data"])["fromUserId"] != senders[4] || obj(obj(page[1])["data"])["fromUserId"] != senders[3] {
		t.Fatalf("order %v", page)
	}
	var ids []string
	cursor := res["nextCursor"]
	for _, n := range page {
		ids = append(ids, str(obj(n)["id"]))
	}
	for cursor != nil {
		res = e.ok(ada, "notification:list", M{"limit": 2, "before": cursor})
		for _, n := range arr(res["notifications"]) {
			ids = append(ids, str(obj(n)["id"]))
		}
		cursor = res["nextCursor"]
		if len(ids) > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(ids) != 5 {
		t.Fatalf("paged %d notifications, want 5", len(ids))
	}
	// Read two by id; someone else's ids are ignored.
	eve := e.user("eve")
	if r := e.ok(eve, "notification:read", M{"notificationIds": ids[:2]}); num(r["unreadCount"]) != 0 {
		t.Fatalf("eve reading ada's notifications: %v", r)
	}
	if r := e.ok(ada, "notification:read", M{"notificationIds": ids[:2]}); num(r["unreadCount"]) != 3 {
		t.Fatalf("after reading two: %v", r)
	}
	unread := e.ok(ada, "notification:list", M{"unreadOnly": true})
	if len(arr(unread["notifications"])) != 3 || num(unread["unreadCount"]) != 3 {
		t.Fatalf("unreadOnly = %v", unread)
	}
	all := arr(e.ok(ada, "notification:list", nil)["notifications"])
	if len(all) != 5 || obj(all[0])["read"] != true {
		t.Fatalf("all = %v", all)
	}
	if r := e.ok(ada, "notification:read", M{"all": true}); num(r["unreadCount"]) != 0 {
		t.Fatalf("after reading all: %v", r)
	}
	for _, bad := range []M{{}, {"all": false}, {"all": true, "notificationIds": ids[:1]}, {"notificationIds": []string{}},
		{"notificationIds": []string{ids[0], ids[0]}}} {
		e.fail(ada, "notification:read", bad, utils.CodeValidation)
	}
	for _, bad := range []M{{"limit": 0}, {"limit": 101}, {"before": ""}} {
		e.fail(ada, "notification:list", bad, utils.CodeValidation)
	}
	// An unknown cursor gives an empty page, not an error.
	if res := e.ok(ada, "notification:list", M{"before": models.NewID()}); len(arr(res["notifications"])) != 0 {
		t.Fatalf("unknown cursor = %v", res)
	}
}
