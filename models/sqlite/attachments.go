package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/parley-chat/parley/models"
)

// Uploads on SQLite
//
// The bytes of each upload are one file in the uploads directory beside the database
// (`<dir of SQLITE_PATH>/uploads/<last two hex digits of the id>/<id>`), so a node needs
// no other service; the attachments table holds the records. An upload takes three steps,
// ordered so that a crash between any two leaves a row the sweep finds:
//
//  1. the row is inserted with state 'uploading';
//  2. the body is copied in 64 KiB pieces into uploads/tmp/<id>, fsynced, renamed to its
//     place, and the directory fsynced;
//  3. the row becomes 'ready' with its size.
//
// A removal (an expired upload, a deleted message's attachments) first marks the rows
// 'deleting' (in the same transaction as the message's deletion), then unlinks the files,
// then deletes the rows. The sweep finishes 'deleting' rows and removes 'uploading' ones
// older than models.UploadAbandonAfter, with whatever file they left.

const attachmentCols = `id, uploader_id, name, content_type, size, message_id, chat_id, created_at`

// copyBufSize is the piece an upload is copied in: the most of an upload held in memory.
const copyBufSize = 64 << 10

// sweepBatch bounds the uploads one sweep pass removes; the rest wait for the next pass.
const sweepBatch = 500

// fileStore names the files of uploads.
type fileStore struct{ dir string }

func (f fileStore) tmpDir() string { return filepath.Join(f.dir, "tmp") }

func (f fileStore) tmpPath(id string) string { return filepath.Join(f.tmpDir(), id) }

// path spreads files over 256 directories by the id's last two hex digits (the low byte
// of an ObjectId's counter), so no directory grows huge.
func (f fileStore) path(id string) string { return filepath.Join(f.dir, id[len(id)-2:], id) }

func (f fileStore) init() error { return os.MkdirAll(f.tmpDir(), 0o750) }

// readRecorder remembers the first read error, so a failed copy can tell the client's
// (a size cap, a dropped connection) from the disk's.
type readRecorder struct {
	r   io.Reader
	err error
}

func (r *readRecorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}

// write copies body into the upload's file, durably, and returns its size.
func (f fileStore) write(id string, body io.Reader) (int64, error) {
	tmp := f.tmpPath(id)
	file, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return 0, fmt.Errorf("%w: creating %s: %v", models.ErrUnavailable, tmp, err)
	}
	src := &readRecorder{r: body}
	// Only Write is exposed, so io.CopyBuffer cannot hand the copy to ReadFrom with a
	// buffer of its own choosing.
	n, err := io.CopyBuffer(struct{ io.Writer }{file}, src, make([]byte, copyBufSize))
	if err == nil {
		err = file.Sync()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		if src.err != nil {
			return 0, fmt.Errorf("reading the upload: %w", src.err)
		}
		return 0, fmt.Errorf("%w: writing %s: %v", models.ErrUnavailable, tmp, err)
	}
	final := f.path(id)
	if err := os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
		_ = os.Remove(tmp)
		return 0, fmt.Errorf("%w: %v", models.ErrUnavailable, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		_ = os.Remove(tmp)
		return 0, fmt.Errorf("%w: %v", models.ErrUnavailable, err)
	}
	if err := syncDir(filepath.Dir(final)); err != nil {
		return 0, fmt.Errorf("%w: %v", models.ErrUnavailable, err)
	}
	return n, nil
}

