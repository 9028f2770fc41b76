package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/models"
)

// holdWriter parks the writer inside a batch until release is called, so the writes
// queued meanwhile are all taken into the next batch.
func holdWriter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	entered, gate := make(chan struct{}), make(chan struct{})
	go func() {
		_ = s.w.do(context.Background(), func(context.Context, *stmtCache) error {
			close(entered)
			<-gate
			return nil
		}, false, false)
	}()
	<-entered
	return func() { close(gate) }
}

// TestGroupCommitBatch queues, in this order, a message, a duplicate of it (same
// clientId), a message to a missing chat and a second message, and checks that one
// transaction carried them, that the failing one failed alone, and that the duplicate
// came back as the original.
func TestGroupCommitBatch(t *testing.T) {
	s := openTest(t)
	a := models.NewID()
	g := mkGroup(t, s, t0, a)
	batchesBefore := s.w.batches.Load()

	release := holdWriter(t, s)
	cid := "dup"
	inputs := []*models.Message{
		{ID: models.NewID(), ChatID: g.ID, SenderID: a, Text: "first", ClientID: &cid, CreatedAt: at(1)},
		{ID: models.NewID(), ChatID: g.ID, SenderID: a, Text: "first again", ClientID: &cid, CreatedAt: at(1)},
		{ID: models.NewID(), ChatID: models.NewID(), SenderID: a, Text: "nowhere", CreatedAt: at(1)},
		{ID: models.NewID(), ChatID: g.ID, SenderID: a, Text: "second", CreatedAt: at(2)},
	}
	type result struct {
		m       *models.Message
		created bool
		err     error
	}
	results := make([]result, len(inputs))
	var wg sync.WaitGroup
	for i, in := range inputs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, created, err := s.InsertMessage(context.Background(), in)
			results[i] = result{m, created, err}
		}()
		// Senders queue in arrival order; give each time to block before the next.
		time.Sleep(30 * time.Millisecond)
	}
	release()
	wg.Wait()

	if r := results[0]; r.err != nil || !r.created || r.m.Seq != 1 {
		t.Fatalf("first: %+v", r)
	}
	if r := results[1]; r.err != nil || r.created || r.m.ID != inputs[0].ID || r.m.Seq != 1 || r.m.Text != "first" {
		t.Fatalf("duplicate in the same batch: %+v", r)
	}
	if r := results[2]; !errors.Is(r.err, models.ErrNotFound) {
		t.Fatalf("missing chat: %+v", r)
	}
	if r := results[3]; r.err != nil || !r.created || r.m.Seq != 2 {
		t.Fatalf("second: %+v", r)
	}
	// The held batch plus one batch for the four inserts.
	if n := s.w.batches.Load() - batchesBefore; n != 2 {
		t.Fatalf("batches = %d, want 2", n)
	}
	page, _, err := s.ListMessages(context.Background(), g.ID, models.MessageQuery{Limit: 10})
	if err != nil || !slices.Equal(seqs(page), []int64{1, 2}) {
		t.Fatalf("stored: %v %v", seqs(page), err)
	}
}

// TestConcurrentInserts checks the seq contract under load: gap-free and unique per
// chat, and increasing in each sender's own send order.
func TestConcurrentInserts(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	const senders, perSender = 8, 40
	users := make([]string, senders)
	for i := range users {
		users[i] = models.NewID()
	}
	g := mkGroup(t, s, t0, users...)
	var wg sync.WaitGroup
	got := make([][]int64, senders)
	errs := make(chan error, senders)
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perSender {
				m, _, err := s.InsertMessage(ctx, &models.Message{ID: models.NewID(), ChatID: g.ID, SenderID: users[i], Text: "x", CreatedAt: time.Now()})
				if err != nil {
					errs <- err
					return
				}
				got[i] = append(got[i], m.Seq)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var all []int64
	for i, ss := range got {
		if !slices.IsSorted(ss) {
			t.Fatalf("sender %d seqs out of order: %v", i, ss)
		}
		all = append(all, ss...)
	}
	slices.Sort(all)
	for i, seq := range all {
		if seq != int64(i+1) {
			t.Fatalf("seqs not 1..n without gaps: at %d got %d", i, seq)
		}
	}
	c, _ := s.ChatByID(ctx, g.ID)
	if c.LastSeq != senders*perSender {
		t.Fatalf("LastSeq = %d", c.LastSeq)
	}
	t.Logf("%d writes in %d batches", s.w.writes.Load(), s.w.batches.Load())
}

// TestCloseDrains checks that writes queued before Close commit, later ones fail as
// unavailable, and the data survives a reopen.
func TestCloseDrains(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a", "b", "parley.db")
	s, err := Open(ctx, path, Options{Synchronous: "full", Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "sqlite" {
		t.Fatal(s.Name())
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	a := models.NewID()
	g := mkGroup(t, s, t0, a)
	release := holdWriter(t, s)
	var wg sync.WaitGroup
	var sendErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _, sendErr = s.InsertMessage(ctx, &models.Message{ID: models.NewID(), ChatID: g.ID, SenderID: a, Text: "queued", CreatedAt: at(1)})
	}()
	time.Sleep(30 * time.Millisecond)
	closed := make(chan error)
	go func() { closed <- s.Close() }()
	time.Sleep(30 * time.Millisecond)
	release()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	// The queued send either made it into the drained batch or was refused as
	// unavailable; it is never left hanging or half-applied.
	if sendErr != nil && !errors.Is(sendErr, models.ErrUnavailable) {
		t.Fatalf("queued send: %v", sendErr)
	}
	if _, _, err := s.InsertMessage(ctx, &models.Message{ID: models.NewID(), ChatID: g.ID, SenderID: a, Text: "late", CreatedAt: at(2)}); !errors.Is(err, models.ErrUnavailable) {
		t.Fatalf("write after close: %v", err)
	}
	if _, err := s.ChatByID(ctx, g.ID); !errors.Is(err, models.ErrUnavailable) {
		t.Fatalf("read after close: %v", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, models.ErrUnavailable) {
		t.Fatalf("ping after close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	s2, err := Open(ctx, path, Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	c, err := s2.ChatByID(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := int64(1)
	if sendErr != nil {
		want = 0
	}
	if c.LastSeq != want {
		t.Fatalf("after reopen LastSeq = %d, want %d", c.LastSeq, want)
	}
}

func TestOpenOptions(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "x.db"), Options{Synchronous: "OFF"}); err == nil {
		t.Fatal("synchronous OFF must be refused")
	}
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "x?.db"), Options{}); err == nil {
		t.Fatal("path with ? must be refused")
	}
}

// TestCanceledCallerSkipped checks that a write whose caller has gone is not applied.
func TestCanceledCallerSkipped(t *testing.T) {
	s := openTest(t)
	a := models.NewID()
	g := mkGroup(t, s, t0, a)
	release := holdWriter(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, _, err := s.InsertMessage(ctx, &models.Message{ID: models.NewID(), ChatID: g.ID, SenderID: a, Text: "x", CreatedAt: at(1)})
		done <- err
	}()
	time.Sleep(30 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled send: %v", err)
	}
	release()
	send(t, s, g.ID, a, "after", at(2)) // the writer still works, and seq has no gap
	c, _ := s.ChatByID(context.Background(), g.ID)
	if c.LastSeq != 1 {
		t.Fatalf("LastSeq = %d, want 1", c.LastSeq)
	}
}
