package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// filesIn lists the files under dir.
func filesIn(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type brokenBody struct{ n int }

var errBroken = errors.New("connection reset")

func (b *brokenBody) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, errBroken
	}
	n := min(len(p), b.n)
	b.n -= n
	return n, nil
}

// The bytes are a file beside the database, written whole or not at all, and removed
// with the message.
func TestAttachmentFiles(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	dir := s.files.dir
	if filepath.Dir(s.files.tmpDir()) != dir || filepath.Base(dir) != "uploads" || filepath.Base(filepath.Dir(dir)) != "sub" {
		t.Fatalf("uploads directory %s", dir)
	}
	a, b := models.NewID(), models.NewID()
	g := mkGroup(t, s, time.Now(), a, b)
	body := bytes.Repeat([]byte("x"), 200_000)
	att := &models.Attachment{UploaderID: a, Name: "x.txt", ContentType: "text/plain; charset=utf-8", CreatedAt: time.Now()}
	if err := s.CreateAttachment(ctx, att, bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	files := filesIn(t, dir)
	if len(files) != 1 || files[0] != filepath.Join(dir, att.ID[22:], att.ID) {
		t.Fatalf("files after an upload: %v", files)
	}
	if got, _ := os.ReadFile(files[0]); !bytes.Equal(got, body) {
		t.Fatal("the file's bytes differ")
	}
	failed := &models.Attachment{ID: models.NewID(), UploaderID: a, Name: "y", ContentType: "text/plain", CreatedAt: time.Now()}
	if err := s.CreateAttachment(ctx, failed, &brokenBody{n: 300_000}); !errors.Is(err, errBroken) {
		t.Fatalf("a broken body: %v", err)
	}
	if files := filesIn(t, dir); len(files) != 1 {
		t.Fatalf("a failed upload left files: %v", files)
	}
	var rows int
	if err := s.reads.queryRow(ctx, `SELECT count(*) FROM attachments`).Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("attachment rows after a failed upload: %d (%v)", rows, err)
	}
	m := &models.Message{ChatID: g.ID, SenderID: a, Text: "x", CreatedAt: time.Now(), Attachments: []models.Attachment{{ID: att.ID}}}
	stored, _, err := s.InsertMessage(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteMessage(ctx, stored.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if files := filesIn(t, dir); len(files) != 0 {
		t.Fatalf("files after the message's deletion: %v", files)
	}
	if err := s.reads.queryRow(ctx, `SELECT count(*) FROM attachments`).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("attachment rows after the deletion: %d (%v)", rows, err)
	}
}

// What a crash leaves (an upload cut off mid-way, a removal between its steps) is
// finished by the sweep; an upload still in progress is left alone.
func TestAttachmentSweepFinishesInterruptedWork(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	s := openAt(t, path)
	defer s.Close()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u := models.NewID()
	abandoned, deleting, inFlight := models.NewID(), models.NewID(), models.NewID()
	for _, r := range []struct {
		id, state string
		age       time.Duration
		file      string
	}{
		{abandoned, "uploading", 2 * time.Hour, s.files.tmpPath(abandoned)},
		{deleting, "deleting", time.Minute, s.files.path(deleting)},
		{inFlight, "uploading", 10 * time.Minute, s.files.tmpPath(inFlight)},
	} {
		if _, err := db.ExecContext(ctx, `INSERT INTO attachments (id, uploader_id, name, content_type, state, created_at)
			VALUES (?, ?, 'f', 'text/plain', ?, ?)`, r.id, u, r.state, time.Now().Add(-r.age).UnixMilli()); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(r.file), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(r.file, []byte("partial"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.SweepAttachments(ctx, time.Now().Add(-24*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("SweepAttachments = %d, %v; want the abandoned upload and the interrupted removal", n, err)
	}
	files := filesIn(t, s.files.dir)
	if len(files) != 1 || files[0] != s.files.tmpPath(inFlight) {
		t.Fatalf("files left: %v, want only the upload in flight", files)
	}
	var ids []string
	rows, err := db.QueryContext(ctx, `SELECT id FROM attachments`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) != 1 || ids[0] != inFlight {
		t.Fatalf("rows left: %v", ids)
	}
}

// A version 3 database (no attachments table) gets it at open.
func TestOpenMigratesVersion3Attachments(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	s := openAt(t, path)
	a := models.NewID()
	g := mkGroup(t, s, time.Now(), a, models.NewID())
	s = rewriteFile(t, s, path, downToVersion3())
	att := &models.Attachment{UploaderID: a, Name: "f", ContentType: "text/plain", CreatedAt: time.Now()}
	if err := s.CreateAttachment(ctx, att, bytes.NewReader([]byte("hi"))); err != nil {
		t.Fatal(err)
	}
	m, _, err := s.InsertMessage(ctx, &models.Message{ChatID: g.ID, SenderID: a, CreatedAt: time.Now(), Attachments: []models.Attachment{{ID: att.ID}}})
	if err != nil || len(m.Attachments) != 1 {
		t.Fatalf("attaching after the migration: %+v %v", m, err)
	}
}
