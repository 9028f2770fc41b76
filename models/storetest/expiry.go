package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

var expiryTests = []storeTest{
	{"NeverListedOrCounted", testExpiredHidden},
	{"NotCollapsedInto", testExpiredNotCollapsed},
	{"DeleteExpired", testDeleteExpired},
}

const day = 24 * time.Hour

// agedNotifications gives a user an unread notification created 31 days before at (expired),
// one 29 days before and one an hour before.
func agedNotifications(t *testing.T, s models.Store) (user string, old, recent, fresh *models.Notification, at time.Time) {
	t.Helper()
	user = newUser(t, s, "ann").ID
	at = now()
	data := func() map[string]any { return map[string]any{"requestId": models.NewID()} }
	old = newNotification(t, s, user, models.NotifyFriendRequest, data(), at.Add(-31*day))
	recent = newNotification(t, s, user, models.NotifyFriendRequest, data(), at.Add(-29*day))
	fresh = newNotification(t, s, user, models.NotifyFriendRequest, data(), at.Add(-time.Hour))
	return user, old, recent, fresh, at
}

func testExpiredHidden(t *testing.T, s models.Store) {
	user, old, recent, fresh, at := agedNotifications(t, s)
	want := []string{fresh.ID, recent.ID}
	got := listNotifications(t, s, user, models.NotificationQuery{Limit: 100, Now: at})
	sameOrder(t, "notifications (the expired one is never listed)", notificationIDs(got), want)
	got = listNotifications(t, s, user, models.NotificationQuery{Limit: 100, UnreadOnly: true, Now: at})
	sameOrder(t, "unread notifications", notificationIDs(got), want)
	got = listNotifications(t, s, user, models.NotificationQuery{Before: recent.ID, Limit: 100, Now: at})
	equal(t, "notifications older than the oldest unexpired one", len(got), 0)
	unreadCount(t, s, user, at, 2)

	// The expired one is stored: at a time when it was young, it is listed and counted.
	then := old.CreatedAt.Add(time.Hour)
	got = listNotifications(t, s, user, models.NotificationQuery{Limit: 100, Now: then})
	if !slices.Contains(notificationIDs(got), old.ID) {
		t.Errorf("a notification an hour old at q.Now is not listed")
	}
	n, err := s.UnreadNotifications(t.Context(), user, then)
	fatalIf(t, err, "UnreadNotifications")
	if n < 1 {
		t.Errorf("UnreadNotifications an hour after the creation of one = %d, want >= 1", n)
	}
}

func testExpiredNotCollapsed(t *testing.T, s models.Store) {
	user := newUser(t, s, "ann").ID
	chat := models.NewID()
	at := now()
	old := newNotification(t, s, user, models.NotifyMessage, map[string]any{"chatId": chat, "count": 5, "lastMessageId": models.NewID()}, at.Add(-31*day))
	m := models.NewID()
	n, err := s.UpsertMessageNotification(t.Context(), user, chat, m, at)
	fatalIf(t, err, "UpsertMessageNotification")
	if n.ID == old.ID {
		t.Fatalf("a message collapsed into an expired notification")
	}
	checkMessageNotification(t, "next to an expired one", n, user, chat, m, 1)
	got := listNotifications(t, s, user, models.NotificationQuery{Limit: 100, Now: at})
	sameOrder(t, "notifications", notificationIDs(got), []string{n.ID})
	unreadCount(t, s, user, at, 1)
}

func testDeleteExpired(t *testing.T, s models.Store) {
	ctx := t.Context()
	user, old, recent, fresh, at := agedNotifications(t, s)
	then := old.CreatedAt.Add(time.Hour)
	removed, err := s.DeleteExpiredNotifications(ctx, at.Add(-models.NotificationTTL))
	fatalIf(t, err, "DeleteExpiredNotifications")
	equal(t, "notifications removed", removed, 1)

	got := listNotifications(t, s, user, models.NotificationQuery{Limit: 100, Now: then})
	if slices.Contains(notificationIDs(got), old.ID) {
		t.Errorf("DeleteExpiredNotifications left the expired notification")
	}
	got = listNotifications(t, s, user, models.NotificationQuery{Limit: 100, Now: at})
	sameOrder(t, "notifications after removing the expired", notificationIDs(got), []string{fresh.ID, recent.ID})
	removed, err = s.DeleteExpiredNotifications(ctx, at.Add(-models.NotificationTTL))
	fatalIf(t, err, "DeleteExpiredNotifications again")
	equal(t, "notifications removed again", removed, 0)
}
