package handlers_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/handlers"
	"github.com/parley-chat/parley/models"
)

// mentionNotes returns the mention notifications of c (read or not), newest first.
func mentionNotes(e *env, c handlers.Caller) []M {
	e.t.Helper()
	var out []M
	for _, n := range arr(e.ok(c, "notification:list", M{})["notifications"]) {
		if obj(n)["type"] == "mention" {
			out = append(out, obj(n))
		}
	}
	return out
}

// ids reads a JSON list of strings.
func ids(v any) []string {
	out := []string{}
	for _, x := range arr(v) {
		out = append(out, str(x))
	}
	return out
}

func sameIDs(t *testing.T, what string, got any, want ...string) {
	t.Helper()
	if g := ids(got); !slices.Equal(g, append([]string{}, want...)) {
		t.Fatalf("%s = %v, want %v", what, g, want)
	}
}

func TestMentionsOnSend(t *testing.T) {
	e := newEnv(t)
	ada, bob, cid, dan := e.user("ada"), e.user("bob"), e.user("cid"), e.user("dan")
	e.connect(ada, bob, cid, dan)
	groupID := e.group(ada, "g", bob, cid) // dan is no member
	e.rec.take()
	m := e.send(ada, groupID, "@Cid, @BOB: mail ops@example.com, ask @dan and @everyone (cc @ada, @cid.)")
	sameIDs(t, "mentions in the ack", m["mentions"], cid.UserID, bob.UserID)
	live := only(e.rec.take(), "message:new")
	if len(live) != 1 {
		t.Fatalf("message:new = %v", live)
	}
	sameIDs(t, "mentions in the broadcast", obj(live[0].Payload["message"])["mentions"], cid.UserID, bob.UserID)
	plain := e.send(bob, groupID, "nobody")
	if v, ok := plain["mentions"].([]any); !ok || len(v) != 0 {
		t.Fatalf("a message without mentions has mentions %#v, want []", plain["mentions"])
	}
	list := arr(e.ok(cid, "message:list", M{"chatId": groupID})["messages"])
	sameIDs(t, "message:list mentions", obj(list[0])["mentions"], cid.UserID, bob.UserID)
	synced := arr(e.ok(cid, "sync", M{"cursors": M{groupID: 0}})["messages"])
	sameIDs(t, "sync mentions", obj(synced[0])["mentions"], cid.UserID, bob.UserID)
	// A reply quotes the message; the reply's own mentions are its own.
	r := obj(e.ok(cid, "message:new", M{"chatId": groupID, "text": "@ada yes", "replyTo": m["id"]})["message"])
	sameIDs(t, "reply mentions", r["mentions"], ada.UserID)
	last := obj(obj(arr(e.ok(bob, "chat:list", M{})["chats"])[0])["lastMessage"])
	sameIDs(t, "chat:list lastMessage mentions", last["mentions"], ada.UserID)
	// Deleted: no mentions any more.
	e.ok(ada, "message:delete", M{"messageId": m["id"]})
	list = arr(e.ok(cid, "message:list", M{"chatId": groupID})["messages"])
	sameIDs(t, "mentions of a deleted message", obj(list[0])["mentions"])
}

// A chat's handle index follows its membership, on this node and on another one.
func TestMentionsFollowMembership(t *testing.T) {
	e := newEnv(t)
	p := e.peer()
	ada, bob, cid := e.user("ada"), e.user("bob"), e.user("cid")
	e.connect(ada, bob, cid)
	groupID := e.group(ada, "g", bob)
	sameIDs(t, "before cid joins", e.send(ada, groupID, "@bob @cid")["mentions"], bob.UserID)
	sameIDs(t, "the peer, before cid joins", obj(p.ok(ada, "message:new", M{"chatId": groupID, "text": "@bob @cid"})["message"])["mentions"], bob.UserID)
	e.ok(ada, "chat:participants:add", M{"chatId": groupID, "userIds": []string{cid.UserID}})
	sameIDs(t, "after cid joined", e.send(ada, groupID, "@bob @cid")["mentions"], bob.UserID, cid.UserID)
	sameIDs(t, "the peer, after cid joined", obj(p.ok(ada, "message:new", M{"chatId": groupID, "text": "@bob @cid"})["message"])["mentions"], bob.UserID, cid.UserID)
	p.ok(ada, "chat:participants:remove", M{"chatId": groupID, "userId": bob.UserID})
	sameIDs(t, "after bob left", e.send(ada, groupID, "@bob @cid")["mentions"], cid.UserID)
}

