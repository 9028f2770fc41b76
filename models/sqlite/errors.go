package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/parley-chat/parley/models"
)

// errClosed is returned by every call made after Close.
var errClosed = fmt.Errorf("%w: sqlite store closed", models.ErrUnavailable)

// dbErr maps a driver error onto the models error vocabulary so handlers can answer
// protocol codes without knowing the database: missing rows are ErrNotFound, uniqueness
// violations ErrConflict, and anything that means the database cannot be used right now
// (locked, I/O, disk full, closed, timed out) ErrUnavailable. Errors that are already
// models errors pass through; the rest (bugs) are returned wrapped, as internal errors.
func dbErr(err error) error {
	if err == nil {
		return nil
	}
	var refErr *models.AttachmentRefError
	if errors.Is(err, models.ErrNotFound) || errors.Is(err, models.ErrConflict) || errors.Is(err, models.ErrUnavailable) ||
		errors.As(err, &refErr) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return models.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		code := se.Code()
		switch code & 0xff {
		case sqlite3.SQLITE_CONSTRAINT:
			if code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
				return fmt.Errorf("%w: %v", models.ErrConflict, err)
			}
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN,
			sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB,
			sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_INTERRUPT, sqlite3.SQLITE_PERM,
			sqlite3.SQLITE_AUTH, sqlite3.SQLITE_NOLFS:
			return fmt.Errorf("%w: %w", models.ErrUnavailable, err)
		}
		return fmt.Errorf("sqlite: %w", err)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, sql.ErrConnDone) || strings.Contains(err.Error(), "database is closed") ||
		strings.Contains(err.Error(), "statement is closed") {
		return fmt.Errorf("%w: %w", models.ErrUnavailable, err)
	}
	return fmt.Errorf("sqlite: %w", err)
}

// isUnique reports whether err is a uniqueness violation, for code paths that turn it
// into something other than a plain ErrConflict.
func isUnique(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

func isUnavailable(err error) bool { return errors.Is(err, models.ErrUnavailable) }
