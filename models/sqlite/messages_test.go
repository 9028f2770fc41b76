package sqlite

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/parley-chat/parley/models"
)

func TestInsertMessage(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a, b := models.NewID(), models.NewID()
	g := mkGroup(t, s, t0, a, b)
	cid, reply := "c-1", models.NewID()
	in := &models.Message{ID: models.NewID(), ChatID: g.ID, SenderID: a, Text: "hello", ReplyToID: &reply, ClientID: &cid, CreatedAt: at(1).Add(1500000)}
	m, created, err := s.InsertMessage(ctx, in)
	if err != nil || !created || m.Seq != 1 || in.Seq != 1 || !m.CreatedAt.Equal(at(1).Add(1000000)) {
		t.Fatalf("first: %+v %v %v", m, created, err)
	}
	// Same (sender, chat, clientId): the original comes back, nothing is stored.
	again, created, err := s.InsertMessage(ctx, &models.Message{ID: models.NewID(), ChatID: g.ID, SenderID: a, Text: "other", ClientID: &cid, CreatedAt: at(2)})
	if err != nil || created || again.ID != m.ID || again.Seq != 1 || again.Text != "hello" || *again.ReplyToID != reply {
		t.Fatalf("duplicate: %+v %v %v", again, created, err)
	}
	// The same clientId from another sender is a different message.
	if m2, created, err := s.InsertMessage(ctx, &models.Message{ID: models.NewID(), ChatID: g.ID, SenderID: b, Text: "b", ClientID: &cid, CreatedAt: at(3)}); err != nil || !created || m2.Seq != 2 {
		t.Fatalf("other sender: %+v %v %v", m2, created, err)
	}
	if _, _, err := s.InsertMessage(ctx, &models.Message{ID: models.NewID(), ChatID: models.NewID(), SenderID: a, Text: "x", CreatedAt: at(3)}); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("missing chat: %v", err)
	}
	if _, _, err := s.InsertMessage(ctx, &models.Message{ID: models.NewID(), ChatID: "bad", SenderID: a, Text: "x", CreatedAt: at(3)}); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("malformed chat: %v", err)
	}
	c, _ := s.ChatByID(ctx, g.ID)
	if c.LastSeq != 2 || !c.LastActivity.Equal(at(3)) {
		t.Fatalf("chat after inserts: %+v", c)
	}
	got, err := s.MessageByID(ctx, m.ID)
	if err != nil || got.Text != "hello" || *got.ClientID != cid || got.EditedAt != nil || got.Deleted {
		t.Fatalf("MessageByID: %+v %v", got, err)
	}
}

func TestListMessages(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a := models.NewID()
	g := mkGroup(t, s, t0, a)
	for i := 1; i <= 10; i++ {
		send(t, s, g.ID, a, "m", at(i))
	}
	cases := []struct {
		name    string
		q       models.MessageQuery
		want    []int64
		hasMore bool
	}{
		{"newest", models.MessageQuery{Limit: 3}, []int64{8, 9, 10}, true},
		{"all", models.MessageQuery{Limit: 10}, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, false},
		{"before", models.MessageQuery{Before: 5, Limit: 3}, []int64{2, 3, 4}, true},
		{"before exact", models.MessageQuery{Before: 4, Limit: 3}, []int64{1, 2, 3}, false},
		{"after", models.MessageQuery{After: 5, Limit: 3}, []int64{6, 7, 8}, true},
		{"after exact", models.MessageQuery{After: 7, Limit: 3}, []int64{8, 9, 10}, false},
		{"after end", models.MessageQuery{After: 10, Limit: 3}, []int64{}, false},
		{"both", models.MessageQuery{After: 2, Before: 9, Limit: 3}, []int64{3, 4, 5}, true},
		{"both fits", models.MessageQuery{After: 2, Before: 6, Limit: 3}, []int64{3, 4, 5}, false},
		{"default limit", models.MessageQuery{}, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, false},
	}
	for _, tc := range cases {
		page, more, err := s.ListMessages(ctx, g.ID, tc.q)
		if err != nil || !slices.Equal(seqs(page), tc.want) || more != tc.hasMore {
			t.Errorf("%s: got %v more=%v err=%v; want %v more=%v", tc.name, seqs(page), more, err, tc.want, tc.hasMore)
		}
	}
	if page, more, err := s.ListMessages(ctx, "bad", models.MessageQuery{Limit: 3}); err != nil || len(page) != 0 || more {
		t.Fatalf("malformed chat: %v %v %v", page, more, err)
	}
}

