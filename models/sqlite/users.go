package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parley-chat/parley/models"
)

const userCols = `id, handle, name, image, password_hash, last_seen, created_at, updated_at`

func scanUser(s scanner) (*models.User, error) {
	var (
		u                models.User
		image            sql.NullString
		lastSeen         sql.NullInt64
		created, updated int64
	)
	if err := s.Scan(&u.ID, &u.Handle, &u.Name, &image, &u.PasswordHash, &lastSeen, &created, &updated); err != nil {
		return nil, err
	}
	u.Image = strPtr(image)
	u.LastSeen = timePtr(lastSeen)
	u.CreatedAt = fromMS(created)
	u.UpdatedAt = fromMS(updated)
	return &u, nil
}

// normUser is u as it reads back from the store.
func normUser(u *models.User) *models.User {
	c := *u
	c.CreatedAt = normTime(u.CreatedAt)
	c.UpdatedAt = normTime(u.UpdatedAt)
	c.LastSeen = normTimePtr(u.LastSeen)
	if u.Image != nil {
		img := *u.Image
		c.Image = &img
	}
	return &c
}

// errInvalidID rejects creating a document under an id that could never be looked up.
func errInvalidID(kind, id string) error {
	return fmt.Errorf("sqlite: invalid %s id %q", kind, id)
}

func insertUser(ctx context.Context, tx *stmtCache, u *models.User) error {
	_, err := tx.exec(ctx, `INSERT INTO users (`+userCols+`, name_lower) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Handle, u.Name, nullStr(u.Image), u.PasswordHash, nullMS(u.LastSeen),
		ms(u.CreatedAt), ms(u.UpdatedAt), strings.ToLower(u.Name))
	return err
}

// CreateUser implements models.Users.
func (s *Store) CreateUser(ctx context.Context, u *models.User) error {
	if !models.ValidID(u.ID) {
		return errInvalidID("user", u.ID)
	}
	return s.write(ctx, func(ctx context.Context, tx *stmtCache) error {
		return insertUser(ctx, tx, u)
	})
}

// EnsureUser implements models.Users. Check and insert run in one write, so two first
// connects of the same external user cannot both insert.
func (s *Store) EnsureUser(ctx context.Context, u *models.User) (*models.User, error) {
	if !models.ValidID(u.ID) {
		return nil, errInvalidID("user", u.ID)
	}
	var out *models.User
	err := s.write(ctx, func(ctx context.Context, tx *stmtCache) error {
		got, err := scanUser(tx.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, u.ID))
		if err == nil {
			out = got
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := insertUser(ctx, tx, u); err != nil {
			return err
		}
		out = normUser(u)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UserByID implements models.Users.
func (s *Store) UserByID(ctx context.Context, id string) (*models.User, error) {
	if !models.ValidID(id) {
		return nil, models.ErrNotFound
	}
	u, err := scanUser(s.reads.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	return u, dbErr(err)
}

// UserByHandle implements models.Users.
func (s *Store) UserByHandle(ctx context.Context, handle string) (*models.User, error) {
	u, err := scanUser(s.reads.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE handle = ?`, handle))
	return u, dbErr(err)
}

// UsersByIDs implements models.Users.
func (s *Store) UsersByIDs(ctx context.Context, ids []string) ([]*models.User, error) {
	arg, ok := idList(ids)
	if !ok {
		return nil, nil
	}
	us, err := queryList(ctx, s.reads, scanUser,
		`SELECT `+userCols+` FROM users WHERE id IN (SELECT value FROM json_each(?))`, arg)
	return us, dbErr(err)
}

// likeEscaper escapes LIKE's wildcards so a user's query matches literally.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// SearchUsers implements models.Users. Handles are stored lower case and names have a
// lower-cased copy, so lower-casing the prefix in Go makes the match case-insensitive
// for all of Unicode, not only the ASCII that SQLite's LIKE folds.
func (s *Store) SearchUsers(ctx context.Context, prefix string, limit int) ([]*models.User, error) {
	pattern := likeEscaper.Replace(strings.ToLower(prefix)) + "%"
	us, err := queryList(ctx, s.reads, scanUser,
		`SELECT `+userCols+` FROM users
		WHERE handle LIKE ?1 ESCAPE '\' OR name_lower LIKE ?1 ESCAPE '\'
		ORDER BY handle LIMIT ?2`, pattern, sqlLimit(limit))
	return us, dbErr(err)
}

// UpdateUser implements models.Users.
func (s *Store) UpdateUser(ctx context.Context, id string, p models.UserPatch, now time.Time) (*models.User, error) {
	if !models.ValidID(id) {
		return nil, models.ErrNotFound
	}
	var name, nameLower sql.NullString
	if p.Name != nil {
		name = sql.NullString{String: *p.Name, Valid: true}
		nameLower = sql.NullString{String: strings.ToLower(*p.Name), Valid: true}
	}
	var out *models.User
	err := s.write(ctx, func(ctx context.Context, tx *stmtCache) error {
		u, err := scanUser(tx.queryRow(ctx, `UPDATE users SET
				name = coalesce(?1, name),
				name_lower = coalesce(?2, name_lower),
				image = CASE WHEN ?3 THEN NULL ELSE coalesce(?4, image) END,
				updated_at = ?5
			WHERE id = ?6 RETURNING `+userCols,
			name, nameLower, p.ClearImage, nullStr(p.Image), ms(now), id))
		out = u
		return err
	})
	return out, dbErr(err)
}

// SetLastSeen implements models.Users.
func (s *Store) SetLastSeen(ctx context.Context, id string, t time.Time) error {
	if !models.ValidID(id) {
		return models.ErrNotFound
	}
	return s.write(ctx, func(ctx context.Context, tx *stmtCache) error {
		return mustAffect(tx.exec(ctx, `UPDATE users SET last_seen = ? WHERE id = ?`, ms(t), id))
	})
}

// mustAffect turns "no row matched" into ErrNotFound.
func mustAffect(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return models.ErrNotFound
	}
	return nil
}
