package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

var notificationTests = []storeTest{
	{"CreateAndList", testNotificationsList},
	{"Paging", testNotificationsPaging},
	{"UnreadOnly", testNotificationsUnreadOnly},
	{"MarkRead", testMarkNotificationsRead},
	{"UpsertMessage", testUpsertMessageNotification},
	{"DuplicateID", testNotificationDuplicateID},
}

// A notification whose id exists is refused with ErrConflict and changes nothing: mention
// notifications take their id from (user, message), and this is what keeps a user from
// being notified twice of one message, from any node.
func testNotificationDuplicateID(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben")
	msgID := models.NewID()
	at := now()
	id := models.MentionNotificationID(ids[0], msgID)
	if id != models.MentionNotificationID(ids[0], msgID) || id == models.MentionNotificationID(ids[1], msgID) || !models.ValidID(id) {
		t.Fatalf("MentionNotificationID is not a stable 24-hex id per (user, message): %s", id)
	}
	first := &models.Notification{ID: id, UserID: ids[0], Type: models.NotifyMention,
		Data: map[string]any{"messageId": msgID, "seq": 1}, CreatedAt: at, UpdatedAt: at}
	fatalIf(t, s.CreateNotification(ctx, first), "CreateNotification")
	again := &models.Notification{ID: id, UserID: ids[0], Type: models.NotifyMention,
		Data: map[string]any{"messageId": msgID, "seq": 2}, CreatedAt: at.Add(time.Second), UpdatedAt: at.Add(time.Second)}
	wantErr(t, s.CreateNotification(ctx, again), models.ErrConflict, "CreateNotification with an existing id")
	other := &models.Notification{ID: models.MentionNotificationID(ids[1], msgID), UserID: ids[1], Type: models.NotifyMention,
		Data: map[string]any{"messageId": msgID}, CreatedAt: at, UpdatedAt: at}
	fatalIf(t, s.CreateNotification(ctx, other), "CreateNotification for another user of the same message")
	got := listNotifications(t, s, ids[0], models.NotificationQuery{Limit: 10, Now: at.Add(time.Minute)})
	if len(got) != 1 {
		t.Fatalf("after the refused duplicate: %d notifications, want 1", len(got))
	}
	checkNotification(t, "the original", got[0], first)
	unreadCount(t, s, ids[0], at.Add(time.Minute), 1)
}

func newNotification(t *testing.T, s models.Store, user, typ string, data map[string]any, at time.Time) *models.Notification {
	t.Helper()
	n := &models.Notification{ID: models.NewID(), UserID: user, Type: typ, Data: data, CreatedAt: at, UpdatedAt: at}
	fatalIf(t, s.CreateNotification(t.Context(), n), "CreateNotification")
	return n
}

func checkNotification(t *testing.T, what string, got, want *models.Notification) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil notification", what)
	}
	equal(t, what+".ID", got.ID, want.ID)
	equal(t, what+".UserID", got.UserID, want.UserID)
	equal(t, what+".Type", got.Type, want.Type)
	equal(t, what+".Read", got.Read, want.Read)
	sameTime(t, what+".CreatedAt", got.CreatedAt, want.CreatedAt)
	checkData(t, what+".Data", got.Data, want.Data)
}

// checkData compares the string and integer fields of notification data.
func checkData(t *testing.T, what string, got, want map[string]any) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s has no %q", what, k)
			continue
		}
		if wn, isNum := number(w); isNum {
			if gn, ok := number(g); !ok || gn != wn {
				t.Errorf("%s[%q] = %v (%T), want %d", what, k, g, g, wn)
			}
		} else if g != w {
			t.Errorf("%s[%q] = %v, want %v", what, k, g, w)
		}
	}
}

func listNotifications(t *testing.T, s models.Store, user string, q models.NotificationQuery) []*models.Notification {
	t.Helper()
	got, err := s.ListNotifications(t.Context(), user, q)
	fatalIf(t, err, "ListNotifications")
	return got
}

func unreadCount(t *testing.T, s models.Store, user string, at time.Time, want int) {
	t.Helper()
	got, err := s.UnreadNotifications(t.Context(), user, at)
	fatalIf(t, err, "UnreadNotifications")
	equal(t, "UnreadNotifications", got, want)
}

// sevenNotifications gives user seven notifications at distinct and tied times, created in
// neither listing order nor its reverse, and another user one; it returns them in listing
// order (CreatedAt desc, then ID desc) and the time to list at.
func sevenNotifications(t *testing.T, s models.Store) (user string, want []*models.Notification, at time.Time) {
	t.Helper()
	ids := newUsers(t, s, "ann", "ben")
	at = now()
	m := func(n int) time.Time { return at.Add(-time.Duration(n) * time.Minute) }
	mk := func(n int, typ string) *models.Notification {
		return newNotification(t, s, ids[0], typ, map[string]any{"chatId": models.NewID(), "n": n}, m(n))
	}
	n3a := mk(3, models.NotifyChatAdded)
	n1 := mk(1, models.NotifyFriendRequest)
	n5 := mk(5, models.NotifyFriendAccepted)
	n3b := mk(3, models.NotifyChatAdded)
	n2 := mk(2, models.NotifyFriendRequest)
	n3c := mk(3, models.NotifyChatAdded)
	n6 := mk(6, models.NotifyChatAdded)
	newNotification(t, s, ids[1], models.NotifyChatAdded, map[string]any{"chatId": models.NewID()}, m(0))
	// Ids from models.NewID grow in creation order, so the later-created of a tie comes first.
	return ids[0], []*models.Notification{n1, n2, n3c, n3b, n3a, n5, n6}, at
}

