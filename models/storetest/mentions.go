package storetest

import (
	"fmt"
	"maps"
	"testing"

	"github.com/parley-chat/parley/models"
)

var mentionTests = []storeTest{
	{"InsertAndRead", testMentionsInsertAndRead},
	{"Edit", testMentionsEdit},
	{"Delete", testMentionsDelete},
	{"UnreadMentions", testUnreadMentions},
	{"UnreadMentionsManyChats", testUnreadMentionsManyChats},
}

// sendMentioning inserts a message from sender that mentions the given users.
func sendMentioning(t *testing.T, s models.Store, chatID, sender string, mentions ...string) *models.Message {
	t.Helper()
	m, created := insert(t, s, &models.Message{ID: models.NewID(), ChatID: chatID, SenderID: sender, Text: "hey", Mentions: mentions, CreatedAt: now()})
	if !created {
		t.Fatalf("InsertMessage: created = false")
	}
	return m
}

// rereadMentions checks that every read path returns want as the message's mentions.
func rereadMentions(t *testing.T, s models.Store, m *models.Message, want []string) {
	t.Helper()
	ctx := t.Context()
	got, err := s.MessageByID(ctx, m.ID)
	fatalIf(t, err, "MessageByID")
	sameOrder(t, "MessageByID mentions", got.Mentions, want)
	list, _, err := s.ListMessages(ctx, m.ChatID, models.MessageQuery{Limit: 100})
	fatalIf(t, err, "ListMessages")
	found := false
	for _, x := range list {
		if x.ID == m.ID {
			found = true
			sameOrder(t, "ListMessages mentions", x.Mentions, want)
		}
	}
	if !found {
		t.Fatalf("ListMessages does not return message %s", m.ID)
	}
	byIDs, err := s.MessagesByIDs(ctx, []string{m.ID})
	fatalIf(t, err, "MessagesByIDs")
	if len(byIDs) != 1 {
		t.Fatalf("MessagesByIDs: %d messages", len(byIDs))
	}
	sameOrder(t, "MessagesByIDs mentions", byIDs[0].Mentions, want)
	last, err := s.LastMessages(ctx, []string{m.ChatID})
	fatalIf(t, err, "LastMessages")
	if l := last[m.ChatID]; l != nil && l.ID == m.ID {
		sameOrder(t, "LastMessages mentions", l.Mentions, want)
	}
}

// unreadMentions calls UnreadMentions and fails the test on an error.
func unreadMentions(t *testing.T, s models.Store, user string, after map[string]int64) map[string]int {
	t.Helper()
	got, err := s.UnreadMentions(t.Context(), user, after)
	fatalIf(t, err, "UnreadMentions")
	if got == nil {
		t.Fatalf("UnreadMentions returned a nil map")
	}
	return got
}

