package handlers_test

import (
	"fmt"
	"testing"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

func TestMessageList(t *testing.T) {
	e := newEnv(t)
	ada, bob, eve := e.user("ada"), e.user("bob"), e.user("eve")
	chatID := e.direct(ada, bob)
	for i := 1; i <= 7; i++ {
		e.send(ada, chatID, fmt.Sprintf("m%d", i))
	}
	cases := []struct {
		payload M
		seqs    string
		hasMore bool
	}{
		{M{}, "[1 2 3 4 5 6 7]", false},
		{M{"limit": 3}, "[5 6 7]", true},
		{M{"limit": 7}, "[1 2 3 4 5 6 7]", false},
		{M{"before": 5, "limit": 3}, "[2 3 4]", true},
		{M{"before": 4, "limit": 3}, "[1 2 3]", false},
		{M{"before": 2}, "[1]", false},
		{M{"before": 1}, "[]", false},
		{M{"after": 0, "limit": 3}, "[1 2 3]", true},
		{M{"after": 0}, "[1 2 3 4 5 6 7]", false},
		{M{"after": 4, "limit": 3}, "[5 6 7]", false},
		{M{"after": 5}, "[6 7]", false},
		{M{"after": 7}, "[]", false},
		{M{"after": 2, "before": 6}, "[3 4 5]", false},
		{M{"after": 0, "before": 8, "limit": 2}, "[1 2]", true},
		{M{"after": 3, "before": 4}, "[]", false},
		{M{"after": 5, "before": 2}, "[]", false},
	}
	for _, c := range cases {
		c.payload["chatId"] = chatID
		res := e.ok(bob, "message:list", c.payload)
		if got := fmt.Sprint(seqs(res["messages"])); got != c.seqs && !(c.seqs == "[]" && got == "[]") {
			t.Errorf("message:list %v = %s, want %s", c.payload, got, c.seqs)
		}
		if res["hasMore"] != c.hasMore {
			t.Errorf("message:list %v hasMore = %v, want %v", c.payload, res["hasMore"], c.hasMore)
		}
		if res["messages"] == nil {
			t.Errorf("message:list %v: messages is null, want []", c.payload)
		}
	}
	for _, bad := range []M{{"limit": 0}, {"limit": 101}, {"before": 0}, {"after": -1}, {"before": 1.5}} {
		bad["chatId"] = chatID
		e.fail(bob, "message:list", bad, utils.CodeValidation)
	}
	sameNotFound(t, e.fail(eve, "message:list", M{"chatId": chatID}, utils.CodeNotFound),
		e.fail(eve, "message:list", M{"chatId": models.NewID()}, utils.CodeNotFound))
}
