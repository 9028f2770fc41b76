package handlers_test

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/parley-chat/parley/handlers"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

func TestMessageNewAssignsSeqAndBroadcasts(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	e.connect(ada, bob)
	chatID := e.direct(ada, bob)
	e.rec.take()
	for i := 1; i <= 3; i++ {
		sender := ada
		if i == 2 {
			sender = bob
		}
		m := e.send(sender, chatID, fmt.Sprintf("  hello %d  ", i))
		if num(m["seq"]) != int64(i) || m["text"] != fmt.Sprintf("hello %d", i) || m["chatId"] != chatID ||
			obj(m["sender"])["id"] != sender.UserID || obj(m["sender"])["handle"] != strings.TrimPrefix(sender.SocketID, "sock-") ||
			m["clientId"] != nil || m["replyTo"] != nil || m["editedAt"] != nil || m["deleted"] != false || m["createdAt"] == "" {
			t.Fatalf("message %d = %v", i, m)
		}
		log := e.rec.take()
		news := only(log, "message:new")
		if len(news) != 1 || news[0].Kind != "chat" || news[0].Target != chatID || news[0].Except != sender.SocketID {
			t.Fatalf("message:new emits %v, want one to the chat except the sending socket", news)
		}
		if got := obj(news[0].Payload["message"]); got["id"] != m["id"] || num(got["seq"]) != int64(i) {
			t.Fatalf("broadcast %v, ack %v", got, m)
		}
	}
	chat := obj(e.ok(bob, "chat:get", M{"chatId": chatID})["chat"])
	if num(chat["lastSeq"]) != 3 || num(chat["unreadCount"]) != 2 || obj(chat["lastMessage"])["text"] != "hello 3" {
		t.Fatalf("chat after three messages: %v", chat)
	}
}

func TestMessageNewClientIDIsIdempotent(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	e.connect(ada, bob)
	chatID := e.direct(ada, bob)
	e.rec.take()
	first := obj(e.ok(ada, "message:new", M{"chatId": chatID, "text": "once", "clientId": "c-1"})["message"])
	if first["clientId"] != "c-1" || num(first["seq"]) != 1 {
		t.Fatalf("first = %v", first)
	}
	e.rec.take()
	again := obj(e.ok(ada, "message:new", M{"chatId": chatID, "text": "once", "clientId": "c-1"})["message"])
	if again["id"] != first["id"] || num(again["seq"]) != 1 {
		t.Fatalf("the retry = %v, want the original %v", again, first)
	}
	if got := e.rec.take(); len(got) != 0 {
		t.Fatalf("the retry broadcast %v", got)
	}
	// Another sender with the same clientId, and the same sender with another one, are new.
	other := obj(e.ok(bob, "message:new", M{"chatId": chatID, "text": "once", "clientId": "c-1"})["message"])
	next := obj(e.ok(ada, "message:new", M{"chatId": chatID, "text": "twice", "clientId": "c-2"})["message"])
	if other["id"] == first["id"] || num(other["seq"]) != 2 || num(next["seq"]) != 3 {
		t.Fatalf("other=%v next=%v", other, next)
	}
	// The same clientId in another chat is another message.
	elsewhere := e.direct(ada, e.user("cid"))
	if m := obj(e.ok(ada, "message:new", M{"chatId": elsewhere, "text": "once", "clientId": "c-1"})["message"]); m["id"] == first["id"] || num(m["seq"]) != 1 {
		t.Fatalf("clientId reused in another chat = %v", m)
	}
	if len(arr(e.ok(ada, "message:list", M{"chatId": chatID})["messages"])) != 3 {
		t.Fatal("the retry stored a second message")
	}
	e.fail(ada, "message:new", M{"chatId": chatID, "text": "x", "clientId": ""}, utils.CodeValidation)
	e.fail(ada, "message:new", M{"chatId": chatID, "text": "x", "clientId": strings.Repeat("c", 65)}, utils.CodeValidation)
	e.ok(ada, "message:new", M{"chatId": chatID, "text": "x", "clientId": strings.Repeat("é", 64)})
}

