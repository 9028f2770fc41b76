package storetest

import (
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

var membershipTests = []storeTest{
	{"AddParticipants", testAddParticipants},
	{"RemoveParticipant", testRemoveParticipant},
	{"RemoveLastAdminPromotes", testRemoveLastAdmin},
	{"SetAdmin", testSetAdmin},
}

func testAddParticipants(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben", "cat", "dan")
	a, b, c, d := ids[0], ids[1], ids[2], ids[3]
	g := newGroup(t, s, a, b)
	want := *g

	at := now().Add(time.Minute)
	got, err := s.AddParticipants(ctx, g.ID, []string{c, b, d}, at)
	fatalIf(t, err, "AddParticipants")
	want.Participants, want.UpdatedAt = []string{a, b, c, d}, at // existing members skipped
	checkChanged(t, s, "AddParticipants", got, want)

	at = at.Add(time.Minute)
	got, err = s.AddParticipants(ctx, g.ID, []string{a, d}, at)
	fatalIf(t, err, "AddParticipants of members only")
	sameOrder(t, "Participants after adding members again", got.Participants, want.Participants)
	sameSet(t, "Admins after adding members again", got.Admins, want.Admins)

	chats, err := s.ChatsForUser(ctx, d, nil, 0)
	fatalIf(t, err, "ChatsForUser of an added member")
	sameOrder(t, "chats of an added member", chatIDs(chats), []string{g.ID})
}

func testRemoveParticipant(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben", "cat", "dan")
	a, b, c, d := ids[0], ids[1], ids[2], ids[3]
	g := newGroup(t, s, a, b, c, d)
	at := now().Add(time.Minute)
	got, err := s.SetAdmin(ctx, g.ID, c, true, at)
	fatalIf(t, err, "SetAdmin")
	want := *g
	want.Admins, want.UpdatedAt = []string{a, c}, at
	checkChanged(t, s, "SetAdmin", got, want)

	at = at.Add(time.Minute)
	got, err = s.RemoveParticipant(ctx, g.ID, b, at)
	fatalIf(t, err, "RemoveParticipant of a member")
	want.Participants, want.UpdatedAt = []string{a, c, d}, at
	checkChanged(t, s, "RemoveParticipant of a member", got, want)

	// Removing an admin who is not the last one removes their rights and promotes nobody.
	at = at.Add(time.Minute)
	got, err = s.RemoveParticipant(ctx, g.ID, c, at)
	fatalIf(t, err, "RemoveParticipant of an admin")
	want.Participants, want.Admins, want.UpdatedAt = []string{a, d}, []string{a}, at
	checkChanged(t, s, "RemoveParticipant of one of two admins", got, want)

	for _, gone := range []string{b, c} {
		cids, err := s.ChatIDsForUser(ctx, gone)
		fatalIf(t, err, "ChatIDsForUser")
		equal(t, "chats of a removed member", len(cids), 0)
	}
}

// When the last admin goes, the longest-standing remaining member (the first in
// Participants) becomes admin, even one who lost admin rights earlier.
func testRemoveLastAdmin(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben", "cat", "dan", "eve")
	a, b, c, d, e := ids[0], ids[1], ids[2], ids[3], ids[4]
	g := newGroup(t, s, a, b, c, d)
	want := *g
	at := now()
	step := func(what string, got *models.Chat, err error, participants, admins []string) {
		t.Helper()
		fatalIf(t, err, what)
		want.Participants, want.Admins, want.UpdatedAt = participants, admins, at
		checkChanged(t, s, what, got, want)
	}
	next := func() time.Time { at = at.Add(time.Second); return at }

	got, err := s.AddParticipants(ctx, g.ID, []string{e}, next())
	step("AddParticipants", got, err, []string{a, b, c, d, e}, []string{a})
	got, err = s.RemoveParticipant(ctx, g.ID, a, next())
	step("RemoveParticipant of the only admin", got, err, []string{b, c, d, e}, []string{b})
	got, err = s.SetAdmin(ctx, g.ID, c, true, next())
	step("SetAdmin grant", got, err, []string{b, c, d, e}, []string{b, c})
	got, err = s.SetAdmin(ctx, g.ID, b, false, next())
	step("SetAdmin revoke", got, err, []string{b, c, d, e}, []string{c})
	got, err = s.RemoveParticipant(ctx, g.ID, c, next())
	step("RemoveParticipant of the last admin", got, err, []string{b, d, e}, []string{b})
	got, err = s.RemoveParticipant(ctx, g.ID, d, next())
	step("RemoveParticipant of a non-admin", got, err, []string{b, e}, []string{b})
	got, err = s.RemoveParticipant(ctx, g.ID, b, next())
	step("RemoveParticipant of the last admin of two", got, err, []string{e}, []string{e})
	got, err = s.RemoveParticipant(ctx, g.ID, e, next())
	step("RemoveParticipant of the last member", got, err, nil, nil)
}

func testSetAdmin(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben", "cat")
	a, b, c := ids[0], ids[1], ids[2]
	g := newGroup(t, s, a, b, c)
	want := *g
	at := now()
	for _, st := range []struct {
		what   string
		user   string
		admin  bool
		admins []string
	}{
		{"grant", b, true, []string{a, b}},
		{"grant again (no duplicate)", b, true, []string{a, b}},
		{"revoke", a, false, []string{b}},
		{"revoke a non-admin", c, false, []string{b}},
		{"grant another", c, true, []string{b, c}},
	} {
		at = at.Add(time.Second)
		got, err := s.SetAdmin(ctx, g.ID, st.user, st.admin, at)
		fatalIf(t, err, "SetAdmin "+st.what)
		if st.what == "grant again (no duplicate)" || st.what == "revoke a non-admin" {
			// A no-op may or may not bump UpdatedAt.
			sameOrder(t, "Participants after SetAdmin "+st.what, got.Participants, want.Participants)
			sameSet(t, "Admins after SetAdmin "+st.what, got.Admins, st.admins)
			continue
		}
		want.Admins, want.UpdatedAt = st.admins, at
		checkChanged(t, s, "SetAdmin "+st.what, got, want)
	}
}