// syncDir makes a rename into dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// remove deletes whatever file an upload has, in place or half written.
func (f fileStore) remove(id string) error {
	var errs []error
	for _, p := range []string{f.path(id), f.tmpPath(id)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func scanAttachment(s scanner) (*models.Attachment, error) {
	var (
		a             models.Attachment
		message, chat sql.NullString
		created       int64
	)
	if err := s.Scan(&a.ID, &a.UploaderID, &a.Name, &a.ContentType, &a.Size, &message, &chat, &created); err != nil {
		return nil, err
	}
	a.MessageID, a.ChatID = strPtr(message), strPtr(chat)
	a.CreatedAt = fromMS(created)
	return &a, nil
}

// detached is a context for a clean-up that must run even if the caller has gone.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}

// CreateAttachment implements models.Attachments (see the steps above).
func (s *Store) CreateAttachment(ctx context.Context, a *models.Attachment, body io.Reader) error {
	if a.ID == "" {
		a.ID = models.NewID()
	} else if !models.ValidID(a.ID) {
		return errInvalidID("attachment", a.ID)
	}
	if !models.ValidID(a.UploaderID) {
		return errInvalidID("uploader", a.UploaderID)
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = time.Now()
	}
	a.CreatedAt = normTime(a.CreatedAt)
	a.MessageID, a.ChatID, a.Size = nil, nil, 0
	err := s.writeOne(ctx, func(ctx context.Context, tx *stmtCache) error {
		_, err := tx.exec(ctx, `INSERT INTO attachments (id, uploader_id, name, content_type, size, state, created_at)
			VALUES (?, ?, ?, ?, 0, 'uploading', ?)`, a.ID, a.UploaderID, a.Name, a.ContentType, ms(a.CreatedAt))
		return err
	})
	if err != nil {
		return err
	}
	n, werr := s.files.write(a.ID, body)
	if werr == nil {
		werr = s.writeOne(ctx, func(ctx context.Context, tx *stmtCache) error {
			_, err := tx.exec(ctx, `UPDATE attachments SET state = 'ready', size = ? WHERE id = ? AND state = 'uploading'`, n, a.ID)
			return err
		})
	}
	if werr != nil {
		// Withdraw the upload; if even that fails, the row is left 'uploading' and the
		// sweep removes it with its file.
		dctx, cancel := detached(ctx)
		defer cancel()
		if err := s.files.remove(a.ID); err == nil {
			_ = s.writeOne(dctx, func(ctx context.Context, tx *stmtCache) error {
				_, err := tx.exec(ctx, `DELETE FROM attachments WHERE id = ? AND state = 'uploading'`, a.ID)
				return err
			})
		}
		return dbErr(werr)
	}
	a.Size = n
	return nil
}

// AttachmentByID implements models.Attachments.
func (s *Store) AttachmentByID(ctx context.Context, id string) (*models.Attachment, error) {
	if !models.ValidID(id) {
		return nil, models.ErrNotFound
	}
	a, err := scanAttachment(s.reads.queryRow(ctx, `SELECT `+attachmentCols+` FROM attachments WHERE id = ? AND state = 'ready'`, id))
	return a, dbErr(err)
}

// OpenAttachment implements models.Attachments: the file itself, read as it is sent.
func (s *Store) OpenAttachment(_ context.Context, id string) (io.ReadCloser, error) {
	if !models.ValidID(id) {
		return nil, models.ErrNotFound
	}
	f, err := os.Open(s.files.path(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, models.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", models.ErrUnavailable, err)
	}
	return f, nil
}

// AttachmentsForMessages implements models.Attachments.
func (s *Store) AttachmentsForMessages(ctx context.Context, messageIDs []string) (map[string][]models.Attachment, error) {
	out := map[string][]models.Attachment{}
	arg, ok := idList(messageIDs)
	if !ok {
		return out, nil
	}
	list, err := queryList(ctx, s.reads, scanAttachment, `SELECT `+attachmentCols+` FROM attachments
		WHERE message_id IN (SELECT value FROM json_each(?)) AND state = 'ready' ORDER BY message_id, position`, arg)
	if err != nil {
		return nil, dbErr(err)
	}
	for _, a := range list {
		out[*a.MessageID] = append(out[*a.MessageID], *a)
	}
	return out, nil
}

// attachmentsOf reads one message's attachments inside a write job.
func attachmentsOf(ctx context.Context, tx *stmtCache, messageID string) ([]models.Attachment, error) {
	list, err := queryList(ctx, tx, scanAttachment, `SELECT `+attachmentCols+` FROM attachments
		WHERE message_id = ? AND state = 'ready' ORDER BY position`, messageID)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	out := make([]models.Attachment, len(list))
	for i, a := range list {
		out[i] = *a
	}
	return out, nil
}

// claimAttachments attaches m's uploads to it, inside the job that inserts m: a refusal
// returns an error, which rolls the insert back with the claims before it. The single
// writer applies claims one after another, so two messages can never claim one upload.
func claimAttachments(ctx context.Context, tx *stmtCache, m *models.Message) ([]models.Attachment, error) {
	out := make([]models.Attachment, 0, len(m.Attachments))
	for i, ref := range m.Attachments {
		if !models.ValidID(ref.ID) {
			return nil, &models.AttachmentRefError{ID: ref.ID, Err: models.ErrNotFound}
		}
		a, err := scanAttachment(tx.queryRow(ctx, `UPDATE attachments SET message_id = ?1, chat_id = ?2, position = ?3
			WHERE id = ?4 AND uploader_id = ?5 AND state = 'ready' AND message_id IS NULL
			RETURNING `+attachmentCols, m.ID, m.ChatID, i, ref.ID, m.SenderID))
		if err == nil {
			out = append(out, *a)
			continue
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		var (
			uploader, state string
			message         sql.NullString
		)
		err = tx.queryRow(ctx, `SELECT uploader_id, state, message_id FROM attachments WHERE id = ?`, ref.ID).Scan(&uploader, &state, &message)
		switch {
		case err == nil && uploader == m.SenderID && state == "ready" && message.Valid:
			return nil, &models.AttachmentRefError{ID: ref.ID, Err: models.ErrAttachmentTaken}
		case err == nil || errors.Is(err, sql.ErrNoRows):
			return nil, &models.AttachmentRefError{ID: ref.ID, Err: models.ErrNotFound}
		default:
			return nil, err
		}
	}
	return out, nil
}

// markMessageAttachments marks a message's attachments for removal inside the job that
// deletes it, and returns their ids (removeAttachments takes it from there).
func markMessageAttachments(ctx context.Context, tx *stmtCache, messageID string) ([]string, error) {
	return queryList(ctx, tx, scanString, `UPDATE attachments SET state = 'deleting'
		WHERE message_id = ? AND state = 'ready' RETURNING id`, messageID)
}

// removeAttachments unlinks the files of uploads marked 'deleting', then deletes their
// rows. A file that cannot be unlinked keeps its row, for the next sweep.
func (s *Store) removeAttachments(ctx context.Context, ids []string) (int, error) {
	gone := make([]string, 0, len(ids))
	var errs []error
	for _, id := range ids {
		if !models.ValidID(id) {
			continue
		}
		if err := s.files.remove(id); err != nil {
			errs = append(errs, err)
			continue
		}
		gone = append(gone, id)
	}
	arg, ok := idList(gone)
	if !ok {
		return 0, errors.Join(errs...)
	}
	var n int64
	err := s.writeOne(ctx, func(ctx context.Context, tx *stmtCache) error {
		res, err := tx.exec(ctx, `DELETE FROM attachments WHERE id IN (SELECT value FROM json_each(?)) AND state = 'deleting'`, arg)
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	if err != nil {
		errs = append(errs, err)
	}
	return int(n), errors.Join(errs...)
}

// SweepAttachments implements models.Attachments.
func (s *Store) SweepAttachments(ctx context.Context, unattachedBefore time.Time) (int, error) {
	abandoned := time.Now().Add(-models.UploadAbandonAfter)
	err := s.write(ctx, func(ctx context.Context, tx *stmtCache) error {
		// Conditional on the state and on being unattached, in the writer: an upload
		// attached meanwhile is not taken.
		if _, err := tx.exec(ctx, `UPDATE attachments SET state = 'deleting' WHERE id IN (
			SELECT id FROM attachments WHERE message_id IS NULL AND created_at < ? AND state = 'ready' LIMIT ?)`,
			ms(unattachedBefore), sweepBatch); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `UPDATE attachments SET state = 'deleting' WHERE id IN (
			SELECT id FROM attachments WHERE state = 'uploading' AND created_at < ? LIMIT ?)`, ms(abandoned), sweepBatch)
		return err
	})
	if err != nil {
		return 0, dbErr(err)
	}
	ids, err := queryList(ctx, s.reads, scanString, `SELECT id FROM attachments WHERE state = 'deleting' LIMIT ?`, sweepBatch)
	if err != nil {
		return 0, dbErr(err)
	}
	return s.removeAttachments(ctx, ids)
}
