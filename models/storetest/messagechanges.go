package storetest

import (
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

var messageChangeTests = []storeTest{
	{"Edit", testEditMessage},
	{"Delete", testDeleteMessage},
	{"Missing", testMissingMessage},
	{"MessagesByIDs", testMessagesByIDs},
	{"LastMessages", testLastMessages},
	{"CountUnread", testCountUnread},
}

func testEditMessage(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben")
	chat := newGroup(t, s, ids...)
	m, _ := insert(t, s, &models.Message{ID: models.NewID(), ChatID: chat.ID, SenderID: ids[0], Text: "typo", ClientID: ptr("e1"), CreatedAt: now()})
	at := now().Add(time.Minute)
	got, err := s.EditMessage(ctx, m.ID, "fixed", nil, at)
	fatalIf(t, err, "EditMessage")
	want := *m
	want.Text, want.EditedAt = "fixed", &at
	checkMessage(t, "EditMessage result", got, &want)
	stored, err := s.MessageByID(ctx, m.ID)
	fatalIf(t, err, "MessageByID")
	checkMessage(t, "edited message", stored, &want)

	at2 := at.Add(time.Minute)
	got, err = s.EditMessage(ctx, m.ID, "fixed again", nil, at2)
	fatalIf(t, err, "EditMessage (second)")
	want.Text, want.EditedAt = "fixed again", &at2
	checkMessage(t, "second EditMessage result", got, &want)
	c, err := s.ChatByID(ctx, chat.ID)
	fatalIf(t, err, "ChatByID")
	equal(t, "LastSeq after edits", c.LastSeq, 1)
}

func testDeleteMessage(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben")
	chat := newGroup(t, s, ids...)
	first := send(t, s, chat.ID, ids[1], "first")
	m, _ := insert(t, s, &models.Message{ID: models.NewID(), ChatID: chat.ID, SenderID: ids[0], Text: "oops", ReplyToID: ptr(first.ID), ClientID: ptr("d1"), CreatedAt: now()})
	at := now().Add(time.Minute)
	got, err := s.DeleteMessage(ctx, m.ID, at)
	fatalIf(t, err, "DeleteMessage")
	check := func(what string, got *models.Message) {
		t.Helper()
		if got == nil {
			t.Fatalf("%s: nil message", what)
		}
		equal(t, what+".ID", got.ID, m.ID)
		equal(t, what+".ChatID", got.ChatID, chat.ID)
		equal(t, what+".Seq", got.Seq, 2)
		equal(t, what+".SenderID", got.SenderID, ids[0])
		equal(t, what+".Text", got.Text, "")
		equal(t, what+".Deleted", got.Deleted, true)
		sameTime(t, what+".CreatedAt", got.CreatedAt, m.CreatedAt)
	}
	check("DeleteMessage result", got)
	stored, err := s.MessageByID(ctx, m.ID)
	fatalIf(t, err, "MessageByID")
	check("deleted message", stored)
	got, err = s.DeleteMessage(ctx, m.ID, at.Add(time.Minute))
	fatalIf(t, err, "DeleteMessage again (idempotent)")
	check("DeleteMessage again", got)

	untouched, err := s.MessageByID(ctx, first.ID)
	fatalIf(t, err, "MessageByID")
	checkMessage(t, "the other message", untouched, first)
	c, err := s.ChatByID(ctx, chat.ID)
	fatalIf(t, err, "ChatByID")
	equal(t, "LastSeq after a delete", c.LastSeq, 2)
	equal(t, "seq of the next message", send(t, s, chat.ID, ids[0], "next").Seq, 3)
}

func testMissingMessage(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben")
	chat := newGroup(t, s, ids...)
	send(t, s, chat.ID, ids[0], "exists")
	for _, id := range append([]string{models.NewID()}, malformedIDs...) {
		_, err := s.MessageByID(ctx, id)
		wantErr(t, err, models.ErrNotFound, "MessageByID("+id+")")
		_, err = s.EditMessage(ctx, id, "x", nil, now())
		wantErr(t, err, models.ErrNotFound, "EditMessage("+id+")")
		_, err = s.DeleteMessage(ctx, id, now())
		wantErr(t, err, models.ErrNotFound, "DeleteMessage("+id+")")
	}
}

func testMessagesByIDs(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben")
	c1 := newGroup(t, s, ids...)
	c2 := newDirect(t, s, ids[0], ids[1])
	m1 := send(t, s, c1.ID, ids[0], "one")
	send(t, s, c1.ID, ids[1], "two")
	m3 := send(t, s, c2.ID, ids[1], "three")
	got, err := s.MessagesByIDs(ctx, append([]string{m3.ID, models.NewID(), m1.ID}, malformedIDs...))
	fatalIf(t, err, "MessagesByIDs")
	sameSet(t, "MessagesByIDs", messageIDs(got), []string{m1.ID, m3.ID})
	for _, m := range got {
		want := m1
		if m.ID == m3.ID {
			want = m3
		}
		checkMessage(t, "MessagesByIDs item", m, want)
	}
	got, err = s.MessagesByIDs(ctx, nil)
	fatalIf(t, err, "MessagesByIDs(nil)")
	equal(t, "len(MessagesByIDs(nil))", len(got), 0)
}

func testLastMessages(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben")
	a := newGroup(t, s, ids...)
	b := newGroup(t, s, ids...)
	empty := newGroup(t, s, ids...)
	lastA := sendN(t, s, a.ID, 3, ids...)[2]
	lastB := sendN(t, s, b.ID, 2, ids...)[1]
	_, err := s.DeleteMessage(ctx, lastB.ID, now())
	fatalIf(t, err, "DeleteMessage")

	got, err := s.LastMessages(ctx, append([]string{a.ID, b.ID, empty.ID, models.NewID()}, malformedIDs...))
	fatalIf(t, err, "LastMessages")
	equal(t, "len(LastMessages)", len(got), 2)
	checkMessage(t, "last message of a", got[a.ID], lastA)
	if m := got[b.ID]; m == nil {
		t.Errorf("LastMessages: no message for a chat whose last message is deleted")
	} else {
		equal(t, "last message of b (deleted): ID", m.ID, lastB.ID)
		equal(t, "last message of b (deleted): Seq", m.Seq, 2)
		equal(t, "last message of b (deleted): Deleted", m.Deleted, true)
	}
	if _, ok := got[empty.ID]; ok {
		t.Errorf("LastMessages has an entry for a chat without messages")
	}
	got, err = s.LastMessages(ctx, nil)
	fatalIf(t, err, "LastMessages(nil)")
	equal(t, "len(LastMessages(nil))", len(got), 0)
}

func testCountUnread(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben", "cat")
	a, b, c := ids[0], ids[1], ids[2]
	chat := newGroup(t, s, a, b, c)
	other := newGroup(t, s, a, b)
	sendN(t, s, other.ID, 4, a) // other chats never count
	// seq: 1 a, 2 a (deleted), 3 b, 4 a, 5 b, 6 a
	var sent []*models.Message
	for _, from := range []string{a, a, b, a, b, a} {
		sent = append(sent, send(t, s, chat.ID, from, "m"))
	}
	_, err := s.DeleteMessage(ctx, sent[1].ID, now())
	fatalIf(t, err, "DeleteMessage")

	for _, tc := range []struct {
		user  string
		after int64
		want  int
	}{
		{b, 0, 3}, {b, 1, 2}, {b, 2, 2}, {b, 4, 1}, {b, 6, 0}, {b, 50, 0},
		{a, 0, 2}, {a, 3, 1}, {a, 5, 0},
		{c, 0, 5}, {c, 5, 1},
	} {
		got, err := s.CountUnread(ctx, chat.ID, tc.user, tc.after)
		fatalIf(t, err, "CountUnread")
		if got != tc.want {
			t.Errorf("CountUnread(user %s, after %d) = %d, want %d", tc.user, tc.after, got, tc.want)
		}
	}
	empty := newGroup(t, s, a, b)
	n, err := s.CountUnread(ctx, empty.ID, a, 0)
	fatalIf(t, err, "CountUnread of an empty chat")
	equal(t, "CountUnread of an empty chat", n, 0)
}
