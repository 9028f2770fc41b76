package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/parley-chat/parley/models"
)

var reactionTests = []storeTest{
	{"ReactAndRead", testReactAndRead},
	{"Unreact", testUnreact},
	{"DistinctEmojiLimit", testReactionLimit},
	{"DeletedAndMissing", testReactDeletedOrMissing},
	{"Concurrent", testConcurrentReactions},
}

// sameReactions compares reactions exactly: emoji in order, users in order (nil and empty
// are equal).
func sameReactions(t *testing.T, what string, got, want []models.Reaction) {
	t.Helper()
	if fmtReactions(got) != fmtReactions(want) {
		t.Errorf("%s = %s, want %s", what, fmtReactions(got), fmtReactions(want))
	}
}

func fmtReactions(rs []models.Reaction) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%s%v", r.Emoji, r.UserIDs)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func react(t *testing.T, s models.Store, msgID, user, emoji string, wantChanged bool) *models.Message {
	t.Helper()
	m, changed, err := s.React(t.Context(), msgID, user, emoji)
	fatalIf(t, err, "React "+emoji)
	if changed != wantChanged {
		t.Errorf("React(%s, %s): changed = %v, want %v", user, emoji, changed, wantChanged)
	}
	return m
}

func unreact(t *testing.T, s models.Store, msgID, user, emoji string, wantChanged bool) *models.Message {
	t.Helper()
	m, changed, err := s.Unreact(t.Context(), msgID, user, emoji)
	fatalIf(t, err, "Unreact "+emoji)
	if changed != wantChanged {
		t.Errorf("Unreact(%s, %s): changed = %v, want %v", user, emoji, changed, wantChanged)
	}
	return m
}

// reread checks that every read path returns want as the message's reactions.
func reread(t *testing.T, s models.Store, m *models.Message, want []models.Reaction) {
	t.Helper()
	ctx := t.Context()
	got, err := s.MessageByID(ctx, m.ID)
	fatalIf(t, err, "MessageByID")
	sameReactions(t, "MessageByID reactions", got.Reactions, want)
	list, _, err := s.ListMessages(ctx, m.ChatID, models.MessageQuery{Limit: 100})
	fatalIf(t, err, "ListMessages")
	for _, x := range list {
		if x.ID == m.ID {
			sameReactions(t, "ListMessages reactions", x.Reactions, want)
		}
	}
	byIDs, err := s.MessagesByIDs(ctx, []string{m.ID})
	fatalIf(t, err, "MessagesByIDs")
	if len(byIDs) != 1 {
		t.Fatalf("MessagesByIDs: %d messages", len(byIDs))
	}
	sameReactions(t, "MessagesByIDs reactions", byIDs[0].Reactions, want)
}

func testReactAndRead(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben", "cat")
	a, b, c := ids[0], ids[1], ids[2]
	chat := newGroup(t, s, a, b, c)
	m := send(t, s, chat.ID, a, "react to me")
	other := send(t, s, chat.ID, b, "no reactions here")
	if len(m.Reactions) != 0 {
		t.Fatalf("a new message has reactions %v", m.Reactions)
	}

	got := react(t, s, m.ID, b, "👍", true)
	sameReactions(t, "after b 👍", got.Reactions, []models.Reaction{{Emoji: "👍", UserIDs: []string{b}}})
	got = react(t, s, m.ID, c, "❤️", true)
	got = react(t, s, m.ID, a, "👍", true)
	want := []models.Reaction{{Emoji: "👍", UserIDs: []string{b, a}}, {Emoji: "❤️", UserIDs: []string{c}}}
	sameReactions(t, "after three reactions", got.Reactions, want)
	checkMessage(t, "React result", got, &models.Message{ID: m.ID, ChatID: chat.ID, Seq: m.Seq, SenderID: a,
		Text: "react to me", CreatedAt: m.CreatedAt, Reactions: want})

	// Reacting again with the same emoji changes nothing and answers the message as it is.
	got = react(t, s, m.ID, b, "👍", false)
	sameReactions(t, "after a repeated reaction", got.Reactions, want)
	got = react(t, s, m.ID, a, ":party_parrot:", true)
	want = append(want, models.Reaction{Emoji: ":party_parrot:", UserIDs: []string{a}})
	sameReactions(t, "after a shortcode", got.Reactions, want)
	reread(t, s, m, want)
	reread(t, s, other, nil)

	// An edit keeps the reactions and a reaction is no edit.
	edited, err := s.EditMessage(ctx, m.ID, "edited", nil, now())
	fatalIf(t, err, "EditMessage")
	sameReactions(t, "EditMessage result reactions", edited.Reactions, want)
	if reacted := react(t, s, other.ID, c, "🎉", true); reacted.EditedAt != nil {
		t.Errorf("a reaction set EditedAt %v", reacted.EditedAt)
	}
	last, err := s.LastMessages(ctx, []string{chat.ID})
	fatalIf(t, err, "LastMessages")
	sameReactions(t, "LastMessages reactions", last[chat.ID].Reactions, []models.Reaction{{Emoji: "🎉", UserIDs: []string{c}}})
}

