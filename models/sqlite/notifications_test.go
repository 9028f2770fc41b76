package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

func TestMessageNotificationCollapse(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	u, chat, other := models.NewID(), models.NewID(), models.NewID()
	m1, m2, m3 := models.NewID(), models.NewID(), models.NewID()
	n1, err := s.UpsertMessageNotification(ctx, u, chat, m1, at(1))
	if err != nil || n1.Type != models.NotifyMessage || n1.Data["count"] != float64(1) || n1.Data["lastMessageId"] != m1 || n1.Data["chatId"] != chat {
		t.Fatalf("first: %+v %v", n1, err)
	}
	n2, err := s.UpsertMessageNotification(ctx, u, chat, m2, at(2))
	if err != nil || n2.ID != n1.ID || n2.Data["count"] != float64(2) || n2.Data["lastMessageId"] != m2 ||
		!n2.CreatedAt.Equal(at(1)) || !n2.UpdatedAt.Equal(at(2)) {
		t.Fatalf("collapsed: %+v %v", n2, err)
	}
	// Another chat gets its own notification.
	if n, _ := s.UpsertMessageNotification(ctx, u, other, m3, at(3)); n.ID == n1.ID {
		t.Fatal("chats must not share a notification")
	}
	// Once read, the next message starts a new one.
	if err := s.MarkNotificationsRead(ctx, u, []string{n1.ID}, false); err != nil {
		t.Fatal(err)
	}
	n4, err := s.UpsertMessageNotification(ctx, u, chat, m3, at(4))
	if err != nil || n4.ID == n1.ID || n4.Data["count"] != float64(1) {
		t.Fatalf("after read: %+v %v", n4, err)
	}
	// An expired unread one is not reused either.
	later := at(4).Add(models.NotificationTTL + time.Second)
	n5, err := s.UpsertMessageNotification(ctx, u, chat, m3, later)
	if err != nil || n5.ID == n4.ID {
		t.Fatalf("after expiry: %+v %v", n5, err)
	}
	list, err := s.ListNotifications(ctx, u, models.NotificationQuery{Now: later})
	if err != nil || len(list) != 1 || list[0].ID != n5.ID {
		t.Fatalf("expired ones must not be listed: %v %v", list, err)
	}
}

func TestListNotifications(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	u, v := models.NewID(), models.NewID()
	var ids []string
	for i := range 5 {
		n := &models.Notification{ID: models.NewID(), UserID: u, Type: models.NotifyFriendRequest,
			Data: map[string]any{"i": i, "from": "x"}, CreatedAt: at(i), UpdatedAt: at(i)}
		if i == 3 { // same time as 2: id breaks the tie
			n.CreatedAt = at(2)
		}
		if err := s.CreateNotification(ctx, n); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, n.ID)
	}
	if err := s.CreateNotification(ctx, &models.Notification{ID: models.NewID(), UserID: v, Type: models.NotifyChatAdded, CreatedAt: at(1)}); err != nil {
		t.Fatal(err)
	}
	now := at(10)
	all, err := s.ListNotifications(ctx, u, models.NotificationQuery{Now: now})
	if err != nil || len(all) != 5 {
		t.Fatalf("all: %v %v", all, err)
	}
	for i := 1; i < len(all); i++ {
		p, c := all[i-1], all[i]
		if p.CreatedAt.Before(c.CreatedAt) || (p.CreatedAt.Equal(c.CreatedAt) && p.ID < c.ID) {
			t.Fatalf("order at %d", i)
		}
	}
	if all[0].Data["i"] != float64(4) || all[0].Data["from"] != "x" {
		t.Fatalf("data: %v", all[0].Data)
	}
	var paged []string
	before := ""
	for {
		page, err := s.ListNotifications(ctx, u, models.NotificationQuery{Before: before, Limit: 2, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, n := range page {
			paged = append(paged, n.ID)
		}
		before = page[len(page)-1].ID
	}
	for i := range all {
		if paged[i] != all[i].ID {
			t.Fatalf("paging: %v vs listing", paged)
		}
	}
	if n, err := s.UnreadNotifications(ctx, u, now); err != nil || n != 5 {
		t.Fatalf("unread: %d %v", n, err)
	}
	// Another user's id is ignored.
	if err := s.MarkNotificationsRead(ctx, v, []string{ids[0]}, false); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkNotificationsRead(ctx, u, []string{ids[0], ids[1], "bad"}, false); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.UnreadNotifications(ctx, u, now); n != 3 {
		t.Fatalf("unread after marking 2: %d", n)
	}
	unread, _ := s.ListNotifications(ctx, u, models.NotificationQuery{UnreadOnly: true, Now: now})
	if len(unread) != 3 {
		t.Fatalf("unreadOnly: %d", len(unread))
	}
	if err := s.MarkNotificationsRead(ctx, u, nil, true); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.UnreadNotifications(ctx, u, now); n != 0 {
		t.Fatalf("unread after all: %d", n)
	}
	if n, err := s.DeleteExpiredNotifications(ctx, at(2)); err != nil || n != 3 { // v's at(1), u's at(0) and at(1)
		t.Fatalf("DeleteExpired: %d %v", n, err)
	}
	if left, _ := s.ListNotifications(ctx, u, models.NotificationQuery{Now: now}); len(left) != 3 {
		t.Fatalf("left: %d", len(left))
	}
}
