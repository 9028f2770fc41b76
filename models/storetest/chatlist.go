package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

var chatListTests = []storeTest{
	{"Order", testChatsForUserOrder},
	{"Paging", testChatsForUserPaging},
	{"ActivityReorders", testChatsActivityReorders},
	{"ChatIDsForUser", testChatIDsForUser},
}

// chatsAt creates, for member u and a partner, one group per activity time, in the given
// order, and returns them sorted the way ChatsForUser must list them.
func chatsAt(t *testing.T, s models.Store, u, partner string, activity []time.Time) []*models.Chat {
	t.Helper()
	var out []*models.Chat
	for _, at := range activity {
		c := &models.Chat{
			ID: models.NewID(), Type: models.ChatGroup, Name: ptr("g"),
			Participants: []string{partner, u}, Admins: []string{partner}, CreatedBy: partner,
			CreatedAt: at, UpdatedAt: at, LastActivity: at,
		}
		fatalIf(t, s.CreateChat(t.Context(), c), "CreateChat")
		out = append(out, c)
	}
	slices.SortFunc(out, func(x, y *models.Chat) int {
		if c := y.LastActivity.Compare(x.LastActivity); c != 0 {
			return c
		}
		return cmp.Compare(y.ID, x.ID)
	})
	return out
}

// sevenChats gives u seven chats with ties in LastActivity, created in an order that is
// neither the listing order nor its reverse, plus chats u is not in.
func sevenChats(t *testing.T, s models.Store) (u string, want []*models.Chat) {
	t.Helper()
	ids := newUsers(t, s, "me", "pal", "stranger")
	base := now().Add(-24 * time.Hour)
	h := func(n int) time.Time { return base.Add(time.Duration(n) * time.Hour) }
	want = chatsAt(t, s, ids[0], ids[1], []time.Time{h(3), h(1), h(4), h(2), h(1), h(3), h(3)})
	chatsAt(t, s, ids[2], ids[1], []time.Time{h(2), h(5)})
	return ids[0], want
}

func testChatsForUserOrder(t *testing.T, s models.Store) {
	u, want := sevenChats(t, s)
	got, err := s.ChatsForUser(t.Context(), u, nil, 0)
	fatalIf(t, err, "ChatsForUser")
	sameOrder(t, "ChatsForUser(limit 0) ids", chatIDs(got), chatIDs(want))
	for i := range min(len(got), len(want)) {
		if got[i].ID == want[i].ID {
			checkChat(t, "ChatsForUser item", got[i], want[i])
		}
	}
	got, err = s.ChatsForUser(t.Context(), u, nil, 3)
	fatalIf(t, err, "ChatsForUser limit 3")
	sameOrder(t, "ChatsForUser(limit 3) ids", chatIDs(got), chatIDs(want[:3]))
	got, err = s.ChatsForUser(t.Context(), u, nil, 100)
	fatalIf(t, err, "ChatsForUser limit 100")
	sameOrder(t, "ChatsForUser(limit 100) ids", chatIDs(got), chatIDs(want))

	nobody := newUser(t, s, "nobody")
	got, err = s.ChatsForUser(t.Context(), nobody.ID, nil, 0)
	fatalIf(t, err, "ChatsForUser of a user without chats")
	equal(t, "len(ChatsForUser of a user without chats)", len(got), 0)
}

// Paging with the cursor of each page's last chat visits every chat once, in order,
// whatever the page size, including across ties in LastActivity.
func testChatsForUserPaging(t *testing.T, s models.Store) {
	u, want := sevenChats(t, s)
	for _, limit := range []int{1, 2, 3, 6, 7, 8} {
		var all []string
		var before *models.ChatCursor
		for page := 0; ; page++ {
			if page > len(want)+1 {
				t.Fatalf("limit %d: paging does not end", limit)
			}
			got, err := s.ChatsForUser(t.Context(), u, before, limit)
			fatalIf(t, err, "ChatsForUser")
			if len(got) > limit {
				t.Fatalf("limit %d: page %d has %d chats", limit, page, len(got))
			}
			all = append(all, chatIDs(got)...)
			if len(got) < limit {
				break
			}
			last := got[len(got)-1]
			before = &models.ChatCursor{LastActivity: last.LastActivity, ID: last.ID}
		}
		sameOrder(t, fmt.Sprintf("chats paged by %d", limit), all, chatIDs(want))
	}

	// A cursor taken from the middle of a tie.
	mid := want[2] // the second of the three chats at h(3)
	got, err := s.ChatsForUser(t.Context(), u, &models.ChatCursor{LastActivity: mid.LastActivity, ID: mid.ID}, 0)
	fatalIf(t, err, "ChatsForUser after a tie cursor")
	sameOrder(t, "chats after a cursor inside a tie", chatIDs(got), chatIDs(want[3:]))
	// A cursor newer than everything lists everything; one at the very end lists nothing.
	got, err = s.ChatsForUser(t.Context(), u, &models.ChatCursor{LastActivity: now().Add(time.Hour), ID: models.NewID()}, 0)
	fatalIf(t, err, "ChatsForUser with a future cursor")
	sameOrder(t, "chats before a future cursor", chatIDs(got), chatIDs(want))
	end := want[len(want)-1]
	got, err = s.ChatsForUser(t.Context(), u, &models.ChatCursor{LastActivity: end.LastActivity, ID: end.ID}, 0)
	fatalIf(t, err, "ChatsForUser after the last chat")
	equal(t, "len(chats after the last chat)", len(got), 0)
}

// A new message makes its chat the most recently active one.
func testChatsActivityReorders(t *testing.T, s models.Store) {
	u, want := sevenChats(t, s)
	oldest := want[len(want)-1]
	m := send(t, s, oldest.ID, u, "bump")
	got, err := s.ChatsForUser(t.Context(), u, nil, 0)
	fatalIf(t, err, "ChatsForUser")
	reordered := append([]*models.Chat{oldest}, want[:len(want)-1]...)
	sameOrder(t, "chats after a message in the oldest", chatIDs(got), chatIDs(reordered))
	if len(got) > 0 {
		sameTime(t, "LastActivity of the bumped chat", got[0].LastActivity, m.CreatedAt)
		equal(t, "LastSeq of the bumped chat", got[0].LastSeq, 1)
	}
}

func testChatIDsForUser(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben", "cat", "dan")
	a, b, c, d := ids[0], ids[1], ids[2], ids[3]
	g1 := newGroup(t, s, a, b)
	dm := newDirect(t, s, c, a)
	g2 := newGroup(t, s, b, c)
	_, err := s.AddParticipants(ctx, g2.ID, []string{a}, now())
	fatalIf(t, err, "AddParticipants")

	check := func(user string, want ...string) {
		t.Helper()
		got, err := s.ChatIDsForUser(ctx, user)
		fatalIf(t, err, "ChatIDsForUser")
		sameSet(t, "ChatIDsForUser", got, want)
	}
	check(a, g1.ID, dm.ID, g2.ID)
	check(b, g1.ID, g2.ID)
	check(c, dm.ID, g2.ID)
	check(d)
	_, err = s.RemoveParticipant(ctx, g1.ID, b, now())
	fatalIf(t, err, "RemoveParticipant")
	check(b, g2.ID)
}
