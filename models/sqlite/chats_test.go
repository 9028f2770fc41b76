package sqlite

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/parley-chat/parley/models"
)

func TestDirectChats(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a, b := models.NewID(), models.NewID()
	c := &models.Chat{ID: models.NewID(), Type: models.ChatDirect, Participants: []string{b, a}, Admins: []string{},
		CreatedBy: b, CreatedAt: t0, UpdatedAt: t0, LastActivity: t0}
	if err := s.CreateChat(ctx, c); err != nil {
		t.Fatal(err)
	}
	dup := &models.Chat{ID: models.NewID(), Type: models.ChatDirect, Participants: []string{a, b}, CreatedBy: a, CreatedAt: t0}
	if err := s.CreateChat(ctx, dup); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("second direct chat: %v", err)
	}
	got, err := s.DirectChat(ctx, a, b)
	if err != nil || got.ID != c.ID || !slices.Equal(got.Participants, []string{b, a}) || got.Name != nil || len(got.Admins) != 0 {
		t.Fatalf("DirectChat: %+v %v", got, err)
	}
	if _, err := s.DirectChat(ctx, a, models.NewID()); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("DirectChat missing: %v", err)
	}
	if _, err := s.DirectChat(ctx, a, "x"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("DirectChat malformed: %v", err)
	}
	if _, err := s.ChatByID(ctx, dup.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("conflicting chat was stored: %v", err)
	}
}

func TestGroupMembership(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a, b, c, d := models.NewID(), models.NewID(), models.NewID(), models.NewID()
	g := mkGroup(t, s, t0, a, b, c)
	got, err := s.ChatByID(ctx, g.ID)
	if err != nil || *got.Name != "group" || !slices.Equal(got.Participants, []string{a, b, c}) ||
		!slices.Equal(got.Admins, []string{a}) || got.CreatedBy != a || got.LastSeq != 0 || !got.LastActivity.Equal(t0) {
		t.Fatalf("ChatByID: %+v %v", got, err)
	}
	if got, err = s.SetChatName(ctx, g.ID, "renamed", at(1)); err != nil || *got.Name != "renamed" || !got.UpdatedAt.Equal(at(1)) {
		t.Fatalf("SetChatName: %+v %v", got, err)
	}
	if _, err := s.SetChatName(ctx, models.NewID(), "x", at(1)); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("SetChatName missing: %v", err)
	}
	if got, err = s.AddParticipants(ctx, g.ID, []string{b, d, "bad", d}, at(2)); err != nil || !slices.Equal(got.Participants, []string{a, b, c, d}) {
		t.Fatalf("AddParticipants: %+v %v", got, err)
	}
	if got, err = s.SetAdmin(ctx, g.ID, c, true, at(3)); err != nil || !slices.Equal(got.Admins, []string{a, c}) {
		t.Fatalf("SetAdmin c: %+v %v", got, err)
	}
	if got, err = s.SetAdmin(ctx, g.ID, c, true, at(3)); err != nil || !slices.Equal(got.Admins, []string{a, c}) {
		t.Fatalf("SetAdmin c again: %+v %v", got, err)
	}
	if _, err = s.SetAdmin(ctx, g.ID, models.NewID(), true, at(3)); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("SetAdmin non-member: %v", err)
	}
	if got, err = s.SetAdmin(ctx, g.ID, a, false, at(4)); err != nil || !slices.Equal(got.Admins, []string{c}) {
		t.Fatalf("SetAdmin revoke a: %+v %v", got, err)
	}
	// Removing the only admin promotes the longest-standing remaining member (a).
	if got, err = s.RemoveParticipant(ctx, g.ID, c, at(5)); err != nil || !slices.Equal(got.Participants, []string{a, b, d}) ||
		!slices.Equal(got.Admins, []string{a}) {
		t.Fatalf("RemoveParticipant: %+v %v", got, err)
	}
	if got, err = s.RemoveParticipant(ctx, g.ID, a, at(6)); err != nil || !slices.Equal(got.Participants, []string{b, d}) ||
		!slices.Equal(got.Admins, []string{b}) {
		t.Fatalf("RemoveParticipant a: %+v %v", got, err)
	}
	// A re-added member goes to the end of the join order.
	if got, err = s.AddParticipants(ctx, g.ID, []string{a}, at(7)); err != nil || !slices.Equal(got.Participants, []string{b, d, a}) {
		t.Fatalf("re-add: %+v %v", got, err)
	}
	for _, u := range []string{b, d, a} {
		if got, err = s.RemoveParticipant(ctx, g.ID, u, at(8)); err != nil {
			t.Fatal(err)
		}
	}
	if len(got.Participants) != 0 || len(got.Admins) != 0 {
		t.Fatalf("empty group: %+v", got)
	}
	if _, err := s.RemoveParticipant(ctx, "bad", a, at(8)); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("RemoveParticipant malformed: %v", err)
	}
}

func TestChatsForUser(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	u, other := models.NewID(), models.NewID()
	var ids []string
	// Chats 0..4, with chats 1 and 2 sharing a lastActivity so the id breaks the tie.
	acts := []int{10, 20, 20, 30, 5}
	for _, sec := range acts {
		ids = append(ids, mkGroup(t, s, at(sec), u, other).ID)
	}
	mkGroup(t, s, at(100), other) // not u's
	send(t, s, ids[4], other, "hi", at(50))

	all, err := s.ChatsForUser(ctx, u, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	hi, lo := ids[1], ids[2]
	if hi < lo {
		hi, lo = lo, hi
	}
	want := []string{ids[4], ids[3], hi, lo, ids[0]}
	var got []string
	for _, c := range all {
		got = append(got, c.ID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("order: got %v want %v", got, want)
	}
	if all[0].LastSeq != 1 || !all[0].LastActivity.Equal(at(50)) || len(all[0].Participants) != 2 {
		t.Fatalf("chat after message: %+v", all[0])
	}
	// Page through two at a time with the cursor.
	var paged []string
	var cur *models.ChatCursor
	for {
		page, err := s.ChatsForUser(ctx, u, cur, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, c := range page {
			paged = append(paged, c.ID)
		}
		last := page[len(page)-1]
		cur = &models.ChatCursor{LastActivity: last.LastActivity, ID: last.ID}
	}
	if !slices.Equal(paged, want) {
		t.Fatalf("paged: got %v want %v", paged, want)
	}
	cids, err := s.ChatIDsForUser(ctx, u)
	if err != nil || len(cids) != 5 {
		t.Fatalf("ChatIDsForUser: %v %v", cids, err)
	}
	if cs, err := s.ChatsForUser(ctx, "bad", nil, 0); err != nil || len(cs) != 0 {
		t.Fatalf("malformed user: %v %v", cs, err)
	}
}
