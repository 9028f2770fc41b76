package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

var messageTests = []storeTest{
	{"InsertAssignsSeq", testInsertAssignsSeq},
	{"ConcurrentInsert", testConcurrentInsert},
	{"Idempotent", testIdempotentInsert},
	{"ConcurrentDuplicate", testConcurrentDuplicate},
	{"MissingChat", testInsertMissingChat},
}

func checkMessage(t *testing.T, what string, got, want *models.Message) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil message", what)
	}
	equal(t, what+".ID", got.ID, want.ID)
	equal(t, what+".ChatID", got.ChatID, want.ChatID)
	equal(t, what+".Seq", got.Seq, want.Seq)
	equal(t, what+".SenderID", got.SenderID, want.SenderID)
	equal(t, what+".Text", got.Text, want.Text)
	sameStrPtr(t, what+".ReplyToID", got.ReplyToID, want.ReplyToID)
	sameStrPtr(t, what+".ClientID", got.ClientID, want.ClientID)
	sameTime(t, what+".CreatedAt", got.CreatedAt, want.CreatedAt)
	sameTimePtr(t, what+".EditedAt", got.EditedAt, want.EditedAt)
	equal(t, what+".Deleted", got.Deleted, want.Deleted)
	sameReactions(t, what+".Reactions", got.Reactions, want.Reactions)
	sameOrder(t, what+".Mentions", got.Mentions, want.Mentions)
}

// insert stores m and returns what the store answered.
func insert(t *testing.T, s models.Store, m *models.Message) (*models.Message, bool) {
	t.Helper()
	stored, created, err := s.InsertMessage(t.Context(), m)
	fatalIf(t, err, "InsertMessage")
	if stored == nil {
		t.Fatalf("InsertMessage returned a nil message")
	}
	return stored, created
}

func testInsertAssignsSeq(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben")
	a, b := ids[0], ids[1]
	chat := newGroup(t, s, a, b)
	other := newDirect(t, s, a, b)
	at := now().Add(time.Minute)

	var msgs []*models.Message
	for i, m := range []*models.Message{
		{ID: models.NewID(), ChatID: chat.ID, SenderID: a, Text: "hello", CreatedAt: at},
		{ID: models.NewID(), ChatID: chat.ID, SenderID: b, Text: "hi", ClientID: ptr("c-2"), CreatedAt: at.Add(time.Second)},
		{ID: models.NewID(), ChatID: chat.ID, SenderID: a, Text: "ünïcödé ✓ 👋", CreatedAt: at.Add(2 * time.Second)},
	} {
		if i > 0 {
			m.ReplyToID = ptr(msgs[0].ID)
		}
		want := *m
		want.Seq = int64(i + 1)
		stored, created := insert(t, s, m)
		equal(t, "created", created, true)
		checkMessage(t, fmt.Sprintf("InsertMessage #%d", i+1), stored, &want)
		got, err := s.MessageByID(ctx, m.ID)
		fatalIf(t, err, "MessageByID")
		checkMessage(t, fmt.Sprintf("stored message #%d", i+1), got, &want)
		msgs = append(msgs, stored)

		c, err := s.ChatByID(ctx, chat.ID)
		fatalIf(t, err, "ChatByID")
		equal(t, "chat LastSeq", c.LastSeq, want.Seq)
		sameTime(t, "chat LastActivity", c.LastActivity, m.CreatedAt)
	}

	// Seqs are per chat.
	first := send(t, s, other.ID, b, "elsewhere")
	equal(t, "seq of the first message in another chat", first.Seq, 1)
	c, err := s.ChatByID(ctx, chat.ID)
	fatalIf(t, err, "ChatByID")
	equal(t, "LastSeq of the first chat after a message elsewhere", c.LastSeq, 3)
	next := send(t, s, chat.ID, b, "four")
	equal(t, "seq of the next message", next.Seq, 4)
}

