package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// openElsewhere opens the store's file on a connection of its own, as another program
// would (plain SQL, none of Parley's functions).
func openElsewhere(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The writer remembers each chat's last_seq; another program's commit makes it read them
// again, so Parley's next send follows what that program inserted, whether or not it
// moved the chat's last_seq itself.
func TestSendFollowsAnotherWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	s := openAt(t, path)
	a := models.NewID()
	g := mkGroup(t, s, t0, a)
	db := openElsewhere(t, path)
	if m := send(t, s, g.ID, a, "one", at(1)); m.Seq != 1 {
		t.Fatalf("first send: seq %d", m.Seq)
	}
	// A well-behaved importer: the message and the chat's last_seq.
	if _, err := db.Exec(`INSERT INTO messages (id, chat_id, seq, sender_id, text, created_at, updated_at)
		VALUES (?, ?, 2, ?, 'imported', 0, 0)`, models.NewID(), g.ID, a); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE chats SET last_seq = 2 WHERE id = ?`, g.ID); err != nil {
		t.Fatal(err)
	}
	if m := send(t, s, g.ID, a, "three", at(3)); m.Seq != 3 {
		t.Fatalf("send after the importer's message: seq %d, want 3", m.Seq)
	}
	// One that leaves last_seq behind.
	if _, err := db.Exec(`INSERT INTO messages (id, chat_id, seq, sender_id, text, created_at, updated_at)
		VALUES (?, ?, 4, ?, 'careless', 0, 0)`, models.NewID(), g.ID, a); err != nil {
		t.Fatal(err)
	}
	if m := send(t, s, g.ID, a, "five", at(5)); m.Seq != 5 {
		t.Fatalf("send after the careless message: seq %d, want 5", m.Seq)
	}
	if c, err := s.ChatByID(context.Background(), g.ID); err != nil || c.LastSeq != 5 {
		t.Fatalf("chat: %+v %v, want lastSeq 5", c, err)
	}
	page, _, err := s.ListMessages(context.Background(), g.ID, models.MessageQuery{Limit: 10})
	if err != nil || !slices.Equal(seqs(page), []int64{1, 2, 3, 4, 5}) {
		t.Fatalf("stored: %v %v", seqs(page), err)
	}
}

// A batch that fails after a send took a seq undoes the send, and the writer forgets what
// it had taken on: the next send gets that seq, and the chat says so.
func TestFailedBatchForgetsItsSends(t *testing.T) {
	s := openTest(t)
	a := models.NewID()
	g := mkGroup(t, s, t0, a)
	ctx := context.Background()
	send(t, s, g.ID, a, "one", at(1))

	release := holdWriter(t, s)
	var wg sync.WaitGroup
	var sendErr, rogueErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, _, sendErr = s.InsertMessage(ctx, &models.Message{ChatID: g.ID, SenderID: a, Text: "lost", CreatedAt: at(2)})
	}()
	waitQueued(t, s, 1)
	go func() {
		defer wg.Done()
		// Ends the batch's transaction under the writer: its savepoint's release fails,
		// and the whole batch with it.
		rogueErr = s.write(ctx, func(ctx context.Context, tx *stmtCache) error {
			_, err := tx.exec(ctx, "ROLLBACK")
			return err
		})
	}()
	waitQueued(t, s, 2)
	release()
	wg.Wait()
	if !errors.Is(sendErr, models.ErrUnavailable) || !errors.Is(rogueErr, models.ErrUnavailable) {
		t.Fatalf("the failed batch: send %v, rogue job %v; want both unavailable", sendErr, rogueErr)
	}
	if m := send(t, s, g.ID, a, "two", at(3)); m.Seq != 2 {
		t.Fatalf("send after the failed batch: seq %d, want 2", m.Seq)
	}
	if c, err := s.ChatByID(ctx, g.ID); err != nil || c.LastSeq != 2 {
		t.Fatalf("chat: %+v %v, want lastSeq 2", c, err)
	}
}

// A send refused in a batch (an attachment that is not the sender's) takes no seq; the
// sends around it in the same batch, with mentions or not, number on without a gap, and
// the chat, the search notes and the mentions reflect exactly the sends that stayed.
func TestRefusedSendTakesNoSeq(t *testing.T) {
	s := openTest(t)
	a, b := models.NewID(), models.NewID()
	g := mkGroup(t, s, t0, a, b)
	ctx := context.Background()
	pendingBefore := pendingRows(t, s)

	release := holdWriter(t, s)
	inputs := []*models.Message{
		{ChatID: g.ID, SenderID: a, Text: "one", CreatedAt: at(1)},
		{ChatID: g.ID, SenderID: a, Text: "refused", CreatedAt: at(2), Attachments: []models.Attachment{{ID: models.NewID()}}},
		{ChatID: g.ID, SenderID: a, Text: "two @b", CreatedAt: at(3), Mentions: []string{b}},
		{ChatID: g.ID, SenderID: a, Text: "three", CreatedAt: at(4)},
	}
	errs := make([]error, len(inputs))
	got := make([]*models.Message, len(inputs))
	var wg sync.WaitGroup
	for i, in := range inputs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _, errs[i] = s.InsertMessage(ctx, in)
		}()
		waitQueued(t, s, i+1)
	}
	release()
	wg.Wait()
	var re *models.AttachmentRefError
	if !errors.As(errs[1], &re) {
		t.Fatalf("refused send: %v", errs[1])
	}
	for i, want := range map[int]int64{0: 1, 2: 2, 3: 3} {
		if errs[i] != nil || got[i].Seq != want {
			t.Fatalf("send %d: %+v %v, want seq %d", i, got[i], errs[i], want)
		}
	}
	c, err := s.ChatByID(ctx, g.ID)
	if err != nil || c.LastSeq != 3 || !c.LastActivity.Equal(at(4)) {
		t.Fatalf("chat: %+v %v, want lastSeq 3, lastActivity %v", c, err, at(4))
	}
	if n := pendingRows(t, s) - pendingBefore; n != 3 {
		t.Errorf("%d search notes, want 3", n)
	}
	if n, err := s.UnreadMentions(ctx, b, map[string]int64{g.ID: 0}); err != nil || n[g.ID] != 1 {
		t.Errorf("unread mentions of b: %v %v, want 1", n, err)
	}
}

// waitQueued waits until n writes wait for the writer (held by holdWriter), so the next
// one queues behind them.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.w.queued.Load() < int64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued after 5 s, want %d", s.w.queued.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// A batch that fails after catching up with another program's message undoes the catch-up;
// the next batch catches up again, so a send in it does not account past that message,
// which stays searchable and moves its chat.
func TestFailedBatchCatchesUpAgain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	s := openAt(t, path)
	a := models.NewID()
	g := mkGroup(t, s, t0, a)
	ctx := context.Background()
	send(t, s, g.ID, a, "one", at(1))
	db := openElsewhere(t, path)
	if _, err := db.Exec(`INSERT INTO messages (id, chat_id, seq, sender_id, text, created_at, updated_at)
		VALUES (?, ?, 2, ?, 'imported words', ?, ?)`, models.NewID(), g.ID, a, at(2).UnixMilli(), at(2).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	// Alone in its batch (which first catches up), a job that ends the transaction: the
	// commit fails, and the batch with it.
	err := s.write(ctx, func(ctx context.Context, tx *stmtCache) error {
		_, err := tx.exec(ctx, "ROLLBACK")
		return err
	})
	if !errors.Is(err, models.ErrUnavailable) {
		t.Fatalf("the failing batch: %v, want unavailable", err)
	}
	if m := send(t, s, g.ID, a, "three", at(3)); m.Seq != 3 {
		t.Fatalf("send after the failed batch: seq %d, want 3", m.Seq)
	}
	if got := searchIDs(t, s, a, "imported"); len(got) != 1 {
		t.Fatalf("the other program's message after the failed batch and a send: found %v", got)
	}
	if c, err := s.ChatByID(ctx, g.ID); err != nil || c.LastSeq != 3 || !c.LastActivity.Equal(at(3)) {
		t.Fatalf("chat: %+v %v", c, err)
	}
}
