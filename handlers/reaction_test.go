package handlers_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

// reactions renders a reactions list as "emoji:count[users]" for comparisons.
func reactionsOf(v any) string {
	var parts []string
	for _, r := range arr(v) {
		r := obj(r)
		var users []string
		for _, u := range arr(r["userIds"]) {
			users = append(users, str(u))
		}
		parts = append(parts, fmt.Sprintf("%s:%d%v", r["emoji"], num(r["count"]), users))
	}
	return strings.Join(parts, " ")
}

func TestMessageReact(t *testing.T) {
	e := newEnv(t)
	ada, bob, cid := e.user("ada"), e.user("bob"), e.user("cid")
	groupID := e.group(ada, "g", bob, cid)
	m := e.send(ada, groupID, "react to me")
	if rs, ok := m["reactions"].([]any); !ok || len(rs) != 0 {
		t.Fatalf("a new message has reactions %#v, want []", m["reactions"])
	}
	e.rec.take()

	res := obj(e.ok(bob, "message:react", M{"messageId": m["id"], "emoji": "👍"})["message"])
	if got, want := reactionsOf(res["reactions"]), fmt.Sprintf("👍:1[%s]", bob.UserID); got != want || res["id"] != m["id"] {
		t.Fatalf("message:react ack reactions %s, want %s", got, want)
	}
	ev := only(e.rec.take(), "message:reaction")
	if len(ev) != 1 || ev[0].Kind != "chat" || ev[0].Target != groupID || ev[0].Except != bob.SocketID ||
		ev[0].Payload["chatId"] != groupID || ev[0].Payload["messageId"] != m["id"] ||
		reactionsOf(ev[0].Payload["reactions"]) != fmt.Sprintf("👍:1[%s]", bob.UserID) {
		t.Fatalf("message:reaction = %v", ev)
	}
	e.ok(cid, "message:react", M{"messageId": m["id"], "emoji": "👍"})
	e.ok(ada, "message:react", M{"messageId": m["id"], "emoji": ":tada:"})
	want := fmt.Sprintf("👍:2[%s %s] :tada::1[%s]", bob.UserID, cid.UserID, ada.UserID)
	e.rec.take()
	// Reacting again: success, the same reactions, no broadcast.
	again := obj(e.ok(bob, "message:react", M{"messageId": m["id"], "emoji": "👍"})["message"])
	if reactionsOf(again["reactions"]) != want {
		t.Fatalf("after a repeated react: %s, want %s", reactionsOf(again["reactions"]), want)
	}
	if got := e.rec.take(); len(got) != 0 {
		t.Fatalf("a repeated react emitted %v", got)
	}
	// Every read shows them.
	list := arr(e.ok(cid, "message:list", M{"chatId": groupID})["messages"])
	if reactionsOf(obj(list[0])["reactions"]) != want {
		t.Fatalf("message:list reactions %s", reactionsOf(obj(list[0])["reactions"]))
	}
	sync := e.ok(cid, "sync", M{"cursors": M{groupID: 0}})
	if reactionsOf(obj(arr(sync["messages"])[0])["reactions"]) != want {
		t.Fatalf("sync reactions %v", sync["messages"])
	}
	chat := obj(arr(e.ok(cid, "chat:list", M{})["chats"])[0])
	if reactionsOf(obj(chat["lastMessage"])["reactions"]) != want {
		t.Fatalf("chat:list lastMessage reactions %v", chat["lastMessage"])
	}

	// Unreact: the emoji goes when its last user does; nothing to take back is a no-op.
	res = obj(e.ok(ada, "message:unreact", M{"messageId": m["id"], "emoji": ":tada:"})["message"])
	if got := reactionsOf(res["reactions"]); got != fmt.Sprintf("👍:2[%s %s]", bob.UserID, cid.UserID) {
		t.Fatalf("after unreact: %s", got)
	}
	if ev := only(e.rec.take(), "message:reaction"); len(ev) != 1 || ev[0].Except != ada.SocketID {
		t.Fatalf("unreact emitted %v", ev)
	}
	e.ok(ada, "message:unreact", M{"messageId": m["id"], "emoji": ":tada:"})
	e.ok(ada, "message:unreact", M{"messageId": m["id"], "emoji": "🙈"})
	if got := e.rec.take(); len(got) != 0 {
		t.Fatalf("an unreact that changed nothing emitted %v", got)
	}
}

