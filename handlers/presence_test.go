package handlers_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

func TestPresenceGetShowsOnlyContacts(t *testing.T) {
	e := newEnv(t)
	ada, bob, cid, dan := e.user("ada"), e.user("bob"), e.user("cid"), e.user("dan")
	seen := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, u := range []string{ada.UserID, bob.UserID, cid.UserID, dan.UserID} {
		if err := e.store.SetLastSeen(context.Background(), u, seen); err != nil {
			t.Fatal(err)
		}
	}
	e.befriend(ada, bob)
	e.group(cid, "g", ada)
	e.connect(ada, bob, cid, dan)
	missing := models.NewID()
	res := e.ok(ada, "presence:get", M{"userIds": []string{bob.UserID, cid.UserID, dan.UserID, missing, ada.UserID}})
	list := arr(res["presence"])
	if len(list) != 5 {
		t.Fatalf("presence = %v", list)
	}
	want := []struct {
		id     string
		online bool
	}{{bob.UserID, true}, {cid.UserID, true}, {dan.UserID, false}, {missing, false}, {ada.UserID, true}}
	for i, w := range want {
		p := obj(list[i])
		if p["userId"] != w.id || p["online"] != w.online {
			t.Errorf("entry %d = %v, want %s online=%v", i, p, w.id, w.online)
		}
		if w.online && p["lastSeen"] != "2025-06-01T00:00:00.000Z" {
			t.Errorf("entry %d lastSeen = %v", i, p["lastSeen"])
		}
		if !w.online && p["lastSeen"] != nil {
			t.Errorf("entry %d (not visible) lastSeen = %v, want null", i, p["lastSeen"])
		}
	}
	many := make([]string, 201)
	for i := range many {
		many[i] = models.NewID()
	}
	for _, bad := range []M{{}, {"userIds": []string{}}, {"userIds": many}, {"userIds": []string{bob.UserID, bob.UserID}}, {"userIds": []string{""}}} {
		e.fail(ada, "presence:get", bad, utils.CodeValidation)
	}
}

func TestAnnouncePresenceGoesToContactsOnly(t *testing.T) {
	e := newEnv(t)
	ada, bob, cid, dan := e.user("ada"), e.user("bob"), e.user("cid"), e.user("dan")
	e.befriend(ada, bob)
	e.direct(cid, ada)
	_ = dan // a stranger
	e.rec.take()
	ctx := context.Background()
	e.h.AnnouncePresence(ctx, ada.UserID, true, time.Now())
	got := only(e.rec.take(), "presence:update")
	if len(got) != 2 {
		t.Fatalf("presence:update = %v, want bob and cid", got)
	}
	for _, x := range got {
		if (x.Target != bob.UserID && x.Target != cid.UserID) || x.Except != "" || x.Payload["userId"] != ada.UserID || x.Payload["online"] != true || x.Payload["lastSeen"] != nil {
			t.Fatalf("presence:update = %v", got)
		}
	}
	at := time.Date(2025, 7, 1, 10, 0, 0, 123e6, time.UTC)
	e.h.AnnouncePresence(ctx, ada.UserID, false, at)
	got = only(e.rec.take(), "presence:update")
	if len(got) != 2 || got[0].Payload["online"] != false || got[0].Payload["lastSeen"] != "2025-07-01T10:00:00.123Z" {
		t.Fatalf("offline presence:update = %v", got)
	}
	// lastSeen is stored before the update goes out.
	if u := obj(e.ok(bob, "user:get", M{"userId": ada.UserID})["user"]); u["lastSeen"] != "2025-07-01T10:00:00.123Z" {
		t.Fatalf("stored lastSeen = %v", u["lastSeen"])
	}
	// Coming back online carries the stored lastSeen.
	e.h.AnnouncePresence(ctx, ada.UserID, true, time.Now())
	if got := only(e.rec.take(), "presence:update"); len(got) != 2 || got[0].Payload["lastSeen"] != "2025-07-01T10:00:00.123Z" {
		t.Fatalf("online again = %v", got)
	}
}
