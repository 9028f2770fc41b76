package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parley-chat/parley/models"
)

const reqCols = `id, from_id, to_id, status, created_at, updated_at`

func scanRequest(s scanner) (*models.FriendRequest, error) {
	var (
		r                models.FriendRequest
		created, updated int64
	)
	if err := s.Scan(&r.ID, &r.FromID, &r.ToID, &r.Status, &created, &updated); err != nil {
		return nil, err
	}
	r.CreatedAt = fromMS(created)
	r.UpdatedAt = fromMS(updated)
	return &r, nil
}

// CreateFriendRequest implements models.Friends. The partial unique index on pending
// (from, to) pairs turns a second pending request into ErrConflict.
func (s *Store) CreateFriendRequest(ctx context.Context, r *models.FriendRequest) error {
	if !models.ValidID(r.ID) {
		return errInvalidID("friend request", r.ID)
	}
	status := r.Status
	if status == "" {
		status = models.RequestPending
	}
	updated := r.UpdatedAt
	if updated.IsZero() {
		updated = r.CreatedAt
	}
	return s.write(ctx, func(ctx context.Context, tx *stmtCache) error {
		_, err := tx.exec(ctx, `INSERT INTO friend_requests (`+reqCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
			r.ID, r.FromID, r.ToID, status, ms(r.CreatedAt), ms(updated))
		return err
	})
}

// FriendRequestByID implements models.Friends.
func (s *Store) FriendRequestByID(ctx context.Context, id string) (*models.FriendRequest, error) {
	if !models.ValidID(id) {
		return nil, models.ErrNotFound
	}
	r, err := scanRequest(s.reads.queryRow(ctx, `SELECT `+reqCols+` FROM friend_requests WHERE id = ?`, id))
	return r, dbErr(err)
}

// PendingRequest implements models.Friends.
func (s *Store) PendingRequest(ctx context.Context, from, to string) (*models.FriendRequest, error) {
	if !models.ValidID(from) || !models.ValidID(to) {
		return nil, models.ErrNotFound
	}
	r, err := scanRequest(s.reads.queryRow(ctx, `SELECT `+reqCols+` FROM friend_requests
		WHERE from_id = ? AND to_id = ? AND status = 'pending'`, from, to))
	return r, dbErr(err)
}

