package handlers_test

import (
	"testing"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

func TestTypingStartAndStop(t *testing.T) {
	e := newEnv(t)
	ada, bob, eve := e.user("ada"), e.user("bob"), e.user("eve")
	chatID := e.direct(ada, bob)
	e.rec.take()
	if res := e.ok(ada, "typing:start", M{"chatId": chatID}); len(res) != 0 {
		t.Fatalf("typing:start = %v", res)
	}
	got := e.rec.take()
	if len(got) != 1 || got[0].Event != "typing:start" || got[0].Kind != "chatExceptUser" || got[0].Target != chatID || got[0].Except != ada.UserID {
		t.Fatalf("typing:start emits %v, want one to the chat except every socket of the typist", got)
	}
	if u := obj(got[0].Payload["user"]); got[0].Payload["chatId"] != chatID || u["id"] != ada.UserID || u["handle"] != "ada" || u["name"] != "Name ada" {
		t.Fatalf("typing:start payload %v", got[0].Payload)
	}
	if e.typing.Len() != 1 {
		t.Fatalf("typing states %d, want 1", e.typing.Len())
	}
	e.ok(ada, "typing:start", M{"chatId": chatID}) // extends
	e.rec.take()
	if e.typing.Len() != 1 {
		t.Fatal("an extension made a second state")
	}
	if res := e.ok(ada, "typing:stop", M{"chatId": chatID}); len(res) != 0 {
		t.Fatalf("typing:stop = %v", res)
	}
	got = e.rec.take()
	if len(got) != 1 || got[0].Event != "typing:stop" || got[0].Kind != "chatExceptUser" || got[0].Except != ada.UserID ||
		got[0].Payload["chatId"] != chatID || got[0].Payload["userId"] != ada.UserID {
		t.Fatalf("typing:stop emits %v", got)
	}
	// Stopping again: nothing to end, nothing sent.
	e.ok(ada, "typing:stop", M{"chatId": chatID})
	if got := e.rec.take(); len(got) != 0 {
		t.Fatalf("a second typing:stop emitted %v", got)
	}
	sameNotFound(t, e.fail(eve, "typing:start", M{"chatId": chatID}, utils.CodeNotFound),
		e.fail(eve, "typing:start", M{"chatId": models.NewID()}, utils.CodeNotFound))
	e.fail(eve, "typing:stop", M{"chatId": chatID}, utils.CodeNotFound)
	e.fail(ada, "typing:start", M{}, utils.CodeValidation)
	if e.typing.Len() != 0 {
		t.Fatal("an outsider's typing was recorded")
	}
}