func TestMentionNotifications(t *testing.T) {
	e := newEnv(t)
	ada, bob, cid, dan, eve, fay := e.user("ada"), e.user("bob"), e.user("cid"), e.user("dan"), e.user("eve"), e.user("fay")
	e.connect(ada, cid) // bob, dan, eve and fay have no socket; fay is no member
	groupID := e.group(ada, "g", bob, cid, dan, eve)
	e.ok(dan, "chat:mute", M{"chatId": groupID})
	e.rec.take()
	m1 := e.send(ada, groupID, "@bob @cid @dan @fay look")
	got := map[string][]string{}
	for _, n := range only(e.rec.take(), "notification:new") {
		got[n.Target] = append(got[n.Target], str(obj(n.Payload["notification"])["type"]))
	}
	want := map[string][]string{
		bob.UserID: {"message", "mention"}, // offline, mentioned
		dan.UserID: {"mention"},            // muted: the mention only
		eve.UserID: {"message"},            // offline, not mentioned
	} // cid is connected, fay no member, ada the sender
	if len(got) != len(want) {
		t.Fatalf("notification:new by user = %v, want %v", got, want)
	}
	for uid, kinds := range want {
		if !slices.Equal(got[uid], kinds) {
			t.Fatalf("notification:new for %s = %v, want %v (all: %v)", uid, got[uid], kinds, got)
		}
	}
	notes := mentionNotes(e, bob)
	if len(notes) != 1 {
		t.Fatalf("bob's mention notifications: %v", notes)
	}
	data := obj(notes[0]["data"])
	if data["chatId"] != groupID || data["messageId"] != m1["id"] || num(data["seq"]) != num(m1["seq"]) || data["senderId"] != ada.UserID || notes[0]["read"] != false {
		t.Fatalf("mention notification = %v", notes[0])
	}
	// Never collapsed: a second mention is a second notification; the message
	// notification collapses as before.
	m2 := e.send(ada, groupID, "@bob again")
	notes = mentionNotes(e, bob)
	if len(notes) != 2 || obj(notes[0]["data"])["messageId"] != m2["id"] || obj(notes[1]["data"])["messageId"] != m1["id"] {
		t.Fatalf("after two mentions bob has %v", notes)
	}
	if mn := messageNotes(e, bob); len(mn) != 1 || num(obj(mn[0]["data"])["count"]) != 2 {
		t.Fatalf("bob's message notifications: %v", mn)
	}
	if n := messageNotes(e, dan); len(n) != 0 {
		t.Fatalf("muted dan got message notifications: %v", n)
	}
	if n := mentionNotes(e, dan); len(n) != 1 {
		t.Fatalf("muted dan's mention notifications: %v", n)
	}
	for _, c := range []handlers.Caller{ada, cid, eve, fay} {
		if n := mentionNotes(e, c); len(n) != 0 {
			t.Fatalf("%s got mention notifications %v", c.UserID, n)
		}
	}
	// A repeated send (same clientId) notifies nobody again.
	e.rec.take()
	e.ok(ada, "message:new", M{"chatId": groupID, "text": "@eve once", "clientId": "k1"})
	e.ok(ada, "message:new", M{"chatId": groupID, "text": "@eve once", "clientId": "k1"})
	if n := mentionNotes(e, eve); len(n) != 1 {
		t.Fatalf("eve after a retried send: %v", n)
	}
}