func testUnreact(t *testing.T, s models.Store) {
	ids := newUsers(t, s, "ann", "ben")
	a, b := ids[0], ids[1]
	chat := newGroup(t, s, a, b)
	m := send(t, s, chat.ID, a, "m")
	react(t, s, m.ID, a, "👍", true)
	react(t, s, m.ID, b, "👍", true)
	react(t, s, m.ID, b, "🔥", true)
	react(t, s, m.ID, a, "😂", true)

	got := unreact(t, s, m.ID, a, "👍", true)
	sameReactions(t, "after a drops 👍", got.Reactions, []models.Reaction{
		{Emoji: "👍", UserIDs: []string{b}}, {Emoji: "🔥", UserIDs: []string{b}}, {Emoji: "😂", UserIDs: []string{a}}})
	// Nothing to remove: no change.
	got = unreact(t, s, m.ID, a, "👍", false)
	got = unreact(t, s, m.ID, a, "🙈", false)
	// The last user of an emoji takes it off the message.
	got = unreact(t, s, m.ID, b, "👍", true)
	want := []models.Reaction{{Emoji: "🔥", UserIDs: []string{b}}, {Emoji: "😂", UserIDs: []string{a}}}
	sameReactions(t, "after the last 👍 went", got.Reactions, want)
	reread(t, s, m, want)
	// Used again, it comes back at the end: order is that of first use among current ones.
	got = react(t, s, m.ID, a, "👍", true)
	want = append(want, models.Reaction{Emoji: "👍", UserIDs: []string{a}})
	sameReactions(t, "after 👍 came back", got.Reactions, want)
	unreact(t, s, m.ID, b, "🔥", true)
	unreact(t, s, m.ID, a, "😂", true)
	got = unreact(t, s, m.ID, a, "👍", true)
	if len(got.Reactions) != 0 {
		t.Errorf("after every reaction went: %s", fmtReactions(got.Reactions))
	}
	reread(t, s, m, nil)
}

func testReactionLimit(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben")
	a, b := ids[0], ids[1]
	chat := newGroup(t, s, a, b)
	m := send(t, s, chat.ID, a, "m")
	emoji := make([]string, models.MaxReactionEmoji+1)
	for i := range emoji {
		emoji[i] = fmt.Sprintf(":e%d:", i)
	}
	for _, e := range emoji[:models.MaxReactionEmoji] {
		react(t, s, m.ID, a, e, true)
	}
	_, _, err := s.React(ctx, m.ID, b, emoji[models.MaxReactionEmoji])
	wantErr(t, err, models.ErrTooManyReactions, "the 21st distinct emoji")
	// An emoji already there still takes more users; repeating one is no change.
	react(t, s, m.ID, b, emoji[3], true)
	react(t, s, m.ID, a, emoji[3], false)
	got, err := s.MessageByID(ctx, m.ID)
	fatalIf(t, err, "MessageByID")
	equal(t, "distinct emoji", len(got.Reactions), models.MaxReactionEmoji)
	// Once an emoji has gone, there is room for another.
	unreact(t, s, m.ID, a, emoji[0], true)
	got = react(t, s, m.ID, b, emoji[models.MaxReactionEmoji], true)
	equal(t, "distinct emoji after a swap", len(got.Reactions), models.MaxReactionEmoji)
	equal(t, "first emoji now", got.Reactions[0].Emoji, emoji[1])
	equal(t, "last emoji now", got.Reactions[len(got.Reactions)-1].Emoji, emoji[models.MaxReactionEmoji])
}

