package handlers_test

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

func TestChatCreateDirect(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	e.connect(ada, bob)
	res := e.ok(ada, "chat:create", M{"type": "direct", "participantId": bob.UserID})
	chat := obj(res["chat"])
	if res["existing"] != false || chat["type"] != "direct" || chat["name"] != nil || chat["createdBy"] != ada.UserID ||
		len(arr(chat["participants"])) != 2 || len(arr(chat["admins"])) != 0 || num(chat["lastSeq"]) != 0 ||
		chat["lastMessage"] != nil || num(chat["unreadCount"]) != 0 {
		t.Fatalf("chat:create direct = %v", res)
	}
	chatID := str(chat["id"])
	log := e.rec.take()
	joins := map[string]bool{}
	for _, j := range log {
		if j.Kind == "join" && j.Event == chatID {
			joins[j.Target] = true
		}
	}
	if !joins[ada.UserID] || !joins[bob.UserID] {
		t.Fatalf("JoinChat calls %v, want both participants", log)
	}
	news := targets(only(log, "chat:new"))
	if len(news) != 2 || news["user:"+bob.UserID+"/"+ada.SocketID] != 1 || news["user:"+ada.UserID+"/"+ada.SocketID] != 1 {
		t.Fatalf("chat:new went to %v", news)
	}
	// The second create, from either side, returns the first and announces nothing.
	for _, c := range []struct{ from, to string }{{ada.UserID, bob.UserID}, {bob.UserID, ada.UserID}} {
		caller := ada
		if c.from == bob.UserID {
			caller = bob
		}
		again := e.ok(caller, "chat:create", M{"type": "direct", "participantId": c.to})
		if again["existing"] != true || obj(again["chat"])["id"] != chatID {
			t.Fatalf("second create = %v, want existing %s", again, chatID)
		}
	}
	if got := e.rec.take(); len(got) != 0 {
		t.Fatalf("an existing chat was announced again: %v", got)
	}
}

func TestChatCreateDirectErrors(t *testing.T) {
	e := newEnv(t)
	ada := e.user("ada")
	bob := e.user("bob")
	e.fail(ada, "chat:create", M{"type": "direct", "participantId": ada.UserID}, utils.CodeValidation)
	e.fail(ada, "chat:create", M{"type": "direct"}, utils.CodeValidation)
	e.fail(ada, "chat:create", M{"type": "direct", "participantId": bob.UserID, "name": "x"}, utils.CodeValidation)
	e.fail(ada, "chat:create", M{"type": "direct", "participantId": bob.UserID, "participantIds": []string{bob.UserID}}, utils.CodeValidation)
	e.fail(ada, "chat:create", M{"type": "channel", "participantId": bob.UserID}, utils.CodeValidation)
	e.fail(ada, "chat:create", M{"participantId": bob.UserID}, utils.CodeValidation)
	unknown := e.fail(ada, "chat:create", M{"type": "direct", "participantId": models.NewID()}, utils.CodeNotFound)
	malformed := e.fail(ada, "chat:create", M{"type": "direct", "participantId": "zzz"}, utils.CodeNotFound)
	sameNotFound(t, unknown, malformed)
}

func TestChatCreateGroup(t *testing.T) {
	e := newEnv(t)
	ada, bob, cid := e.user("ada"), e.user("bob"), e.user("cid")
	e.connect(ada, bob, cid)
	res := e.ok(ada, "chat:create", M{"type": "group", "name": "  Team  ", "participantIds": []string{bob.UserID, cid.UserID, ada.UserID}})
	chat := obj(res["chat"])
	if chat["type"] != "group" || chat["name"] != "Team" || chat["createdBy"] != ada.UserID {
		t.Fatalf("group = %v", chat)
	}
	if admins := arr(chat["admins"]); len(admins) != 1 || admins[0] != ada.UserID {
		t.Fatalf("admins = %v, want the creator", admins)
	}
	var order []string
	for _, p := range arr(chat["participants"]) {
		order = append(order, str(obj(p)["id"]))
	}
	if strings.Join(order, ",") != ada.UserID+","+bob.UserID+","+cid.UserID {
		t.Fatalf("participants %v, want the creator first then the others once each", order)
	}
	if _, ok := res["existing"]; ok {
		t.Fatalf("a group answer carries existing: %v", res)
	}
	news := targets(only(e.rec.take(), "chat:new"))
	if len(news) != 3 || news["user:"+ada.UserID+"/"+ada.SocketID] != 1 || news["user:"+bob.UserID+"/"+ada.SocketID] != 1 || news["user:"+cid.UserID+"/"+ada.SocketID] != 1 {
		t.Fatalf("chat:new went to %v", news)
	}
}