func TestMentionsOnEdit(t *testing.T) {
	e := newEnv(t)
	ada, bob, cid, dan := e.user("ada"), e.user("bob"), e.user("cid"), e.user("dan")
	e.connect(ada, dan) // bob and cid are away; dan is here for now
	groupID := e.group(ada, "g", bob, cid, dan)
	m := e.send(ada, groupID, "@bob @dan hello")
	if len(mentionNotes(e, bob)) != 1 || len(mentionNotes(e, dan)) != 0 {
		t.Fatal("the send notified the wrong members")
	}
	edit := func(text string) (M, []emitted) {
		t.Helper()
		e.rec.take()
		res := obj(e.ok(ada, "message:edit", M{"messageId": m["id"], "text": text})["message"])
		return res, e.rec.take()
	}
	newMentions := func(log []emitted) map[string]int {
		out := map[string]int{}
		for _, n := range only(log, "notification:new") {
			if obj(n.Payload["notification"])["type"] == "mention" {
				out[n.Target]++
			}
		}
		return out
	}

	// Adding cid: only cid is notified.
	res, log := edit("@bob @dan @cid hello")
	sameIDs(t, "after adding cid", res["mentions"], bob.UserID, dan.UserID, cid.UserID)
	up := only(log, "message:updated")
	if len(up) != 1 {
		t.Fatalf("message:updated = %v", up)
	}
	sameIDs(t, "message:updated mentions", obj(up[0].Payload["message"])["mentions"], bob.UserID, dan.UserID, cid.UserID)
	if got := newMentions(log); len(got) != 1 || got[cid.UserID] != 1 {
		t.Fatalf("mention notifications of the edit: %v, want one for cid", got)
	}

	// Removing bob: the mentions change, nobody is notified.
	res, log = edit("@dan @cid hello")
	sameIDs(t, "after removing bob", res["mentions"], dan.UserID, cid.UserID)
	if got := newMentions(log); len(got) != 0 {
		t.Fatalf("an edit that removes a mention notified %v", got)
	}
	// Adding bob back: he was notified of this message already.
	res, log = edit("@dan @cid @bob hello")
	sameIDs(t, "after adding bob back", res["mentions"], dan.UserID, cid.UserID, bob.UserID)
	if got := newMentions(log); len(got) != 0 {
		t.Fatalf("mentioning bob again notified %v", got)
	}
	// An edit that keeps a mention notifies nobody, even one who has gone away since.
	e.presence.Disconnect(dan.UserID)
	_, log = edit("@dan @cid @bob hello!")
	if got := newMentions(log); len(got) != 0 {
		t.Fatalf("an edit keeping the mentions notified %v", got)
	}
	// One never notified (dan was connected when first mentioned), mentioned anew while
	// away, is notified, once.
	edit("@cid @bob")
	_, log = edit("@cid @bob @dan")
	if got := newMentions(log); len(got) != 1 || got[dan.UserID] != 1 {
		t.Fatalf("dan mentioned anew while away: %v", got)
	}
	for c, want := range map[handlers.Caller]int{bob: 1, cid: 1, dan: 1, ada: 0} {
		if n := mentionNotes(e, c); len(n) != want {
			t.Fatalf("%s has %d mention notifications, want %d: %v", c.UserID, len(n), want, n)
		}
	}
	// No mentions left; the message:list shape follows.
	res, _ = edit("nobody")
	sameIDs(t, "after removing every mention", res["mentions"])
	e.ok(ada, "message:delete", M{"messageId": m["id"]})
	e.fail(ada, "message:edit", M{"messageId": m["id"], "text": "@bob back?"}, "CONFLICT")
}