// Many goroutines insert into one chat: the seqs are 1..N without gaps or repeats, and
// each goroutine's messages get increasing seqs in the order it sent them.
func testConcurrentInsert(t *testing.T, s models.Store) {
	ctx := t.Context()
	senders := newUsers(t, s, "ann", "ben", "cat", "dan")
	chat := newGroup(t, s, senders...)
	const workers, per = 8, 25
	const total = workers * per
	seqs := make([][]int64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				m := &models.Message{
					ID: models.NewID(), ChatID: chat.ID, SenderID: senders[w%len(senders)],
					Text: fmt.Sprintf("w%d-%d", w, i), ClientID: ptr(fmt.Sprintf("w%d-%d", w, i)), CreatedAt: now(),
				}
				stored, created, err := s.InsertMessage(ctx, m)
				if err != nil {
					t.Errorf("worker %d: InsertMessage #%d: %v", w, i, err)
					return
				}
				if !created || stored.ID != m.ID {
					t.Errorf("worker %d: InsertMessage #%d: created = %v, id = %s, want true, %s", w, i, created, stored.ID, m.ID)
				}
				seqs[w] = append(seqs[w], stored.Seq)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	var all []int64
	for w, ss := range seqs {
		if !slices.IsSorted(ss) {
			t.Errorf("worker %d got seqs out of its send order: %v", w, ss)
		}
		all = append(all, ss...)
	}
	slices.Sort(all)
	sameOrder(t, "seqs assigned to concurrent inserts", all, seqRange(1, total))

	c, err := s.ChatByID(ctx, chat.ID)
	fatalIf(t, err, "ChatByID")
	equal(t, "LastSeq after concurrent inserts", c.LastSeq, total)
	newer, more, err := s.ListMessages(ctx, chat.ID, models.MessageQuery{Limit: 100})
	fatalIf(t, err, "ListMessages")
	equal(t, "hasMore of the newest page", more, true)
	older, more, err := s.ListMessages(ctx, chat.ID, models.MessageQuery{Before: total - 99, Limit: 100})
	fatalIf(t, err, "ListMessages before")
	equal(t, "hasMore of the oldest page", more, false)
	sameOrder(t, "listed seqs", messageSeqs(append(older, newer...)), seqRange(1, total))
}

func testIdempotentInsert(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben")
	a, b := ids[0], ids[1]
	chat := newGroup(t, s, a, b)
	chat2 := newGroup(t, s, a, b)
	at := now()

	orig := &models.Message{ID: models.NewID(), ChatID: chat.ID, SenderID: a, Text: "first", ClientID: ptr("abc"), CreatedAt: at}
	stored, created := insert(t, s, orig)
	equal(t, "created (first send)", created, true)
	equal(t, "seq (first send)", stored.Seq, 1)
	want := *stored

	retry := &models.Message{ID: models.NewID(), ChatID: chat.ID, SenderID: a, Text: "second", ClientID: ptr("abc"), CreatedAt: at.Add(time.Second)}
	got, created := insert(t, s, retry)
	equal(t, "created (same sender, chat and clientId)", created, false)
	checkMessage(t, "retried send", got, &want)
	_, err := s.MessageByID(ctx, retry.ID)
	wantErr(t, err, models.ErrNotFound, "MessageByID of the retry's own id")
	c, err := s.ChatByID(ctx, chat.ID)
	fatalIf(t, err, "ChatByID")
	equal(t, "LastSeq after a retried send", c.LastSeq, 1)

	// The same clientId from another sender, or in another chat, is another message.
	fromB, created := insert(t, s, &models.Message{ID: models.NewID(), ChatID: chat.ID, SenderID: b, Text: "b", ClientID: ptr("abc"), CreatedAt: at})
	equal(t, "created (same clientId, other sender)", created, true)
	equal(t, "seq (same clientId, other sender)", fromB.Seq, 2)
	inChat2, created := insert(t, s, &models.Message{ID: models.NewID(), ChatID: chat2.ID, SenderID: a, Text: "c2", ClientID: ptr("abc"), CreatedAt: at})
	equal(t, "created (same clientId, other chat)", created, true)
	equal(t, "seq (same clientId, other chat)", inChat2.Seq, 1)
	// Other clientIds and messages without one are always new.
	other, created := insert(t, s, &models.Message{ID: models.NewID(), ChatID: chat.ID, SenderID: a, Text: "x", ClientID: ptr("abd"), CreatedAt: at})
	equal(t, "created (other clientId)", created, true)
	equal(t, "seq (other clientId)", other.Seq, 3)
	equal(t, "seq (no clientId)", send(t, s, chat.ID, a, "y").Seq, 4)
	equal(t, "seq (no clientId again)", send(t, s, chat.ID, a, "y").Seq, 5)

	// A retry after the original was deleted still returns the original.
	_, err = s.DeleteMessage(ctx, orig.ID, at.Add(time.Minute))
	fatalIf(t, err, "DeleteMessage")
	got, created = insert(t, s, &models.Message{ID: models.NewID(), ChatID: chat.ID, SenderID: a, Text: "again", ClientID: ptr("abc"), CreatedAt: at.Add(2 * time.Minute)})
	equal(t, "created (retry of a deleted message)", created, false)
	equal(t, "id (retry of a deleted message)", got.ID, orig.ID)
	equal(t, "seq (retry of a deleted message)", got.Seq, 1)
	msgs, _, err := s.ListMessages(ctx, chat.ID, models.MessageQuery{Limit: 50})
	fatalIf(t, err, "ListMessages")
	sameOrder(t, "seqs in the chat", messageSeqs(msgs), seqRange(1, 5))
}

// The same send arrives several times at once (a client retrying over two connections):
// exactly one message is stored and every call returns it.
func testConcurrentDuplicate(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben")
	chat := newGroup(t, s, ids...)
	const n = 8
	stored := make([]*models.Message, n)
	created := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := &models.Message{ID: models.NewID(), ChatID: chat.ID, SenderID: ids[0], Text: "once", ClientID: ptr("dup-1"), CreatedAt: now()}
			var err error
			stored[i], created[i], err = s.InsertMessage(ctx, m)
			if err != nil {
				t.Errorf("concurrent duplicate #%d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	winners := 0
	for i := range n {
		if created[i] {
			winners++
		}
		if stored[i] == nil || stored[i].ID != stored[0].ID || stored[i].Seq != 1 {
			t.Errorf("concurrent duplicate #%d returned %+v, want the one message with seq 1", i, stored[i])
		}
	}
	equal(t, "number of calls that created the message", winners, 1)
	msgs, _, err := s.ListMessages(ctx, chat.ID, models.MessageQuery{Limit: 50})
	fatalIf(t, err, "ListMessages")
	equal(t, "messages stored", len(msgs), 1)
	c, err := s.ChatByID(ctx, chat.ID)
	fatalIf(t, err, "ChatByID")
	equal(t, "LastSeq", c.LastSeq, 1)
}

func testInsertMissingChat(t *testing.T, s models.Store) {
	ctx := t.Context()
	u := newUser(t, s, "ann")
	for _, chatID := range append([]string{models.NewID()}, malformedIDs...) {
		m := &models.Message{ID: models.NewID(), ChatID: chatID, SenderID: u.ID, Text: "lost", ClientID: ptr("c"), CreatedAt: now()}
		_, _, err := s.InsertMessage(ctx, m)
		wantErr(t, err, models.ErrNotFound, "InsertMessage into chat "+chatID)
		_, err = s.MessageByID(ctx, m.ID)
		wantErr(t, err, models.ErrNotFound, "MessageByID of a message refused for chat "+chatID)
	}
}