// ResolveFriendRequest implements models.Friends. The status change is a compare-and-set
// on status = 'pending', and accepting inserts the friendship in the same transaction.
func (s *Store) ResolveFriendRequest(ctx context.Context, id, status string, now time.Time) (*models.FriendRequest, error) {
	switch status {
	case models.RequestAccepted, models.RequestDeclined, models.RequestCanceled:
	default:
		return nil, fmt.Errorf("sqlite: cannot resolve a friend request to %q", status)
	}
	if !models.ValidID(id) {
		return nil, models.ErrNotFound
	}
	var out *models.FriendRequest
	err := s.write(ctx, func(ctx context.Context, tx *stmtCache) error {
		r, err := scanRequest(tx.queryRow(ctx, `UPDATE friend_requests SET status = ?, updated_at = ?
			WHERE id = ? AND status = 'pending' RETURNING `+reqCols, status, ms(now), id))
		if errors.Is(err, sql.ErrNoRows) {
			var exists bool
			if err := tx.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM friend_requests WHERE id = ?)`, id).Scan(&exists); err != nil {
				return err
			}
			if exists {
				return models.ErrConflict
			}
			return models.ErrNotFound
		}
		if err != nil {
			return err
		}
		if status == models.RequestAccepted {
			if err := addFriendship(ctx, tx, r.FromID, r.ToID, now); err != nil {
				return err
			}
		}
		out = r
		return nil
	})
	return out, err
}

// addFriendship stores both directions; an existing friendship is kept as it was.
func addFriendship(ctx context.Context, tx *stmtCache, a, b string, now time.Time) error {
	_, err := tx.exec(ctx, `INSERT OR IGNORE INTO friendships (user_id, friend_id, created_at)
		VALUES (?1, ?2, ?3), (?2, ?1, ?3)`, a, b, ms(now))
	return err
}

// PendingRequests implements models.Friends.
func (s *Store) PendingRequests(ctx context.Context, userID string) (incoming, outgoing []*models.FriendRequest, err error) {
	if !models.ValidID(userID) {
		return nil, nil, nil
	}
	incoming, err = queryList(ctx, s.reads, scanRequest, `SELECT `+reqCols+` FROM friend_requests
		WHERE to_id = ? AND status = 'pending' ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, nil, dbErr(err)
	}
	outgoing, err = queryList(ctx, s.reads, scanRequest, `SELECT `+reqCols+` FROM friend_requests
		WHERE from_id = ? AND status = 'pending' ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, nil, dbErr(err)
	}
	return incoming, outgoing, nil
}

// AreFriends implements models.Friends.
func (s *Store) AreFriends(ctx context.Context, a, b string) (bool, error) {
	if !models.ValidID(a) || !models.ValidID(b) {
		return false, nil
	}
	var ok bool
	err := s.reads.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM friendships WHERE user_id = ? AND friend_id = ?)`, a, b).Scan(&ok)
	return ok, dbErr(err)
}

// FriendIDs implements models.Friends, oldest friendship first.
func (s *Store) FriendIDs(ctx context.Context, userID string) ([]string, error) {
	if !models.ValidID(userID) {
		return nil, nil
	}
	ids, err := queryList(ctx, s.reads, scanString, `SELECT friend_id FROM friendships
		WHERE user_id = ? ORDER BY created_at, friend_id`, userID)
	return ids, dbErr(err)
}

// RemoveFriend implements models.Friends.
func (s *Store) RemoveFriend(ctx context.Context, a, b string) (bool, error) {
	if !models.ValidID(a) || !models.ValidID(b) {
		return false, nil
	}
	var removed bool
	err := s.write(ctx, func(ctx context.Context, tx *stmtCache) error {
		res, err := tx.exec(ctx, `DELETE FROM friendships
			WHERE (user_id = ?1 AND friend_id = ?2) OR (user_id = ?2 AND friend_id = ?1)`, a, b)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		removed = n > 0
		return err
	})
	return removed, err
}

// Block implements models.Friends.
func (s *Store) Block(ctx context.Context, blocker, blocked string, now time.Time) error {
	if !models.ValidID(blocker) || !models.ValidID(blocked) {
		return models.ErrNotFound
	}
	return s.write(ctx, func(ctx context.Context, tx *stmtCache) error {
		_, err := tx.exec(ctx, `INSERT OR IGNORE INTO blocks (blocker_id, blocked_id, created_at) VALUES (?, ?, ?)`,
			blocker, blocked, ms(now))
		return err
	})
}

// Unblock implements models.Friends; unblocking someone not blocked is not an error.
func (s *Store) Unblock(ctx context.Context, blocker, blocked string) error {
	if !models.ValidID(blocker) || !models.ValidID(blocked) {
		return nil
	}
	return s.write(ctx, func(ctx context.Context, tx *stmtCache) error {
		_, err := tx.exec(ctx, `DELETE FROM blocks WHERE blocker_id = ? AND blocked_id = ?`, blocker, blocked)
		return err
	})
}

// IsBlocked implements models.Friends.
func (s *Store) IsBlocked(ctx context.Context, blocker, blocked string) (bool, error) {
	if !models.ValidID(blocker) || !models.ValidID(blocked) {
		return false, nil
	}
	var ok bool
	err := s.reads.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = ? AND blocked_id = ?)`,
		blocker, blocked).Scan(&ok)
	return ok, dbErr(err)
}

// BlockedIDs implements models.Friends, oldest block first.
func (s *Store) BlockedIDs(ctx context.Context, blocker string) ([]string, error) {
	if !models.ValidID(blocker) {
		return nil, nil
	}
	ids, err := queryList(ctx, s.reads, scanString, `SELECT blocked_id FROM blocks
		WHERE blocker_id = ? ORDER BY created_at, blocked_id`, blocker)
	return ids, dbErr(err)
}