func TestUnreadMentions(t *testing.T) {
	e := newEnv(t)
	ada, bob, cid := e.user("ada"), e.user("bob"), e.user("cid")
	e.connect(ada, bob, cid)
	groupID := e.group(ada, "g", bob, cid)
	other := e.direct(ada, bob)
	view := func(c handlers.Caller, chatID string) M {
		t.Helper()
		return obj(e.ok(c, "chat:get", M{"chatId": chatID})["chat"])
	}
	if v := view(bob, groupID); num(v["unreadMentions"]) != 0 {
		t.Fatalf("a new chat: unreadMentions %v", v["unreadMentions"])
	}
	e.send(ada, groupID, "@bob one")        // 1
	e.send(ada, groupID, "plain")           // 2
	m3 := e.send(cid, groupID, "@bob @ada") // 3
	e.send(ada, groupID, "@cid")            // 4
	e.send(ada, other, "@bob in the dm")    // other chat
	for _, tc := range []struct {
		c      handlers.Caller
		chatID string
		want   int64
	}{{bob, groupID, 2}, {cid, groupID, 1}, {ada, groupID, 1}, {bob, other, 1}, {ada, other, 0}} {
		if v := view(tc.c, tc.chatID); num(v["unreadMentions"]) != tc.want {
			t.Fatalf("%s in %s: unreadMentions %v, want %d", tc.c.UserID, tc.chatID, v["unreadMentions"], tc.want)
		}
	}
	// chat:list and sync carry the same numbers.
	for _, list := range []any{e.ok(bob, "chat:list", M{})["chats"], e.ok(bob, "sync", M{"cursors": M{}})["chats"]} {
		byID := map[string]int64{}
		for _, c := range arr(list) {
			byID[str(obj(c)["id"])] = num(obj(c)["unreadMentions"])
		}
		if byID[groupID] != 2 || byID[other] != 1 {
			t.Fatalf("chat list unreadMentions %v", byID)
		}
	}
	// The read mark takes them down.
	e.ok(bob, "message:read", M{"chatId": groupID, "seq": 1})
	if v := view(bob, groupID); num(v["unreadMentions"]) != 1 || num(v["unreadCount"]) != 3 {
		t.Fatalf("after reading 1: %v unread mentions, %v unread", v["unreadMentions"], v["unreadCount"])
	}
	// A deleted message no longer counts.
	e.ok(cid, "message:delete", M{"messageId": m3["id"]})
	if v := view(bob, groupID); num(v["unreadMentions"]) != 0 {
		t.Fatalf("after the delete: %v", v["unreadMentions"])
	}
	if v := view(ada, groupID); num(v["unreadMentions"]) != 0 {
		t.Fatalf("ada after the delete: %v", v["unreadMentions"])
	}
	// An edit that adds a mention counts it, an edit that removes one uncounts it.
	m5 := e.send(ada, groupID, "later")
	e.ok(ada, "message:edit", M{"messageId": m5["id"], "text": "later, @bob"})
	if v := view(bob, groupID); num(v["unreadMentions"]) != 1 {
		t.Fatalf("after an edit added bob: %v", v["unreadMentions"])
	}
	e.ok(ada, "message:edit", M{"messageId": m5["id"], "text": "later"})
	if v := view(bob, groupID); num(v["unreadMentions"]) != 0 {
		t.Fatalf("after an edit removed bob: %v", v["unreadMentions"])
	}
	e.ok(ada, "message:edit", M{"messageId": m5["id"], "text": "later, @bob!"})
	e.ok(bob, "message:read", M{"chatId": groupID, "seq": num(m5["seq"])})
	if v := view(bob, groupID); num(v["unreadMentions"]) != 0 || num(v["unreadCount"]) != 0 {
		t.Fatalf("all read: %v unread mentions, %v unread", v["unreadMentions"], v["unreadCount"])
	}
}

// A name that is not a member's reads the same whether or not such a user exists, so an
// outsider's handle cannot be probed through mentions; an outsider cannot send into the
// chat at all.
func TestMentionOfNonMemberIgnored(t *testing.T) {
	e := newEnv(t)
	ada, bob, out := e.user("ada"), e.user("bob"), e.user("outsider")
	groupID := e.group(ada, "g", bob)
	existing := e.send(ada, groupID, "hi @outsider")
	missing := e.send(ada, groupID, "hi @nobody_here")
	sameIDs(t, "a user outside the chat", existing["mentions"])
	sameIDs(t, "a handle nobody has", missing["mentions"])
	if len(mentionNotes(e, out)) != 0 {
		t.Fatal("an outsider was notified")
	}
	real := e.fail(out, "message:new", M{"chatId": groupID, "text": "@bob hi"}, "NOT_FOUND")
	fake := e.fail(out, "message:new", M{"chatId": "0123456789abcdef01234567", "text": "@bob hi"}, "NOT_FOUND")
	sameNotFound(t, real, fake)
	if len(mentionNotes(e, bob)) != 0 {
		t.Fatal("a refused send notified bob")
	}
}