func TestMessageNewValidationAndAccess(t *testing.T) {
	e := newEnv(t)
	ada, bob, eve := e.user("ada"), e.user("bob"), e.user("eve")
	chatID := e.direct(ada, bob)
	for _, bad := range []M{
		{"chatId": chatID},
		{"chatId": chatID, "text": ""},
		{"chatId": chatID, "text": " \n\t "},
		{"chatId": chatID, "text": strings.Repeat("a", 4001)},
		{"text": "hi"},
		{"chatId": chatID, "text": "hi", "replyTo": ""},
	} {
		e.fail(ada, "message:new", bad, utils.CodeValidation)
	}
	// 4000 characters (not bytes) is the limit.
	long := e.send(ada, chatID, strings.Repeat("界", 4000))
	if len([]rune(str(long["text"]))) != 4000 {
		t.Fatal("a 4000-character text was cut")
	}
	sameNotFound(t,
		e.fail(eve, "message:new", M{"chatId": chatID, "text": "hi"}, utils.CodeNotFound),
		e.fail(eve, "message:new", M{"chatId": models.NewID(), "text": "hi"}, utils.CodeNotFound))
	e.fail(eve, "message:new", M{"chatId": "garbage", "text": "hi"}, utils.CodeNotFound)
}

func TestMessageNewReplyTo(t *testing.T) {
	e := newEnv(t)
	ada, bob, cid := e.user("ada"), e.user("bob"), e.user("cid")
	chatID := e.direct(ada, bob)
	otherChat := e.direct(ada, cid)
	target := e.send(bob, chatID, "question?")
	foreign := e.send(cid, otherChat, "elsewhere")
	reply := obj(e.ok(ada, "message:new", M{"chatId": chatID, "text": "answer", "replyTo": target["id"]})["message"])
	rt := obj(reply["replyTo"])
	if rt["id"] != target["id"] || num(rt["seq"]) != 1 || rt["text"] != "question?" || obj(rt["sender"])["id"] != bob.UserID {
		t.Fatalf("replyTo = %v", rt)
	}
	sameNotFound(t,
		e.fail(ada, "message:new", M{"chatId": chatID, "text": "x", "replyTo": foreign["id"]}, utils.CodeNotFound),
		e.fail(ada, "message:new", M{"chatId": chatID, "text": "x", "replyTo": models.NewID()}, utils.CodeNotFound))
	// A deleted target shows as an empty quote.
	e.ok(bob, "message:delete", M{"messageId": target["id"]})
	list := arr(e.ok(ada, "message:list", M{"chatId": chatID})["messages"])
	if q := obj(obj(list[1])["replyTo"]); q["id"] != target["id"] || q["text"] != "" {
		t.Fatalf("quote of a deleted message: %v", q)
	}
}

func TestMessageNewEndsTheSendersTyping(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	chatID := e.direct(ada, bob)
	e.ok(ada, "typing:start", M{"chatId": chatID})
	e.rec.take()
	e.send(ada, chatID, "done typing")
	stops := only(e.rec.take(), "typing:stop")
	if len(stops) != 1 || stops[0].Kind != "chatExceptUser" || stops[0].Target != chatID || stops[0].Except != ada.UserID ||
		stops[0].Payload["userId"] != ada.UserID {
		t.Fatalf("typing:stop = %v", stops)
	}
	if e.typing.Len() != 0 {
		t.Fatal("the typing state outlived the message")
	}
}

// Concurrent senders get seq 1..N with no gaps and no repeats, and each sender's messages
// get increasing seqs in its send order.
func TestMessageNewConcurrentSeqs(t *testing.T) {
	e := newEnv(t)
	senders := []handlers.Caller{e.user("ada"), e.user("bob"), e.user("cid"), e.user("dan")}
	groupID := e.group(senders[0], "g", senders[1:]...)
	const each = 25
	got := make([][]int64, len(senders))
	var wg sync.WaitGroup
	for i, s := range senders {
		wg.Add(1)
		go func(i int, s handlers.Caller) {
			defer wg.Done()
			for j := 0; j < each; j++ {
				res, err := e.raw(s, "message:new", M{"chatId": groupID, "text": fmt.Sprintf("%d-%d", i, j)})
				if err != nil {
					t.Errorf("sender %d message %d: %v", i, j, err)
					return
				}
				got[i] = append(got[i], num(obj(res["message"])["seq"]))
			}
		}(i, s)
	}
	wg.Wait()
	var all []int64
	for i, list := range got {
		for j := 1; j < len(list); j++ {
			if list[j] <= list[j-1] {
				t.Fatalf("sender %d got seqs out of send order: %v", i, list)
			}
		}
		all = append(all, list...)
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	for i, s := range all {
		if s != int64(i+1) {
			t.Fatalf("seqs are not 1..%d without gaps: %v", len(senders)*each, all)
		}
	}
	if news := only(e.rec.take(), "message:new"); len(news) != len(senders)*each {
		t.Fatalf("%d message:new broadcasts, want %d", len(news), len(senders)*each)
	}
}
