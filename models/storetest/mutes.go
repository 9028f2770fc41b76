package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

var muteTests = []storeTest{
	{"SetAndLift", testSetMute},
	{"MembersOnly", testMuteMembersOnly},
	{"LeavesWithMembership", testMuteLeavesWithMembership},
	{"ConcurrentMembers", testConcurrentMutes},
}

// mutedUntil returns userID's stored mute of chat (expired or not), or nil.
func mutedUntil(c *models.Chat, userID string) *time.Time {
	if until, ok := c.MutedUntil[userID]; ok {
		return &until
	}
	return nil
}

func testSetMute(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben", "cat")
	a, b := ids[0], ids[1]
	chat := newGroup(t, s, ids...)
	if len(chat.MutedUntil) != 0 {
		t.Fatalf("a new chat has mutes %v", chat.MutedUntil)
	}
	until := now().Add(time.Hour)
	got, err := s.SetMute(ctx, chat.ID, a, &until)
	fatalIf(t, err, "SetMute")
	sameTimePtr(t, "SetMute result: a's mute", mutedUntil(got, a), &until)
	sameTimePtr(t, "SetMute result: b's mute", mutedUntil(got, b), nil)
	sameOrder(t, "participants after SetMute", got.Participants, ids)
	sameTime(t, "UpdatedAt after SetMute (a mute is the member's own)", got.UpdatedAt, chat.UpdatedAt)

	read, err := s.ChatByID(ctx, chat.ID)
	fatalIf(t, err, "ChatByID")
	sameTimePtr(t, "ChatByID: a's mute", mutedUntil(read, a), &until)
	list, err := s.ChatsForUser(ctx, b, nil, 0)
	fatalIf(t, err, "ChatsForUser")
	if len(list) != 1 {
		t.Fatalf("ChatsForUser: %d chats", len(list))
	}
	sameTimePtr(t, "ChatsForUser: a's mute", mutedUntil(list[0], a), &until)
	if m := read.MutedFor(a, until.Add(-time.Millisecond)); m == nil || !m.Equal(until) {
		t.Errorf("MutedFor just before the end = %v", m)
	}
	if m := read.MutedFor(a, until); m != nil {
		t.Errorf("MutedFor at the end = %v, want nil (expired)", m)
	}

	// Another mute replaces the first; forever is kept as MuteForever.
	forever := models.MuteForever
	got, err = s.SetMute(ctx, chat.ID, a, &forever)
	fatalIf(t, err, "SetMute forever")
	sameTimePtr(t, "a's mute forever", mutedUntil(got, a), &forever)
	got, err = s.SetMute(ctx, chat.ID, b, &until)
	fatalIf(t, err, "SetMute b")
	sameTimePtr(t, "a's mute after b muted", mutedUntil(got, a), &forever)
	sameTimePtr(t, "b's mute", mutedUntil(got, b), &until)

	got, err = s.SetMute(ctx, chat.ID, a, nil)
	fatalIf(t, err, "SetMute(nil)")
	sameTimePtr(t, "a's mute after unmute", mutedUntil(got, a), nil)
	sameTimePtr(t, "b's mute after a's unmute", mutedUntil(got, b), &until)
	_, err = s.SetMute(ctx, chat.ID, a, nil)
	fatalIf(t, err, "unmuting a chat that is not muted")
	read, err = s.ChatByID(ctx, chat.ID)
	fatalIf(t, err, "ChatByID")
	sameTimePtr(t, "stored a's mute after unmute", mutedUntil(read, a), nil)
}

func testMuteMembersOnly(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben", "out")
	chat := newGroup(t, s, ids[0], ids[1])
	until := now().Add(time.Hour)
	_, err := s.SetMute(ctx, chat.ID, ids[2], &until)
	wantErr(t, err, models.ErrNotFound, "SetMute by a non-member")
	_, err = s.SetMute(ctx, chat.ID, ids[2], nil)
	wantErr(t, err, models.ErrNotFound, "unmute by a non-member")
	for _, id := range append([]string{models.NewID()}, malformedIDs...) {
		_, err := s.SetMute(ctx, id, ids[0], &until)
		wantErr(t, err, models.ErrNotFound, "SetMute of chat "+id)
		_, err = s.SetMute(ctx, chat.ID, id, &until)
		wantErr(t, err, models.ErrNotFound, "SetMute by user "+id)
	}
	read, err := s.ChatByID(ctx, chat.ID)
	fatalIf(t, err, "ChatByID")
	if len(read.MutedUntil) != 0 {
		t.Errorf("refused mutes left %v", read.MutedUntil)
	}
}

func testMuteLeavesWithMembership(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben", "cat")
	a, b, c := ids[0], ids[1], ids[2]
	chat := newGroup(t, s, a, b, c)
	until := now().Add(time.Hour)
	for _, u := range []string{b, c} {
		_, err := s.SetMute(ctx, chat.ID, u, &until)
		fatalIf(t, err, "SetMute")
	}
	got, err := s.RemoveParticipant(ctx, chat.ID, b, now())
	fatalIf(t, err, "RemoveParticipant")
	sameTimePtr(t, "removed member's mute", mutedUntil(got, b), nil)
	sameTimePtr(t, "remaining member's mute", mutedUntil(got, c), &until)
	got, err = s.AddParticipants(ctx, chat.ID, []string{b}, now())
	fatalIf(t, err, "AddParticipants")
	sameTimePtr(t, "re-added member's mute", mutedUntil(got, b), nil)
	read, err := s.ChatByID(ctx, chat.ID)
	fatalIf(t, err, "ChatByID")
	sameTimePtr(t, "stored re-added member's mute", mutedUntil(read, b), nil)
	sameTimePtr(t, "stored remaining member's mute", mutedUntil(read, c), &until)
}

func testConcurrentMutes(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben", "cat", "dan", "eve", "fay")
	chat := newGroup(t, s, ids...)
	until := now().Add(time.Hour)
	var wg sync.WaitGroup
	for i, u := range ids {
		wg.Go(func() {
			at := until.Add(time.Duration(i) * time.Minute)
			if _, err := s.SetMute(ctx, chat.ID, u, &at); err != nil {
				t.Errorf("SetMute %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	read, err := s.ChatByID(ctx, chat.ID)
	fatalIf(t, err, "ChatByID")
	for i, u := range ids {
		want := until.Add(time.Duration(i) * time.Minute)
		sameTimePtr(t, "mute of member", mutedUntil(read, u), &want)
	}
}
