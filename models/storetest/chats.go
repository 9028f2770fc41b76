package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

var chatTests = []storeTest{
	{"CreateGroup", testCreateGroup},
	{"CreateDirect", testCreateDirect},
	{"DirectUniquePerPair", testDirectUnique},
	{"DirectUniqueConcurrent", testDirectUniqueConcurrent},
	{"DirectChatLookup", testDirectChatLookup},
	{"Missing", testMissingChat},
	{"SetChatName", testSetChatName},
}

func checkChat(t *testing.T, what string, got, want *models.Chat) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil chat", what)
	}
	equal(t, what+".ID", got.ID, want.ID)
	equal(t, what+".Type", got.Type, want.Type)
	sameStrPtr(t, what+".Name", got.Name, want.Name)
	sameOrder(t, what+".Participants", got.Participants, want.Participants)
	sameSet(t, what+".Admins", got.Admins, want.Admins)
	equal(t, what+".CreatedBy", got.CreatedBy, want.CreatedBy)
	sameTime(t, what+".CreatedAt", got.CreatedAt, want.CreatedAt)
	sameTime(t, what+".UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	sameTime(t, what+".LastActivity", got.LastActivity, want.LastActivity)
	equal(t, what+".LastSeq", got.LastSeq, want.LastSeq)
}

// checkChanged checks the result of a membership or name change and the chat stored
// after it. Whether such a change also moves LastActivity is not specified, so that one
// field is taken from the result.
func checkChanged(t *testing.T, s models.Store, what string, got *models.Chat, want models.Chat) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil chat", what)
	}
	want.LastActivity = got.LastActivity
	checkChat(t, what+" result", got, &want)
	checkStoredChat(t, s, what+" stored", &want)
}

// checkStoredChat reads the chat back and compares it with want.
func checkStoredChat(t *testing.T, s models.Store, what string, want *models.Chat) {
	t.Helper()
	got, err := s.ChatByID(t.Context(), want.ID)
	fatalIf(t, err, what+": ChatByID")
	checkChat(t, what, got, want)
}

func testCreateGroup(t *testing.T, s models.Store) {
	ids := newUsers(t, s, "ann", "ben", "cat")
	at := now()
	c := &models.Chat{
		ID: models.NewID(), Type: models.ChatGroup, Name: ptr("Weekend"),
		Participants: []string{ids[1], ids[0], ids[2]}, Admins: []string{ids[1]}, CreatedBy: ids[1],
		CreatedAt: at.Add(-time.Second), UpdatedAt: at, LastActivity: at,
	}
	fatalIf(t, s.CreateChat(t.Context(), c), "CreateChat")
	checkStoredChat(t, s, "group", c)
	got, err := s.ChatByID(t.Context(), c.ID)
	fatalIf(t, err, "ChatByID")
	if !got.IsMember(ids[0]) || !got.IsAdmin(ids[1]) || got.IsAdmin(ids[0]) {
		t.Errorf("membership of the stored group is wrong: %+v", got)
	}
}

func testCreateDirect(t *testing.T, s models.Store) {
	ids := newUsers(t, s, "ann", "ben")
	c := newDirect(t, s, ids[0], ids[1])
	checkStoredChat(t, s, "direct", c)
}

func testDirectUnique(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben", "cat")
	a, b, c := ids[0], ids[1], ids[2]
	group := newGroup(t, s, a, b) // a group of the same pair is no direct chat
	first := newDirect(t, s, a, b)
	wantErr(t, s.CreateChat(ctx, directChat(a, b)), models.ErrConflict, "second direct chat a,b")
	wantErr(t, s.CreateChat(ctx, directChat(b, a)), models.ErrConflict, "second direct chat b,a")
	other := newDirect(t, s, c, a)
	newGroup(t, s, b, a)

	got, err := s.ChatIDsForUser(ctx, b)
	fatalIf(t, err, "ChatIDsForUser")
	if len(got) != 3 {
		t.Errorf("chats of b = %d, want 3 (two groups and one direct chat; refused creates leave nothing)", len(got))
	}
	got, err = s.ChatIDsForUser(ctx, a)
	fatalIf(t, err, "ChatIDsForUser")
	if len(got) != 4 {
		t.Errorf("chats of a = %d, want 4", len(got))
	}
	for _, want := range []*models.Chat{group, first, other} {
		checkStoredChat(t, s, "chat after refused creates", want)
	}
}

