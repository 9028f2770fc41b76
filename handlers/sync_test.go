package handlers_test

import (
	"fmt"
	"testing"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

func TestSyncCatchesUpFromCursors(t *testing.T) {
	e := newEnv(t)
	ada, bob, cid, eve := e.user("ada"), e.user("bob"), e.user("cid"), e.user("eve")
	a := e.direct(ada, bob)
	b := e.group(ada, "g", bob, cid)
	c := e.direct(ada, cid)
	foreign := e.direct(bob, eve)
	for i := 1; i <= 5; i++ {
		e.send(bob, a, fmt.Sprintf("a%d", i))
	}
	for i := 1; i <= 3; i++ {
		e.send(cid, b, fmt.Sprintf("b%d", i))
	}
	e.send(cid, c, "c1")
	e.send(eve, foreign, "secret")

	res := e.ok(ada, "sync", M{"cursors": M{a: 2, b: 0, foreign: 0, models.NewID(): 0}})
	if n := len(arr(res["chats"])); n != 3 {
		t.Fatalf("sync returned %d chats, want ada's 3", n)
	}
	byChat := map[string][]int64{}
	for _, m := range arr(res["messages"]) {
		mm := obj(m)
		byChat[str(mm["chatId"])] = append(byChat[str(mm["chatId"])], num(mm["seq"]))
	}
	if fmt.Sprint(byChat[a]) != "[3 4 5]" || fmt.Sprint(byChat[b]) != "[1 2 3]" {
		t.Fatalf("messages by chat %v, want a:[3 4 5] b:[1 2 3]", byChat)
	}
	if _, ok := byChat[c]; ok {
		t.Fatal("a chat missing from cursors returned messages")
	}
	if _, ok := byChat[foreign]; ok {
		t.Fatal("a cursor for a foreign chat returned its messages")
	}
	if tr := arr(res["truncated"]); tr == nil || len(tr) != 0 {
		t.Fatalf("truncated = %v, want []", res["truncated"])
	}
	// A cursor at or past the end returns nothing for that chat.
	res = e.ok(ada, "sync", M{"cursors": M{a: 5, b: 99}})
	if len(arr(res["messages"])) != 0 {
		t.Fatalf("cursors at the end returned %v", res["messages"])
	}
	// Empty cursors: only the chats.
	res = e.ok(ada, "sync", M{"cursors": M{}})
	if len(arr(res["chats"])) != 3 || len(arr(res["messages"])) != 0 || len(arr(res["truncated"])) != 0 {
		t.Fatalf("sync {} = %v", res)
	}
}

func TestSyncLimitAndTruncated(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	a := e.direct(ada, bob)
	for i := 0; i < 5; i++ {
		e.send(bob, a, "m")
	}
	res := e.ok(ada, "sync", M{"cursors": M{a: 0}, "limit": 2})
	if got := fmt.Sprint(seqs(res["messages"])); got != "[1 2]" {
		t.Fatalf("limited sync gave %s, want the oldest two [1 2]", got)
	}
	if tr := arr(res["truncated"]); len(tr) != 1 || tr[0] != a {
		t.Fatalf("truncated = %v, want [%s]", tr, a)
	}
	// Paging on with message:list after the last seq finishes the catch-up.
	rest := e.ok(ada, "message:list", M{"chatId": a, "after": 2})
	if got := fmt.Sprint(seqs(rest["messages"])); got != "[3 4 5]" || rest["hasMore"] != false {
		t.Fatalf("paging on gave %s hasMore=%v", got, rest["hasMore"])
	}
	// Exactly limit messages left: not truncated.
	res = e.ok(ada, "sync", M{"cursors": M{a: 3}, "limit": 2})
	if got := fmt.Sprint(seqs(res["messages"])); got != "[4 5]" || len(arr(res["truncated"])) != 0 {
		t.Fatalf("sync after 3 limit 2 = %s truncated %v", got, res["truncated"])
	}
	for _, bad := range []M{{"limit": 0}, {"limit": 501}, {"cursors": M{a: -1}}, {"cursors": []int{1}}} {
		e.fail(ada, "sync", bad, utils.CodeValidation)
	}
	many := M{}
	for i := 0; i < 1001; i++ {
		many[models.NewID()] = 0
	}
	e.fail(ada, "sync", M{"cursors": many}, utils.CodeValidation)
}
