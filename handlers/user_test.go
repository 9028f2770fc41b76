package handlers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

func TestUserMe(t *testing.T) {
	e := newEnv(t)
	ada := e.user("ada")
	u := obj(e.ok(ada, "user:me", M{})["user"])
	if u["id"] != ada.UserID || u["handle"] != "ada" || u["name"] != "Name ada" || u["image"] != nil || u["online"] != false || u["lastSeen"] != nil {
		t.Fatalf("user:me = %v", u)
	}
	e.connect(ada)
	if obj(e.ok(ada, "user:me", M{})["user"])["online"] != true {
		t.Fatal("user:me shows a connected user offline")
	}
}

func TestUserGetAndPresenceVisibility(t *testing.T) {
	e := newEnv(t)
	ada, bob, cid, dan := e.user("ada"), e.user("bob"), e.user("cid"), e.user("dan")
	seen := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range []string{bob.UserID, cid.UserID, dan.UserID} {
		if err := e.store.SetLastSeen(context.Background(), c, seen); err != nil {
			t.Fatal(err)
		}
	}
	e.befriend(ada, bob)     // a friend
	e.direct(ada, cid)       // a chat partner
	e.connect(bob, cid, dan) // dan is a stranger
	for _, c := range []struct {
		who     string
		id      string
		visible bool
	}{{"friend", bob.UserID, true}, {"chat partner", cid.UserID, true}, {"stranger", dan.UserID, false}} {
		u := obj(e.ok(ada, "user:get", M{"userId": c.id})["user"])
		if u["id"] != c.id {
			t.Fatalf("user:get %s = %v", c.who, u)
		}
		if c.visible && (u["online"] != true || u["lastSeen"] != "2025-01-02T03:04:05.000Z") {
			t.Errorf("%s: online=%v lastSeen=%v, want true and the stored time", c.who, u["online"], u["lastSeen"])
		}
		if !c.visible && (u["online"] != false || u["lastSeen"] != nil) {
			t.Errorf("%s: online=%v lastSeen=%v, want false and null", c.who, u["online"], u["lastSeen"])
		}
	}
	unknown := e.fail(ada, "user:get", M{"userId": models.NewID()}, utils.CodeNotFound)
	malformed := e.fail(ada, "user:get", M{"userId": "not-an-id"}, utils.CodeNotFound)
	sameNotFound(t, unknown, malformed)
	e.fail(ada, "user:get", M{}, utils.CodeValidation)
	e.fail(ada, "user:get", M{"userId": strings.Repeat("a", 65)}, utils.CodeValidation)
}

func TestUserSearch(t *testing.T) {
	e := newEnv(t)
	ada := e.user("ada")
	e.user("alice")
	e.user("alfred")
	bob := e.user("bob")
	e.connect(bob)
	handles := func(res M) []string {
		var out []string
		for _, u := range arr(res["users"]) {
			out = append(out, str(obj(u)["handle"]))
		}
		return out
	}
	if got := handles(e.ok(ada, "user:search", M{"query": "AL"})); strings.Join(got, ",") != "alfred,alice" {
		t.Fatalf("search AL = %v, want alfred,alice", got)
	}
	if got := handles(e.ok(ada, "user:search", M{"query": "name b"})); strings.Join(got, ",") != "bob" {
		t.Fatalf("search by name = %v, want bob", got)
	}
	if got := handles(e.ok(ada, "user:search", M{"query": "a", "limit": 1})); len(got) != 1 {
		t.Fatalf("limit 1 gave %v", got)
	}
	// Strangers found by search show no presence.
	u := obj(arr(e.ok(ada, "user:search", M{"query": "bob"})["users"])[0])
	if u["online"] != false || u["lastSeen"] != nil {
		t.Fatalf("a stranger in search results: %v", u)
	}
	for _, bad := range []M{{}, {"query": "   "}, {"query": strings.Repeat("x", 101)}, {"query": "a", "limit": 0}, {"query": "a", "limit": 51}} {
		e.fail(ada, "user:search", bad, utils.CodeValidation)
	}
	// The default limit is 20.
	for i := 0; i < 22; i++ {
		e.user("zed" + string(rune('a'+i)))
	}
	if got := handles(e.ok(ada, "user:search", M{"query": "zed"})); len(got) != 20 {
		t.Fatalf("default limit gave %d users, want 20", len(got))
	}
	if got := handles(e.ok(ada, "user:search", M{"query": "zed", "limit": 50})); len(got) != 22 {
		t.Fatalf("limit 50 gave %d users, want 22", len(got))
	}
}

func TestUserUpdateBroadcastsToContacts(t *testing.T) {
	e := newEnv(t)
	ada, bob, cid, dan := e.user("ada"), e.user("bob"), e.user("cid"), e.user("dan")
	e.befriend(ada, bob)
	e.group(ada, "g", cid)
	e.rec.take()

	u := obj(e.ok(ada, "user:update", M{"name": "  Ada L.  ", "image": "https://img.example/a.png"})["user"])
	if u["name"] != "Ada L." || u["image"] != "https://img.example/a.png" {
		t.Fatalf("user:update = %v", u)
	}
	got := targets(only(e.rec.take(), "user:updated"))
	want := map[string]int{"user:" + bob.UserID + "/" + ada.SocketID: 1, "user:" + cid.UserID + "/" + ada.SocketID: 1, "user:" + ada.UserID + "/" + ada.SocketID: 1}
	if len(got) != len(want) {
		t.Fatalf("user:updated went to %v, want %v", got, want)
	}
	for k := range want {
		if got[k] != 1 {
			t.Fatalf("user:updated went to %v, want %v (dan %s is a stranger)", got, want, dan.UserID)
		}
	}
	// image: null clears it; an absent image is left alone.
	if u := obj(e.ok(ada, "user:update", M{"image": nil})["user"]); u["image"] != nil || u["name"] != "Ada L." {
		t.Fatalf("clearing the image: %v", u)
	}
	if u := obj(e.ok(ada, "user:update", M{"name": "Ada"})["user"]); u["image"] != nil || u["name"] != "Ada" {
		t.Fatalf("renaming: %v", u)
	}
	for _, bad := range []any{M{}, M{"name": ""}, M{"name": "   "}, M{"name": strings.Repeat("n", 101)}, M{"name": "a\nb"},
		M{"image": ""}, M{"image": strings.Repeat("i", 2049)}, M{"image": "a\x00b"}, M{"name": nil}, M{"image": 5}} {
		e.fail(ada, "user:update", bad, utils.CodeValidation)
	}
	if me := obj(e.ok(ada, "user:me", nil)["user"]); me["name"] != "Ada" {
		t.Fatalf("a refused update changed the user: %v", me)
	}
}
