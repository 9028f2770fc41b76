package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/models"
)

// openTest opens a store on a fresh file in t's temp dir and closes it at cleanup.
func openTest(t testing.TB) *Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "sub", "parley.db"))
}

// openAt opens the store on the file at path, closed when the test ends (Close runs once,
// so a test may close it earlier).
func openAt(t testing.TB, path string) *Store {
	t.Helper()
	return openWith(t, path, Options{Logger: zerolog.Nop()})
}

// openWith is openAt with opts.
func openWith(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func mkUser(t *testing.T, s *Store, handle, name string) *models.User {
	t.Helper()
	u := &models.User{ID: models.NewID(), Handle: handle, Name: name, CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("CreateUser %s: %v", handle, err)
	}
	return u
}

func mkGroup(t testing.TB, s *Store, created time.Time, members ...string) *models.Chat {
	t.Helper()
	name := "group"
	c := &models.Chat{ID: models.NewID(), Type: models.ChatGroup, Name: &name, Participants: members,
		Admins: members[:1], CreatedBy: members[0], CreatedAt: created, UpdatedAt: created, LastActivity: created}
	if err := s.CreateChat(context.Background(), c); err != nil {
		t.Fatalf("CreateChat: %v", err)
	}
	return c
}

func send(t *testing.T, s *Store, chatID, sender, text string, when time.Time) *models.Message {
	t.Helper()
	m, created, err := s.InsertMessage(context.Background(), &models.Message{
		ID: models.NewID(), ChatID: chatID, SenderID: sender, Text: text, CreatedAt: when})
	if err != nil || !created {
		t.Fatalf("InsertMessage: created=%v err=%v", created, err)
	}
	return m
}

func seqs(ms []*models.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}