func TestEditDeleteUnread(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a, b := models.NewID(), models.NewID()
	g := mkGroup(t, s, t0, a, b)
	g2 := mkGroup(t, s, t0, a, b)
	m1 := send(t, s, g.ID, a, "one", at(1))
	m2 := send(t, s, g.ID, b, "two", at(2))
	m3 := send(t, s, g.ID, b, "three", at(3))
	send(t, s, g.ID, b, "four", at(4))

	e, err := s.EditMessage(ctx, m2.ID, "two!", nil, at(5))
	if err != nil || e.Text != "two!" || e.EditedAt == nil || !e.EditedAt.Equal(at(5)) || e.Seq != 2 {
		t.Fatalf("EditMessage: %+v %v", e, err)
	}
	if _, err := s.EditMessage(ctx, models.NewID(), "x", nil, at(5)); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("EditMessage missing: %v", err)
	}
	for range 2 { // idempotent
		d, err := s.DeleteMessage(ctx, m3.ID, at(6))
		if err != nil || !d.Deleted || d.Text != "" || d.Seq != 3 || d.ID != m3.ID {
			t.Fatalf("DeleteMessage: %+v %v", d, err)
		}
	}
	if _, err := s.DeleteMessage(ctx, "bad", at(6)); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("DeleteMessage malformed: %v", err)
	}
	page, _, _ := s.ListMessages(ctx, g.ID, models.MessageQuery{Limit: 10})
	if len(page) != 4 || !page[2].Deleted || page[2].Text != "" {
		t.Fatalf("deleted message must stay listed: %+v", page[2])
	}
	// a has read nothing: b's messages 2 and 4 count, 3 is deleted, 1 is a's own.
	if n, err := s.CountUnread(ctx, g.ID, a, 0); err != nil || n != 2 {
		t.Fatalf("CountUnread a: %d %v", n, err)
	}
	if n, err := s.CountUnread(ctx, g.ID, a, 2); err != nil || n != 1 {
		t.Fatalf("CountUnread a after 2: %d %v", n, err)
	}
	if n, err := s.CountUnread(ctx, g.ID, b, 0); err != nil || n != 1 {
		t.Fatalf("CountUnread b: %d %v", n, err)
	}
	last, err := s.LastMessages(ctx, []string{g.ID, g2.ID, "bad"})
	if err != nil || len(last) != 1 || last[g.ID].Seq != 4 {
		t.Fatalf("LastMessages: %v %v", last, err)
	}
	byIDs, err := s.MessagesByIDs(ctx, []string{m1.ID, m2.ID, "bad", models.NewID()})
	if err != nil || len(byIDs) != 2 {
		t.Fatalf("MessagesByIDs: %v %v", byIDs, err)
	}
}

func TestReadMarks(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	u, c1, c2 := models.NewID(), models.NewID(), models.NewID()
	for _, step := range []struct{ seq, want int64 }{{5, 5}, {3, 5}, {9, 9}} {
		if got, err := s.MarkRead(ctx, c1, u, step.seq); err != nil || got != step.want {
			t.Fatalf("MarkRead(%d): %d %v", step.seq, got, err)
		}
	}
	got, err := s.ReadSeqs(ctx, u, []string{c1, c2})
	if err != nil || got[c1] != 9 || got[c2] != 0 || len(got) != 2 {
		t.Fatalf("ReadSeqs: %v %v", got, err)
	}
}