// Both users open a direct chat with each other at the same moment: exactly one create
// wins, the others get ErrConflict.
func testDirectUniqueConcurrent(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben")
	const n = 6
	chats := make([]*models.Chat, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		a, b := ids[0], ids[1]
		if i%2 == 1 {
			a, b = b, a
		}
		chats[i] = directChat(a, b)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.CreateChat(ctx, chats[i])
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("concurrent direct creates #%d and #%d both succeeded", winner, i)
		case err == nil:
			winner = i
		default:
			wantErr(t, err, models.ErrConflict, "losing concurrent direct create")
		}
	}
	if winner < 0 {
		t.Fatalf("no concurrent direct create succeeded")
	}
	got, err := s.DirectChat(ctx, ids[0], ids[1])
	fatalIf(t, err, "DirectChat")
	equal(t, "DirectChat id", got.ID, chats[winner].ID)
	all, err := s.ChatIDsForUser(ctx, ids[0])
	fatalIf(t, err, "ChatIDsForUser")
	sameOrder(t, "chats of ann", all, []string{chats[winner].ID})
}

func testDirectChatLookup(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben", "cat")
	a, b, c := ids[0], ids[1], ids[2]
	newGroup(t, s, a, b)
	_, err := s.DirectChat(ctx, a, b)
	wantErr(t, err, models.ErrNotFound, "DirectChat before any direct chat (a group of the pair exists)")

	d := newDirect(t, s, a, b)
	newDirect(t, s, b, c)
	for _, pair := range [][2]string{{a, b}, {b, a}} {
		got, err := s.DirectChat(ctx, pair[0], pair[1])
		fatalIf(t, err, "DirectChat")
		checkChat(t, "DirectChat", got, d)
	}
	_, err = s.DirectChat(ctx, a, c)
	wantErr(t, err, models.ErrNotFound, "DirectChat of a pair without one")
	_, err = s.DirectChat(ctx, a, a)
	wantErr(t, err, models.ErrNotFound, "DirectChat of a user with themself")
	for _, bad := range malformedIDs {
		_, err = s.DirectChat(ctx, bad, b)
		wantErr(t, err, models.ErrNotFound, "DirectChat("+bad+", b)")
		_, err = s.DirectChat(ctx, a, bad)
		wantErr(t, err, models.ErrNotFound, "DirectChat(a, "+bad+")")
	}
}

func testMissingChat(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben")
	newGroup(t, s, ids[0], ids[1])
	at := now()
	for _, id := range append([]string{models.NewID()}, malformedIDs...) {
		_, err := s.ChatByID(ctx, id)
		wantErr(t, err, models.ErrNotFound, "ChatByID("+id+")")
		_, err = s.SetChatName(ctx, id, "x", at)
		wantErr(t, err, models.ErrNotFound, "SetChatName("+id+")")
		_, err = s.AddParticipants(ctx, id, []string{ids[0]}, at)
		wantErr(t, err, models.ErrNotFound, "AddParticipants("+id+")")
		_, err = s.RemoveParticipant(ctx, id, ids[0], at)
		wantErr(t, err, models.ErrNotFound, "RemoveParticipant("+id+")")
		_, err = s.SetAdmin(ctx, id, ids[0], true, at)
		wantErr(t, err, models.ErrNotFound, "SetAdmin("+id+")")
	}
	for _, id := range malformedIDs {
		chats, err := s.ChatsForUser(ctx, id, nil, 0)
		noRows(t, err, "ChatsForUser("+id+")")
		equal(t, "len(ChatsForUser("+id+"))", len(chats), 0)
		cids, err := s.ChatIDsForUser(ctx, id)
		noRows(t, err, "ChatIDsForUser("+id+")")
		equal(t, "len(ChatIDsForUser("+id+"))", len(cids), 0)
	}
}

func testSetChatName(t *testing.T, s models.Store) {
	ids := newUsers(t, s, "ann", "ben")
	c := newGroup(t, s, ids...)
	at := now().Add(time.Minute)
	got, err := s.SetChatName(t.Context(), c.ID, "Renamed", at)
	fatalIf(t, err, "SetChatName")
	want := *c
	want.Name, want.UpdatedAt = ptr("Renamed"), at
	checkChanged(t, s, "SetChatName", got, want)
}