func testReactDeletedOrMissing(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben")
	a, b := ids[0], ids[1]
	chat := newGroup(t, s, a, b)
	m := send(t, s, chat.ID, a, "m")
	react(t, s, m.ID, b, "👍", true)
	deleted, err := s.DeleteMessage(ctx, m.ID, now())
	fatalIf(t, err, "DeleteMessage")
	if len(deleted.Reactions) != 0 {
		t.Errorf("a deleted message keeps reactions %s", fmtReactions(deleted.Reactions))
	}
	reread(t, s, m, nil)
	_, _, err = s.React(ctx, m.ID, a, "👍")
	wantErr(t, err, models.ErrNotFound, "React on a deleted message")
	_, _, err = s.Unreact(ctx, m.ID, b, "👍")
	wantErr(t, err, models.ErrNotFound, "Unreact on a deleted message")
	for _, id := range append([]string{models.NewID()}, malformedIDs...) {
		_, _, err := s.React(ctx, id, a, "👍")
		wantErr(t, err, models.ErrNotFound, "React("+id+")")
		_, _, err = s.Unreact(ctx, id, a, "👍")
		wantErr(t, err, models.ErrNotFound, "Unreact("+id+")")
	}
}

// testConcurrentReactions: 50 users react at once with one emoji, and each of the first
// 20 also with a second one; then the first 10 take the first back, at once, while 10
// more users add a third. Every count must be exact: no reaction lost or doubled.
func testConcurrentReactions(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben")
	chat := newGroup(t, s, ids...)
	m := send(t, s, chat.ID, ids[0], "popular")
	users := make([]string, 60)
	for i := range users {
		users[i] = models.NewID()
	}
	run := func(n int, fn func(i int) error) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				if err := fn(i); err != nil {
					errs <- err
				}
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent reaction: %v", err)
		}
	}
	var mu sync.Mutex
	changed := 0
	count := func(c bool, err error) error {
		mu.Lock()
		defer mu.Unlock()
		if c {
			changed++
		}
		return err
	}
	run(50, func(i int) error {
		_, c, err := s.React(ctx, m.ID, users[i], "👍")
		if err := count(c, err); err != nil || i >= 20 {
			return err
		}
		_, c, err = s.React(ctx, m.ID, users[i], "🎉")
		return count(c, err)
	})
	equal(t, "reactions that changed the message", changed, 70)
	run(20, func(i int) error {
		if i < 10 {
			_, _, err := s.Unreact(ctx, m.ID, users[i], "👍")
			return err
		}
		_, _, err := s.React(ctx, m.ID, users[40+i], "🚀") // users 50..59
		return err
	})
	got, err := s.MessageByID(ctx, m.ID)
	fatalIf(t, err, "MessageByID")
	byEmoji := map[string][]string{}
	for _, r := range got.Reactions {
		byEmoji[r.Emoji] = r.UserIDs
	}
	sameSet(t, "👍 users", byEmoji["👍"], users[10:50])
	sameSet(t, "🎉 users", byEmoji["🎉"], users[:20])
	sameSet(t, "🚀 users", byEmoji["🚀"], users[50:60])
	equal(t, "distinct emoji", len(got.Reactions), 3)
	if len(got.Reactions) == 3 && (got.Reactions[0].Emoji != "👍" || got.Reactions[2].Emoji != "🚀") {
		t.Errorf("order of first use: %s", fmtReactions(got.Reactions))
	}
	for _, r := range got.Reactions {
		if u := slices.Compact(slices.Sorted(slices.Values(r.UserIDs))); len(u) != len(r.UserIDs) {
			t.Errorf("%s lists a user twice: %v", r.Emoji, r.UserIDs)
		}
	}
}