func TestMessageReactValidation(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	chatID := e.direct(ada, bob)
	m := e.send(ada, chatID, "m")
	for _, p := range []any{
		M{"messageId": m["id"]},
		M{"messageId": m["id"], "emoji": ""},
		M{"messageId": m["id"], "emoji": "ok"},
		M{"messageId": m["id"], "emoji": "👍👍"},
		M{"messageId": m["id"], "emoji": ":" + strings.Repeat("x", 31) + ":"},
		M{"messageId": m["id"], "emoji": 1},
		M{"messageId": m["id"], "emoji": "👍", "extra": true},
		M{"emoji": "👍"},
		`{"messageId": {"$ne": null}, "emoji": "👍"}`,
	} {
		for _, ev := range []string{"message:react", "message:unreact"} {
			if err := e.fail(bob, ev, p, utils.CodeValidation); len(err.Issues) == 0 {
				t.Errorf("%s %v: no issues", ev, p)
			}
		}
	}
	err := e.fail(bob, "message:react", M{"messageId": m["id"], "emoji": "two words"}, utils.CodeValidation)
	if err.Issues[0].Path != "emoji" {
		t.Errorf("issue path %q, want emoji", err.Issues[0].Path)
	}
}

func TestMessageReactLimit(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	chatID := e.direct(ada, bob)
	m := e.send(ada, chatID, "m")
	for i := range models.MaxReactionEmoji {
		e.ok(bob, "message:react", M{"messageId": m["id"], "emoji": fmt.Sprintf(":e%d:", i)})
	}
	e.rec.take()
	err := e.fail(ada, "message:react", M{"messageId": m["id"], "emoji": "🍕"}, utils.CodeValidation)
	if len(err.Issues) != 1 || err.Issues[0].Path != "emoji" || !strings.Contains(err.Message, "20") {
		t.Fatalf("the 21st emoji: %+v", err)
	}
	if got := e.rec.take(); len(got) != 0 {
		t.Fatalf("a refused react emitted %v", got)
	}
	e.ok(ada, "message:react", M{"messageId": m["id"], "emoji": ":e7:"}) // an emoji already there
}

func TestMessageReactNotFound(t *testing.T) {
	e := newEnv(t)
	ada, bob, eve := e.user("ada"), e.user("bob"), e.user("eve")
	chatID := e.direct(ada, bob)
	m := e.send(ada, chatID, "m")
	e.ok(bob, "message:react", M{"messageId": m["id"], "emoji": "👍"})
	for _, ev := range []string{"message:react", "message:unreact"} {
		sameNotFound(t, e.fail(eve, ev, M{"messageId": m["id"], "emoji": "👍"}, utils.CodeNotFound),
			e.fail(eve, ev, M{"messageId": models.NewID(), "emoji": "👍"}, utils.CodeNotFound))
		e.fail(eve, ev, M{"messageId": "nope", "emoji": "👍"}, utils.CodeNotFound)
	}
	e.ok(ada, "message:delete", M{"messageId": m["id"]})
	e.rec.take()
	for _, ev := range []string{"message:react", "message:unreact"} {
		sameNotFound(t, e.fail(bob, ev, M{"messageId": m["id"], "emoji": "👍"}, utils.CodeNotFound),
			e.fail(bob, ev, M{"messageId": models.NewID(), "emoji": "👍"}, utils.CodeNotFound))
	}
	if got := e.rec.take(); len(got) != 0 {
		t.Fatalf("reactions to a deleted message emitted %v", got)
	}
	list := arr(e.ok(bob, "message:list", M{"chatId": chatID})["messages"])
	if rs := arr(obj(list[0])["reactions"]); len(rs) != 0 || obj(list[0])["deleted"] != true {
		t.Fatalf("a deleted message reads %v", list[0])
	}
}
