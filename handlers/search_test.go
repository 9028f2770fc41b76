package handlers_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

// texts lists the text of each message of a message:search result.
func texts(res M) []string {
	var out []string
	for _, m := range arr(res["messages"]) {
		out = append(out, str(obj(m)["text"]))
	}
	return out
}

func TestMessageSearch(t *testing.T) {
	e := newEnv(t)
	ada, bob, eve := e.user("ada"), e.user("bob"), e.user("eve")
	direct := e.direct(ada, bob)
	group := e.group(ada, "Lunch", bob, eve)
	eveOnly := e.group(eve, "Eve's", bob)
	e.send(ada, direct, "Rendez-vous au Café?")
	e.send(bob, group, "the cafe is closed")
	e.send(eve, eveOnly, "café secrets")
	reply := e.send(bob, direct, "CAFÉ au lait, please")
	e.ok(ada, "message:new", M{"chatId": direct, "text": "yes, café", "replyTo": reply["id"]})

	res := e.ok(ada, "message:search", M{"query": "cafe"})
	if got := texts(res); fmt.Sprint(got) != "[yes, café CAFÉ au lait, please the cafe is closed Rendez-vous au Café?]" {
		t.Fatalf("ada's search: %q", got)
	}
	if res["nextCursor"] != nil {
		t.Errorf("nextCursor = %v on the only page", res["nextCursor"])
	}
	// Results are full Messages: sender, replyTo, reactions.
	first := obj(arr(res["messages"])[0])
	if str(obj(first["sender"])["id"]) != ada.UserID || str(obj(first["replyTo"])["id"]) != str(reply["id"]) || first["reactions"] == nil {
		t.Errorf("result shape: %v", first)
	}
	// One chat.
	if got := texts(e.ok(bob, "message:search", M{"query": "CAF", "chatId": group})); fmt.Sprint(got) != "[the cafe is closed]" {
		t.Errorf("bob in the group: %q", got)
	}
	// An outsider's chatId is NOT_FOUND, exactly as a chat that does not exist.
	sameNotFound(t, e.fail(ada, "message:search", M{"query": "cafe", "chatId": eveOnly}, utils.CodeNotFound),
		e.fail(ada, "message:search", M{"query": "cafe", "chatId": models.NewID()}, utils.CodeNotFound))
	e.fail(ada, "message:search", M{"query": "cafe", "chatId": "not-an-id"}, utils.CodeNotFound)

	// Leaving a group takes it out of the caller's searches.
	e.ok(eve, "chat:leave", M{"chatId": group})
	if got := texts(e.ok(eve, "message:search", M{"query": "cafe"})); fmt.Sprint(got) != "[café secrets]" {
		t.Errorf("eve after leaving: %q", got)
	}
	e.fail(eve, "message:search", M{"query": "cafe", "chatId": group}, utils.CodeNotFound)

	// Edits and deletes show at once.
	msg := e.send(bob, group, "pizza tonight")
	e.ok(bob, "message:edit", M{"messageId": msg["id"], "text": "sushi tonight"})
	if got := texts(e.ok(ada, "message:search", M{"query": "pizza"})); len(got) != 0 {
		t.Errorf("old words still match: %q", got)
	}
	if got := texts(e.ok(ada, "message:search", M{"query": "sushi"})); fmt.Sprint(got) != "[sushi tonight]" {
		t.Errorf("new words: %q", got)
	}
	e.ok(bob, "message:delete", M{"messageId": msg["id"]})
	if got := texts(e.ok(ada, "message:search", M{"query": "sushi"})); len(got) != 0 {
		t.Errorf("deleted message found: %q", got)
	}

	// Plain text: operators and punctuation are no syntax and no error.
	for _, q := range []string{`"`, `*`, `-`, `:`, `NEAR(`, `cafe*`, `"cafe`, `-cafe`, `tokens:cafe`, `cafe OR pizza`, `^`, `\`} {
		res := e.ok(ada, "message:search", M{"query": q})
		if res["messages"] == nil {
			t.Errorf("query %q: messages is null", q)
		}
	}
	if got := texts(e.ok(ada, "message:search", M{"query": `"cafe"*`})); len(got) != 4 {
		t.Errorf(`query "cafe"*: %q`, got)
	}
	if got := texts(e.ok(ada, "message:search", M{"query": `cafe OR pizza`})); len(got) != 0 {
		t.Errorf("OR is a word, not an operator: %q", got)
	}
}

func TestMessageSearchPaging(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	chats := []string{e.direct(ada, bob), e.group(ada, "G", bob)}
	for i := range 13 {
		e.send(bob, chats[i%2], fmt.Sprintf("note %d", i))
	}
	var got []string
	var before any
	for page := 0; ; page++ {
		p := M{"query": "note", "limit": 5}
		if before != nil {
			p["before"] = before
		}
		res := e.ok(ada, "message:search", p)
		got = append(got, texts(res)...)
		if res["nextCursor"] == nil {
			if len(texts(res)) > 5 || page != 2 {
				t.Fatalf("page %d ends the search with %d results", page, len(texts(res)))
			}
			break
		}
		before = res["nextCursor"]
	}
	var want []string
	for i := 12; i >= 0; i-- {
		want = append(want, fmt.Sprintf("note %d", i))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("pages: %q, want %q", got, want)
	}
	// A page of exactly the remaining results has no next cursor.
	res := e.ok(ada, "message:search", M{"query": "note", "limit": 13})
	if len(arr(res["messages"])) != 13 || res["nextCursor"] != nil {
		t.Errorf("limit 13: %d results, nextCursor %v", len(arr(res["messages"])), res["nextCursor"])
	}
}

func TestMessageSearchValidation(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	chat := e.direct(ada, bob)
	m := e.send(ada, chat, "hello there")
	cursor := str(e.ok(ada, "message:search", M{"query": "hello", "limit": 1})["nextCursor"])
	if cursor != "" {
		t.Fatalf("one result, limit 1: nextCursor %q", cursor)
	}
	e.send(ada, chat, "hello again")
	cursor = str(e.ok(ada, "message:search", M{"query": "hello", "limit": 1})["nextCursor"])
	if cursor == "" {
		t.Fatal("no nextCursor")
	}
	if got := texts(e.ok(ada, "message:search", M{"query": "hello", "before": cursor})); fmt.Sprint(got) != "[hello there]" {
		t.Fatalf("second page: %q", got)
	}
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	id := str(m["id"])
	for _, p := range []M{
		{},
		{"query": ""},
		{"query": "   "},
		{"query": strings.Repeat("a", 201)},
		{"query": "a b c d e f g h i j k"}, // 11 words

		{"query": 5},
		{"query": "hi", "limit": 0},
		{"query": "hi", "limit": 51},
		{"query": "hi", "limit": 2.5},
		{"query": "hi", "chatId": ""},
		{"query": "hi", "chatId": 5},
		{"query": "hi", "before": ""},
		{"query": "hi", "before": 12},
		{"query": "hi", "before": "not a cursor"},
		{"query": "hi", "before": cursor + "="},
		{"query": "hi", "before": base64.StdEncoding.EncodeToString([]byte("1:1:" + id))},
		{"query": "hi", "before": b64("1:1")},
		{"query": "hi", "before": b64("1:1:" + id + ":x")},
		{"query": "hi", "before": b64("x:1:" + id)},
		{"query": "hi", "before": b64("-1:1:" + id)},
		{"query": "hi", "before": b64("+1:1:" + id)},
		{"query": "hi", "before": b64("01:1:" + id)},
		{"query": "hi", "before": b64("1:0:" + id)},
		{"query": "hi", "before": b64("1:1:" + strings.ToUpper(id))},
		{"query": "hi", "before": b64("1:1:xyz")},
		{"query": "hi", "before": b64("253402300800000:1:" + id)},
		{"query": "hi", "before": b64(`1:1:{"$ne":null}`)},
		{"query": "hi", "extra": true},
		{"query": M{"$ne": nil}},
	} {
		e.fail(ada, "message:search", p, utils.CodeValidation)
	}
	// At the limits.
	e.ok(ada, "message:search", M{"query": strings.Repeat("a", 200)})
	e.ok(ada, "message:search", M{"query": "a b c d e f g h i j"})
	e.ok(ada, "message:search", M{"query": strings.Repeat("a ", 50)}) // one word, repeated
	e.ok(ada, "message:search", M{"query": "  hello  ", "limit": 50, "chatId": chat})
	// Punctuation only: plain text without words finds nothing, successfully.
	res := e.ok(ada, "message:search", M{"query": `"*"`})
	if len(arr(res["messages"])) != 0 || res["nextCursor"] != nil {
		t.Errorf("punctuation-only query: %v", res)
	}
	// A well-formed cursor of a message that does not exist is no error.
	res = e.ok(ada, "message:search", M{"query": "hello", "before": b64("1:1:" + models.NewID())})
	if res["messages"] == nil {
		t.Errorf("messages is null")
	}
}
