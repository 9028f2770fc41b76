package mongo

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testsvc"
	"github.com/parley-chat/parley/models"
)

// The database goes away and comes back: while it is gone every call fails promptly
// with ErrUnavailable, and afterwards the same Store works again by itself.
func TestOutageAndRecovery(t *testing.T) {
	f := testsvc.FerretDB(t) // its own server: stopping it must not disturb other tests
	const selection = 500 * time.Millisecond
	s, err := Open(t.Context(), Options{URI: f.URI(), Database: "outage", ServerSelectionTimeout: selection,
		SocketTimeout: 3 * time.Second, SweepInterval: -1, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	ctx := t.Context()
	ids := mustUsers(t, s, "ann", "ben")
	chat := mustGroup(t, s, ids...)
	mustSend(t, s, chat.ID, ids[0])

	if err := f.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	calls := map[string]func() error{
		"Ping":     func() error { return s.Ping(ctx) },
		"UserByID": func() error { _, err := s.UserByID(ctx, ids[0]); return err },
		"InsertMessage": func() error {
			_, _, err := s.InsertMessage(ctx, &models.Message{ID: models.NewID(), ChatID: chat.ID, SenderID: ids[0], Text: "lost", CreatedAt: time.Now()})
			return err
		},
		"InsertMessage with clientId": func() error {
			_, _, err := s.InsertMessage(ctx, &models.Message{ID: models.NewID(), ChatID: chat.ID, SenderID: ids[0], Text: "lost", ClientID: new("c"), CreatedAt: time.Now()})
			return err
		},
		"ListMessages": func() error { _, _, err := s.ListMessages(ctx, chat.ID, models.MessageQuery{}); return err },
		"MarkRead":     func() error { _, err := s.MarkRead(ctx, chat.ID, ids[1], 1); return err },
	}
	for name, call := range calls {
		start := time.Now()
		err := call()
		took := time.Since(start)
		t.Logf("%s during the outage: %s: %v", name, took.Round(time.Millisecond), err)
		if !errors.Is(err, models.ErrUnavailable) {
			t.Errorf("%s during the outage: %v, want ErrUnavailable", name, err)
		}
		// Server selection gives up after `selection`; the bound leaves room for a
		// loaded machine (and for InsertMessage's attempt to fill an unused seq).
		if took > 4*selection+3*time.Second {
			t.Errorf("%s took %s to fail", name, took)
		}
	}

	if err := f.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := s.Ping(pctx)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store did not recover: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if u, err := s.UserByID(ctx, ids[0]); err != nil || u.Handle != "ann" {
		t.Fatalf("UserByID after recovery: %v, %v", u, err)
	}
	// The sends that failed left nothing behind: the numbering goes on at 2.
	if m := mustSend(t, s, chat.ID, ids[1]); m.Seq != 2 {
		t.Fatalf("seq after recovery = %d, want 2", m.Seq)
	}
	m, created, err := s.InsertMessage(ctx, &models.Message{ID: models.NewID(), ChatID: chat.ID, SenderID: ids[0], Text: "again", ClientID: new("c"), CreatedAt: time.Now()})
	if err != nil || !created || m.Seq != 3 {
		t.Fatalf("clientId send after recovery: %+v %v %v", m, created, err)
	}
}
