package server

import (
	"testing"
	"time"

	"github.com/parley-chat/parley/config"
)

func TestEventClasses(t *testing.T) {
	for event, want := range map[string]eventClass{
		"message:new": classMessages, "message:edit": classMessages, "message:delete": classMessages,
		"message:react": classMessages, "friend:request:send": classFriendRequests,
		"friend:request:accept": classOther, "user:search": classSearch, "message:search": classSearch,
		"chat:list": classOther, "no:such:event": classOther, "": classOther,
	} {
		if got := classOf(event); got != want {
			t.Errorf("classOf(%q) = %v, want %v", event, got, want)
		}
	}
}

func TestEventLimitsArePerUserAndClass(t *testing.T) {
	l := newEventLimits(config.EventLimits{
		Messages: config.RateClass{PerSec: 1, Burst: 2}, FriendRequests: config.RateClass{PerSec: 1, Burst: 1},
		Search: config.RateClass{PerSec: 1, Burst: 1}, Other: config.RateClass{PerSec: 1, Burst: 3},
	})
	now := time.Unix(1000, 0)
	take := func(user, event string) bool { _, ok := l.take(user, event, now); return ok }
	if !take("a", "message:new") || !take("a", "message:edit") {
		t.Fatal("a's first two messages refused")
	}
	wait, ok := l.take("a", "message:new", now)
	if ok || wait != time.Second {
		t.Fatalf("a's third message: ok=%v wait=%v, want refused for 1s", ok, wait)
	}
	if !take("b", "message:new") {
		t.Fatal("b limited by a's messages")
	}
	if !take("a", "chat:list") || !take("a", "friend:request:send") || !take("a", "user:search") {
		t.Fatal("a's other classes limited by a's messages")
	}
	now = now.Add(time.Second)
	if !take("a", "message:new") {
		t.Fatal("a's bucket did not refill")
	}
}

func TestLocalSocketsReserveCountsHandshakesInProgress(t *testing.T) {
	l := newLocalSockets()
	now := time.Unix(1000, 0)
	if !l.reserve("u", 2, now) || !l.reserve("u", 2, now) {
		t.Fatal("two places for a cap of two were refused")
	}
	if l.reserve("u", 2, now) {
		t.Fatal("a third handshake got a place while two were in progress")
	}
	if !l.reserve("v", 2, now) {
		t.Fatal("another user was refused")
	}
	// A handshake refused after its reservation gives the place back at once.
	l.unreserve("u")
	if !l.reserve("u", 2, now) {
		t.Fatal("a refused handshake's place was not given back")
	}
	// A reservation whose socket never connected lapses.
	if !l.reserve("u", 2, now.Add(reservationTTL)) {
		t.Fatal("lapsed reservations still count")
	}
}
