package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/models"
)

// A database written by a version 1 server (no messages_seq trigger) is brought to the
// current version at open, and sends then move the chat's seq as before.
func TestOpenMigratesVersion1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := Open(ctx, path, Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	a := models.NewID()
	g := mkGroup(t, s, time.Now(), a, models.NewID())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DROP TRIGGER messages_seq", "PRAGMA user_version = 1"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s, err = Open(ctx, path, Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v int
	if err := s.reads.queryRow(ctx, "PRAGMA user_version").Scan(&v); err != nil || v != schemaVersion {
		t.Fatalf("user_version %d (%v), want %d", v, err, schemaVersion)
	}
	for want := int64(1); want <= 2; want++ {
		m, _, err := s.InsertMessage(ctx, &models.Message{ChatID: g.ID, SenderID: a, Text: "x", CreatedAt: time.Now()})
		if err != nil || m.Seq != want {
			t.Fatalf("insert %d: %+v %v", want, m, err)
		}
	}
	c, err := s.ChatByID(ctx, g.ID)
	if err != nil || c.LastSeq != 2 {
		t.Fatalf("chat after the inserts: %+v %v", c, err)
	}
}