// The sweep after a disconnect covers a mention that raced it, once, also in a muted chat.
func TestCoverRecentMessagesCoversMentions(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	chatID := e.direct(ada, bob)
	e.connect(ada, bob)
	e.ok(bob, "chat:mute", M{"chatId": chatID})
	m := e.send(ada, chatID, "@bob raced the disconnect")
	e.send(ada, chatID, "no mention")
	e.presence.Disconnect(bob.UserID)
	e.rec.take()
	ctx := context.Background()
	for _, h := range []*handlers.Handlers{e.h, e.h, e.rebuild()} {
		h.CoverRecentMessages(ctx, bob.UserID, 3*time.Second, nil)
	}
	notes := mentionNotes(e, bob)
	if len(notes) != 1 || obj(notes[0]["data"])["messageId"] != m["id"] {
		t.Fatalf("after the sweeps: %v, want one mention notification", notes)
	}
	if n := messageNotes(e, bob); len(n) != 0 {
		t.Fatalf("muted bob got message notifications: %v", n)
	}
	if got := only(e.rec.take(), "notification:new"); len(got) != 1 {
		t.Fatalf("notification:new = %v, want one", got)
	}
	// A mention delivered well before the close is left alone.
	e.connect(bob)
	m2 := e.send(ada, chatID, "@bob delivered")
	e.presence.Disconnect(bob.UserID)
	e.h.CoverRecentMessages(ctx, bob.UserID, 3*time.Second, func(id string) bool { return id == m2["id"] })
	if notes := mentionNotes(e, bob); len(notes) != 1 {
		t.Fatalf("a delivered mention was notified: %v", notes)
	}
}

// countingStore counts the profile reads of the handlers above it.
type countingStore struct {
	models.Store
	usersByIDs, userByHandle, userByID atomic.Int64
}

func (s *countingStore) UsersByIDs(ctx context.Context, ids []string) ([]*models.User, error) {
	s.usersByIDs.Add(1)
	return s.Store.UsersByIDs(ctx, ids)
}

func (s *countingStore) UserByHandle(ctx context.Context, handle string) (*models.User, error) {
	s.userByHandle.Add(1)
	return s.Store.UserByHandle(ctx, handle)
}

func (s *countingStore) UserByID(ctx context.Context, id string) (*models.User, error) {
	s.userByID.Add(1)
	return s.Store.UserByID(ctx, id)
}

// Mentions are resolved from the chat's cached members and their cached profiles: with a
// warm cache a message mentioning five members reads no profile from the store, and after
// a membership change one query loads what is missing, never one per mention.
func TestMentionsResolveFromTheCache(t *testing.T) {
	e := newEnv(t)
	counting := &countingStore{Store: e.store}
	h := handlers.New(handlers.Deps{Store: counting, Emit: e.rec, Presence: e.presence, Now: e.clock.Now, Log: zerolog.Nop()})
	send := func(c handlers.Caller, chatID, text string) M {
		t.Helper()
		for _, ev := range h.Events() {
			if ev.Name == "message:new" {
				raw, _ := json.Marshal(M{"chatId": chatID, "text": text})
				res, err := ev.Handle(context.Background(), c, raw)
				if err != nil {
					t.Fatalf("message:new: %v", err)
				}
				return obj(toJSON(res)["message"])
			}
		}
		t.Fatal("no message:new")
		return nil
	}
	ada := e.user("ada")
	var members []handlers.Caller
	text := ""
	for _, name := range []string{"m_one", "m_two", "m_three", "m_four", "m_five"} {
		c := e.user(name)
		members = append(members, c)
		text += "@" + name + " "
	}
	e.connect(append(members, ada)...)
	groupID := e.group(ada, "g", members...)
	send(ada, groupID, text) // fills the caches
	counting.usersByIDs.Store(0)
	m := send(ada, groupID, text)
	if len(arr(m["mentions"])) != 5 {
		t.Fatalf("mentions = %v", m["mentions"])
	}
	if n := counting.usersByIDs.Load() + counting.userByHandle.Load() + counting.userByID.Load(); n != 0 {
		t.Fatalf("a warm send with five mentions read profiles %d times", n)
	}
	late := e.user("m_late")
	e.connect(late)
	e.ok(ada, "chat:participants:add", M{"chatId": groupID, "userIds": []string{late.UserID}})
	h.DropCached(handlers.CacheChat, groupID) // the invalidation another node would send
	counting.usersByIDs.Store(0)
	m = send(ada, groupID, text+"@m_late")
	if len(arr(m["mentions"])) != 6 {
		t.Fatalf("mentions after the join = %v", m["mentions"])
	}
	if n := counting.usersByIDs.Load(); n != 1 || counting.userByHandle.Load()+counting.userByID.Load() != 0 {
		t.Fatalf("after a join: %d UsersByIDs (want 1), %d UserByHandle, %d UserByID", n, counting.userByHandle.Load(), counting.userByID.Load())
	}
}