func testNotificationsList(t *testing.T, s models.Store) {
	user, want, at := sevenNotifications(t, s)
	got := listNotifications(t, s, user, models.NotificationQuery{Limit: 100, Now: at})
	sameOrder(t, "notifications (newest first)", notificationIDs(got), notificationIDs(want))
	if len(got) == len(want) {
		for i := range got {
			checkNotification(t, fmt.Sprintf("notification %d", i), got[i], want[i])
		}
	}
	got = listNotifications(t, s, user, models.NotificationQuery{Limit: 3, Now: at})
	sameOrder(t, "first 3 notifications", notificationIDs(got), notificationIDs(want[:3]))
	unreadCount(t, s, user, at, 7)

	nobody := newUser(t, s, "nobody")
	got = listNotifications(t, s, nobody.ID, models.NotificationQuery{Limit: 100, Now: at})
	equal(t, "notifications of a user without any", len(got), 0)
	unreadCount(t, s, nobody.ID, at, 0)
}

func testNotificationsPaging(t *testing.T, s models.Store) {
	user, want, at := sevenNotifications(t, s)
	for _, limit := range []int{1, 2, 3, 7, 8} {
		var all []string
		before := ""
		for page := 0; ; page++ {
			if page > len(want)+1 {
				t.Fatalf("limit %d: paging does not end", limit)
			}
			got := listNotifications(t, s, user, models.NotificationQuery{Before: before, Limit: limit, Now: at})
			if len(got) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(got))
			}
			all = append(all, notificationIDs(got)...)
			if len(got) < limit {
				break
			}
			before = got[len(got)-1].ID
		}
		sameOrder(t, fmt.Sprintf("notifications paged by %d", limit), all, notificationIDs(want))
	}
}

func testNotificationsUnreadOnly(t *testing.T, s models.Store) {
	ctx := t.Context()
	user, want, at := sevenNotifications(t, s)
	fatalIf(t, s.MarkNotificationsRead(ctx, user, []string{want[0].ID, want[3].ID, want[4].ID}, false), "MarkNotificationsRead")
	unread := []*models.Notification{want[1], want[2], want[5], want[6]}
	got := listNotifications(t, s, user, models.NotificationQuery{Limit: 100, UnreadOnly: true, Now: at})
	sameOrder(t, "unread notifications", notificationIDs(got), notificationIDs(unread))
	got = listNotifications(t, s, user, models.NotificationQuery{Limit: 2, UnreadOnly: true, Now: at})
	sameOrder(t, "first page of unread notifications", notificationIDs(got), notificationIDs(unread[:2]))
	if len(got) == 2 {
		got = listNotifications(t, s, user, models.NotificationQuery{Before: got[1].ID, Limit: 2, UnreadOnly: true, Now: at})
		sameOrder(t, "second page of unread notifications", notificationIDs(got), notificationIDs(unread[2:]))
	}
	got = listNotifications(t, s, user, models.NotificationQuery{Limit: 100, Now: at})
	sameOrder(t, "all notifications", notificationIDs(got), notificationIDs(want))
	for _, n := range got {
		read := n.ID == want[0].ID || n.ID == want[3].ID || n.ID == want[4].ID
		equal(t, "Read of notification "+n.ID, n.Read, read)
	}
	unreadCount(t, s, user, at, 4)
}

func testMarkNotificationsRead(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben")
	u, v := ids[0], ids[1]
	at := now()
	var mine, theirs []string
	for i := range 3 {
		mine = append(mine, newNotification(t, s, u, models.NotifyFriendRequest, map[string]any{"requestId": models.NewID()}, at.Add(-time.Duration(i)*time.Second)).ID)
		if i < 2 {
			theirs = append(theirs, newNotification(t, s, v, models.NotifyFriendRequest, map[string]any{"requestId": models.NewID()}, at).ID)
		}
	}
	ask := append([]string{mine[0], theirs[0], models.NewID()}, malformedIDs...)
	fatalIf(t, s.MarkNotificationsRead(ctx, u, ask, false), "MarkNotificationsRead with foreign and unknown ids")
	unreadCount(t, s, u, at, 2)
	unreadCount(t, s, v, at, 2) // other users' ids are ignored
	fatalIf(t, s.MarkNotificationsRead(ctx, u, mine[:1], false), "MarkNotificationsRead again (idempotent)")
	unreadCount(t, s, u, at, 2)
	fatalIf(t, s.MarkNotificationsRead(ctx, u, nil, false), "MarkNotificationsRead of nothing")
	unreadCount(t, s, u, at, 2)
	fatalIf(t, s.MarkNotificationsRead(ctx, u, nil, true), "MarkNotificationsRead all")
	unreadCount(t, s, u, at, 0)
	unreadCount(t, s, v, at, 2)
	for _, n := range listNotifications(t, s, u, models.NotificationQuery{Limit: 100, Now: at}) {
		equal(t, "Read after marking all", n.Read, true)
	}
	for _, n := range listNotifications(t, s, v, models.NotificationQuery{Limit: 100, Now: at}) {
		equal(t, "Read of another user's notification", n.Read, false)
	}
	got := listNotifications(t, s, u, models.NotificationQuery{Limit: 100, UnreadOnly: true, Now: at})
	equal(t, "unread notifications after marking all", len(got), 0)
}

