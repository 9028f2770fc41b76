package handlers_test

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley/utils"
)

// Every event decodes its payload strictly before any handler code runs.
func TestEventsDecodeStrictly(t *testing.T) {
	e := newEnv(t)
	ada := e.user("ada")
	bob := e.user("bob")
	chatID := e.direct(ada, bob)
	cases := []struct {
		event, payload, path string
	}{
		{"message:new", `{"chatId":"` + chatID + `","text":"hi","admin":true}`, "admin"},
		{"message:new", `{"chatId":{"$ne":null},"text":"hi"}`, "chatId"},
		{"message:new", `{"chatId":"` + chatID + `","text":{"$gt":""}}`, "text"},
		{"message:new", `{"chatId":["` + chatID + `"],"text":"hi"}`, "chatId"},
		{"message:list", `{"chatId":"` + chatID + `","before":{"$gt":0}}`, "before"},
		{"message:list", `{"chatId":"` + chatID + `","limit":"10"}`, "limit"},
		{"message:read", `{"chatId":"` + chatID + `","seq":"1"}`, "seq"},
		{"user:get", `{"userId":{"$ne":null}}`, "userId"},
		{"user:search", `{"query":{"$regex":".*"}}`, "query"},
		{"presence:get", `{"userIds":{"$in":[]}}`, "userIds"},
		{"chat:create", `{"type":"group","name":"g","participantIds":"x"}`, "participantIds"},
		{"sync", `{"cursors":[1,2]}`, "cursors"},
		{"sync", `{"cursors":{"` + chatID + `":{"$gt":0}}}`, "cursors"},
		{"notification:read", `{"all":"true"}`, "all"},
		{"user:me", `{"x":1}`, "x"},
	}
	for _, c := range cases {
		err := e.fail(ada, c.event, c.payload, utils.CodeValidation)
		if len(err.Issues) == 0 || !strings.HasPrefix(err.Issues[0].Path, c.path) {
			t.Errorf("%s %s: issues %v, want the path %q", c.event, c.payload, err.Issues, c.path)
		}
	}
	for _, payload := range []string{`[]`, `"hi"`, `5`, `true`, `{"chatId":"` + chatID + `","text":"a"} {}`, `{"chatId":`} {
		e.fail(ada, "message:new", payload, utils.CodeValidation)
	}
	if got := e.rec.take(); len(only(got, "message:new")) != 0 {
		t.Fatalf("a refused payload was broadcast: %v", got)
	}
}

func TestNullAndMissingPayloadsAreEmptyObjects(t *testing.T) {
	e := newEnv(t)
	ada := e.user("ada")
	for _, payload := range []any{nil, "null", "{}", " "} {
		res := e.ok(ada, "user:me", payload)
		if str(obj(res["user"])["id"]) != ada.UserID {
			t.Fatalf("user:me %v = %v", payload, res)
		}
	}
	// An event with required fields says which one is missing.
	err := e.fail(ada, "message:new", nil, utils.CodeValidation)
	if err.Issues[0].Path != "chatId" {
		t.Fatalf("issues %v, want chatId", err.Issues)
	}
}

func TestEveryProtocolEventIsRegistered(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{
		"user:me", "user:update", "user:get", "user:search", "user:block", "user:unblock", "user:blocked",
		"presence:get", "chat:create", "chat:list", "chat:get", "chat:update", "chat:participants:add",
		"chat:participants:remove", "chat:admin:set", "chat:leave", "message:new", "message:list",
		"message:edit", "message:delete", "message:read", "sync", "typing:start", "typing:stop",
		"friend:request:send", "friend:request:accept", "friend:request:decline", "friend:request:cancel",
		"friend:request:list", "friend:list", "friend:remove", "notification:list", "notification:read",
	} {
		if _, ok := e.events[name]; !ok {
			t.Errorf("event %q is not registered", name)
		}
	}
}
