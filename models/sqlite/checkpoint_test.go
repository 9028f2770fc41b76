package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/models"
)

// walRestarts reads the checkpoint sequence number of the WAL file's header at path,
// which SQLite increments each time the log starts again from its beginning.
func walRestarts(t *testing.T, path string) uint32 {
	t.Helper()
	f, err := os.Open(path + "-wal")
	if err != nil {
		t.Fatalf("open the WAL: %v", err)
	}
	defer f.Close()
	var hdr [32]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		t.Fatalf("read the WAL header: %v", err)
	}
	return binary.BigEndian.Uint32(hdr[12:16])
}

// A round must leave the log ready to start again from its beginning even when its bulk
// copy falls short of the last frame: under steady load it always does, since sends
// commit while it copies, and the WAL then grew by every commit until Close (a gigabyte
// in 25 s of the e2e benchmark). Here a reader that holds a snapshot older than the last
// commits, and lets go only after the bulk copy, is what makes that copy fall short.
func TestCheckpointRoundRestartsTheLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	// No indexer (it would write on its own) and no rounds but the test's.
	s := openWith(t, path, Options{Logger: zerolog.Nop(), indexAtCommit: true, checkpointEvery: time.Hour})
	a, b := models.NewID(), models.NewID()
	g := mkGroup(t, s, t0, a, b)
	text := strings.Repeat("steady words ", 300) // a page each
	ctx := context.Background()
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	sent := 0
	for round := range 3 {
		for range 5 {
			send(t, s, g.ID, a, text, at(sent))
			sent++
		}
		reader, err := other.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := reader.QueryRowContext(ctx, "SELECT count(*) FROM messages").Scan(&n); err != nil || n != sent {
			t.Fatalf("the reader sees %d messages (err %v), want %d", n, err, sent)
		}
		for range 5 { // beyond the reader's snapshot: the bulk copy cannot reach them
			send(t, s, g.ID, b, text, at(sent))
			sent++
		}
		before := walRestarts(t, path)
		s.ckpt.restartFrames = 0
		s.ckpt.afterBulk = func() { _ = reader.Rollback() }
		if err := s.ckpt.round(); err != nil {
			t.Fatal(err)
		}
		send(t, s, g.ID, a, text, at(sent)) // the first commit after the round
		sent++
		if got := walRestarts(t, path); got != before+1 {
			st, _ := os.Stat(path + "-wal")
			t.Fatalf("round %d: the log restarted %d times at the commit after a round, want 1 (WAL %d bytes)",
				round, got-before, st.Size())
		}
	}
	ms, _, err := s.ListMessages(ctx, g.ID, models.MessageQuery{Limit: 100})
	if err != nil || len(ms) != sent {
		t.Fatalf("after the rounds: %d messages, err %v; want %d", len(ms), err, sent)
	}
}