func TestChatCreateGroupErrors(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	for _, bad := range []M{
		{"type": "group", "participantIds": []string{bob.UserID}},
		{"type": "group", "name": "", "participantIds": []string{bob.UserID}},
		{"type": "group", "name": strings.Repeat("n", 101), "participantIds": []string{bob.UserID}},
		{"type": "group", "name": "g"},
		{"type": "group", "name": "g", "participantIds": []string{}},
		{"type": "group", "name": "g", "participantIds": []string{bob.UserID, bob.UserID}},
		{"type": "group", "name": "g", "participantIds": []string{""}},
		{"type": "group", "name": "g", "participantIds": []string{ada.UserID}},
		{"type": "group", "name": "g", "participantId": bob.UserID, "participantIds": []string{bob.UserID}},
	} {
		e.fail(ada, "chat:create", bad, utils.CodeValidation)
	}
	many := make([]string, 201)
	for i := range many {
		many[i] = models.NewID()
	}
	e.fail(ada, "chat:create", M{"type": "group", "name": "g", "participantIds": many}, utils.CodeValidation)
	e.fail(ada, "chat:create", M{"type": "group", "name": "g", "participantIds": []string{bob.UserID, models.NewID()}}, utils.CodeNotFound)
	if got := e.rec.take(); len(got) != 0 {
		t.Fatalf("refused creates emitted %v", got)
	}
}

func TestChatGetHidesChatsFromOutsiders(t *testing.T) {
	e := newEnv(t)
	ada, bob, eve := e.user("ada"), e.user("bob"), e.user("eve")
	chatID := e.direct(ada, bob)
	e.send(bob, chatID, "one")
	e.send(bob, chatID, "two")
	chat := obj(e.ok(ada, "chat:get", M{"chatId": chatID})["chat"])
	if num(chat["lastSeq"]) != 2 || num(chat["unreadCount"]) != 2 || num(chat["readSeq"]) != 0 || obj(chat["lastMessage"])["text"] != "two" {
		t.Fatalf("chat:get = %v", chat)
	}
	if c := obj(e.ok(bob, "chat:get", M{"chatId": chatID})["chat"]); num(c["unreadCount"]) != 0 {
		t.Fatalf("the sender's own messages count as unread: %v", c)
	}
	outsider := e.fail(eve, "chat:get", M{"chatId": chatID}, utils.CodeNotFound)
	unknown := e.fail(eve, "chat:get", M{"chatId": models.NewID()}, utils.CodeNotFound)
	malformed := e.fail(eve, "chat:get", M{"chatId": "nope"}, utils.CodeNotFound)
	sameNotFound(t, outsider, unknown)
	sameNotFound(t, outsider, malformed)
	e.fail(eve, "chat:get", M{}, utils.CodeValidation)
}

func TestChatListPagesByActivity(t *testing.T) {
	e := newEnv(t)
	ada := e.user("ada")
	var ids []string
	for i := 0; i < 5; i++ {
		other := e.user("u" + string(rune('a'+i)))
		ids = append(ids, e.direct(ada, other))
	}
	e.send(ada, ids[1], "bump") // ids[1] becomes the most recent
	want := []string{ids[1], ids[4], ids[3], ids[2], ids[0]}
	var got []string
	var cursor any
	pages := 0
	for {
		payload := M{"limit": 2}
		if cursor != nil {
			payload["before"] = cursor
		}
		res := e.ok(ada, "chat:list", payload)
		for _, c := range arr(res["chats"]) {
			got = append(got, str(obj(c)["id"]))
		}
		pages++
		cursor = res["nextCursor"]
		if cursor == nil {
			break
		}
		if pages > 5 {
			t.Fatal("chat:list does not end")
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") || pages != 3 {
		t.Fatalf("pages=%d chats %v, want %v", pages, got, want)
	}
	all := e.ok(ada, "chat:list", nil)
	if len(arr(all["chats"])) != 5 || all["nextCursor"] != nil {
		t.Fatalf("default page = %v", all)
	}
	// A stranger sees none of them.
	if res := e.ok(e.user("eve"), "chat:list", nil); len(arr(res["chats"])) != 0 {
		t.Fatalf("a stranger lists %v", res)
	}
	for _, bad := range []M{{"limit": 0}, {"limit": 101}, {"before": "not a cursor"}, {"before": ""}, {"before": 5}} {
		e.fail(ada, "chat:list", bad, utils.CodeValidation)
	}
}