func sameCounts(t *testing.T, what string, got, want map[string]int) {
	t.Helper()
	if !maps.Equal(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func testMentionsInsertAndRead(t *testing.T, s models.Store) {
	ids := newUsers(t, s, "ann", "ben", "cat", "dan")
	a, b, c := ids[0], ids[1], ids[2]
	chat := newGroup(t, s, ids...)

	plain := send(t, s, chat.ID, a, "nobody")
	if plain.Mentions != nil {
		t.Errorf("a message without mentions: Mentions = %v, want nil", plain.Mentions)
	}
	rereadMentions(t, s, plain, nil)

	// Order is the caller's (order of first mention), not sorted.
	m := sendMentioning(t, s, chat.ID, a, c, b)
	sameOrder(t, "InsertMessage result mentions", m.Mentions, []string{c, b})
	rereadMentions(t, s, m, []string{c, b})

	// An empty (non-nil) list is no mentions.
	empty := sendMentioning(t, s, chat.ID, a)
	rereadMentions(t, s, empty, nil)

	// Idempotent sends: the original comes back with its own mentions.
	first, created := insert(t, s, &models.Message{ID: models.NewID(), ChatID: chat.ID, SenderID: a, Text: "once",
		ClientID: ptr("m1"), Mentions: []string{b}, CreatedAt: now()})
	if !created {
		t.Fatal("first send with a clientId: created = false")
	}
	sameOrder(t, "mentions of a send with a clientId", first.Mentions, []string{b})
	again, created := insert(t, s, &models.Message{ID: models.NewID(), ChatID: chat.ID, SenderID: a, Text: "once",
		ClientID: ptr("m1"), Mentions: []string{c}, CreatedAt: now()})
	if created || again.ID != first.ID {
		t.Fatalf("retry: created %v, id %s, want the original %s", created, again.ID, first.ID)
	}
	sameOrder(t, "mentions of the retried send", again.Mentions, []string{b})
	rereadMentions(t, s, first, []string{b})
	sameCounts(t, "UnreadMentions of c after the retry", unreadMentions(t, s, c, map[string]int64{chat.ID: 0}),
		map[string]int{chat.ID: 1})
}

func testMentionsEdit(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben", "cat", "dan")
	a, b, c, d := ids[0], ids[1], ids[2], ids[3]
	chat := newGroup(t, s, ids...)
	m := sendMentioning(t, s, chat.ID, a, b, c)

	got, err := s.EditMessage(ctx, m.ID, "now c and d", []string{c, d}, now())
	fatalIf(t, err, "EditMessage")
	sameOrder(t, "EditMessage result mentions", got.Mentions, []string{c, d})
	equal(t, "EditMessage result text", got.Text, "now c and d")
	rereadMentions(t, s, m, []string{c, d})
	all := map[string]int64{chat.ID: 0}
	sameCounts(t, "b after the edit", unreadMentions(t, s, b, all), map[string]int{})
	sameCounts(t, "c after the edit", unreadMentions(t, s, c, all), map[string]int{chat.ID: 1})
	sameCounts(t, "d after the edit", unreadMentions(t, s, d, all), map[string]int{chat.ID: 1})

	got, err = s.EditMessage(ctx, m.ID, "nobody now", nil, now())
	fatalIf(t, err, "EditMessage (no mentions)")
	if got.Mentions != nil {
		t.Errorf("EditMessage with no mentions: result Mentions = %v", got.Mentions)
	}
	rereadMentions(t, s, m, nil)
	for _, u := range []string{b, c, d} {
		sameCounts(t, "after the edit that removes every mention", unreadMentions(t, s, u, all), map[string]int{})
	}
	// An edit without mentions leaves another message's alone.
	other := sendMentioning(t, s, chat.ID, b, c)
	_, err = s.EditMessage(ctx, m.ID, "still nobody", nil, now())
	fatalIf(t, err, "EditMessage")
	rereadMentions(t, s, other, []string{c})
	sameCounts(t, "c counts the other message", unreadMentions(t, s, c, all), map[string]int{chat.ID: 1})
}

func testMentionsDelete(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben", "cat")
	a, b, c := ids[0], ids[1], ids[2]
	chat := newGroup(t, s, ids...)
	m := sendMentioning(t, s, chat.ID, a, b, c)
	kept := sendMentioning(t, s, chat.ID, a, b)
	all := map[string]int64{chat.ID: 0}
	sameCounts(t, "b before the delete", unreadMentions(t, s, b, all), map[string]int{chat.ID: 2})

	got, err := s.DeleteMessage(ctx, m.ID, now())
	fatalIf(t, err, "DeleteMessage")
	if got.Mentions != nil {
		t.Errorf("DeleteMessage result Mentions = %v, want nil", got.Mentions)
	}
	rereadMentions(t, s, m, nil)
	rereadMentions(t, s, kept, []string{b})
	sameCounts(t, "b after the delete", unreadMentions(t, s, b, all), map[string]int{chat.ID: 1})
	sameCounts(t, "c after the delete", unreadMentions(t, s, c, all), map[string]int{})

	// A deleted message cannot be edited (back into having mentions).
	_, err = s.EditMessage(ctx, m.ID, "back", []string{c}, now())
	wantErr(t, err, models.ErrNotFound, "EditMessage of a deleted message")
	rereadMentions(t, s, m, nil)
	sameCounts(t, "c after the refused edit", unreadMentions(t, s, c, all), map[string]int{})
}

func testUnreadMentions(t *testing.T, s models.Store) {
	ids := newUsers(t, s, "ann", "ben", "cat")
	a, b, c := ids[0], ids[1], ids[2]
	one := newGroup(t, s, a, b, c)
	two := newGroup(t, s, a, b, c)
	quiet := newGroup(t, s, a, b, c)
	// one: 1 mentions b, 2 mentions b and c, 3 none, 4 mentions c, 5 mentions b
	sendMentioning(t, s, one.ID, a, b)
	sendMentioning(t, s, one.ID, a, b, c)
	send(t, s, one.ID, a, "plain")
	sendMentioning(t, s, one.ID, b, c)
	sendMentioning(t, s, one.ID, c, b)
	// two: 1 mentions b
	sendMentioning(t, s, two.ID, c, b)
	send(t, s, quiet.ID, a, "nothing to see")

	for _, tc := range []struct {
		user  string
		after map[string]int64
		want  map[string]int
	}{
		{b, map[string]int64{one.ID: 0, two.ID: 0, quiet.ID: 0}, map[string]int{one.ID: 3, two.ID: 1}},
		{b, map[string]int64{one.ID: 1, two.ID: 1}, map[string]int{one.ID: 2}},
		{b, map[string]int64{one.ID: 2}, map[string]int{one.ID: 1}},
		{b, map[string]int64{one.ID: 4}, map[string]int{one.ID: 1}},
		{b, map[string]int64{one.ID: 5, two.ID: 9}, map[string]int{}},
		{b, map[string]int64{one.ID: -3}, map[string]int{one.ID: 3}}, // a negative mark counts from the start
		{c, map[string]int64{one.ID: 0, two.ID: 0}, map[string]int{one.ID: 2}},
		{c, map[string]int64{one.ID: 2}, map[string]int{one.ID: 1}},
		{a, map[string]int64{one.ID: 0, two.ID: 0, quiet.ID: 0}, map[string]int{}},
		{b, map[string]int64{}, map[string]int{}},
		{b, nil, map[string]int{}},
	} {
		sameCounts(t, fmt.Sprintf("UnreadMentions(user %s, after %v)", tc.user, tc.after), unreadMentions(t, s, tc.user, tc.after), tc.want)
	}
	// Unknown and malformed chat ids are ignored; a malformed user id matches nothing.
	after := map[string]int64{one.ID: 0, models.NewID(): 0}
	for _, id := range malformedIDs {
		after[id] = 0
	}
	sameCounts(t, "UnreadMentions with unknown and malformed chat ids", unreadMentions(t, s, b, after), map[string]int{one.ID: 3})
	for _, id := range malformedIDs {
		sameCounts(t, "UnreadMentions of malformed user "+id, unreadMentions(t, s, id, map[string]int64{one.ID: 0}), map[string]int{})
	}
}

// testUnreadMentionsManyChats: one call answers for as many chats as a chat:list page holds.
func testUnreadMentionsManyChats(t *testing.T, s models.Store) {
	ids := newUsers(t, s, "ann", "ben")
	a, b := ids[0], ids[1]
	after := map[string]int64{}
	want := map[string]int{}
	for i := range 30 {
		chat := newGroup(t, s, a, b)
		for range i % 4 {
			sendMentioning(t, s, chat.ID, a, b)
		}
		send(t, s, chat.ID, a, "plain")
		after[chat.ID] = 1 // the first message counts as read
		if n := i%4 - 1; n > 0 {
			want[chat.ID] = n
		}
	}
	sameCounts(t, "UnreadMentions over 30 chats", unreadMentions(t, s, b, after), want)
}