// checkMessageNotification checks the fields UpsertMessageNotification maintains.
func checkMessageNotification(t *testing.T, what string, n *models.Notification, user, chatID, lastMessageID string, count int) {
	t.Helper()
	if n == nil {
		t.Fatalf("%s: nil notification", what)
	}
	if !models.ValidID(n.ID) {
		t.Errorf("%s: id %q is not a 24-hex id", what, n.ID)
	}
	equal(t, what+".UserID", n.UserID, user)
	equal(t, what+".Type", n.Type, models.NotifyMessage)
	checkData(t, what+".Data", n.Data, map[string]any{"chatId": chatID, "lastMessageId": lastMessageID, "count": count})
}

func testUpsertMessageNotification(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben", "cat")
	u, v, w := ids[0], ids[1], ids[2]
	c1, c2 := models.NewID(), models.NewID()
	msg := func() string { return models.NewID() }
	at := now().Add(-time.Hour)
	next := func() time.Time { at = at.Add(time.Second); return at }
	upsert := func(user, chatID, messageID string) *models.Notification {
		t.Helper()
		n, err := s.UpsertMessageNotification(ctx, user, chatID, messageID, next())
		fatalIf(t, err, "UpsertMessageNotification")
		return n
	}

	m1 := msg()
	first := upsert(u, c1, m1)
	checkMessageNotification(t, "first", first, u, c1, m1, 1)
	equal(t, "first.Read", first.Read, false)
	sameTime(t, "first.CreatedAt", first.CreatedAt, at)

	m2 := msg()
	collapsed := upsert(u, c1, m2)
	checkMessageNotification(t, "collapsed", collapsed, u, c1, m2, 2)
	equal(t, "collapsed into the first", collapsed.ID, first.ID)
	m3 := msg()
	collapsed = upsert(u, c1, m3)
	checkMessageNotification(t, "collapsed twice", collapsed, u, c1, m3, 3)
	equal(t, "collapsed twice into the first", collapsed.ID, first.ID)

	otherChat := upsert(u, c2, msg())
	if otherChat.ID == first.ID {
		t.Errorf("a message in another chat collapsed into the first chat's notification")
	}
	mv := msg()
	otherUser := upsert(v, c1, mv)
	if otherUser.ID == first.ID {
		t.Errorf("another user's message notification collapsed into u's")
	}
	checkMessageNotification(t, "other user's", otherUser, v, c1, mv, 1)

	list := listNotifications(t, s, u, models.NotificationQuery{Limit: 100, Now: next()})
	sameSet(t, "u's notifications", notificationIDs(list), []string{first.ID, otherChat.ID})
	for _, n := range list {
		if n.ID == first.ID {
			checkMessageNotification(t, "listed collapsed", n, u, c1, m3, 3)
		}
	}
	unreadCount(t, s, u, at, 2)

	// A read notification is not collapsed into: the next message starts a new one.
	fatalIf(t, s.MarkNotificationsRead(ctx, u, []string{first.ID}, false), "MarkNotificationsRead")
	m4 := msg()
	fresh := upsert(u, c1, m4)
	if fresh.ID == first.ID {
		t.Fatalf("a message collapsed into a read notification")
	}
	checkMessageNotification(t, "after read", fresh, u, c1, m4, 1)
	sameTime(t, "after read: CreatedAt", fresh.CreatedAt, at)
	for _, n := range listNotifications(t, s, u, models.NotificationQuery{Limit: 100, Now: next()}) {
		if n.ID == first.ID {
			checkMessageNotification(t, "read one", n, u, c1, m3, 3)
			equal(t, "read one: Read", n.Read, true)
		}
	}

	// Only "message" notifications collapse.
	added := newNotification(t, s, w, models.NotifyChatAdded, map[string]any{"chatId": c1}, next())
	m5 := msg()
	n := upsert(w, c1, m5)
	if n.ID == added.ID {
		t.Fatalf("a message collapsed into a chat:added notification")
	}
	checkMessageNotification(t, "next to chat:added", n, w, c1, m5, 1)
	for _, got := range listNotifications(t, s, w, models.NotificationQuery{Limit: 100, Now: next()}) {
		if got.ID == added.ID {
			checkNotification(t, "chat:added after an upsert", got, added)
			if _, has := got.Data["count"]; has {
				t.Errorf("chat:added notification gained a count: %v", got.Data)
			}
		}
	}
}
