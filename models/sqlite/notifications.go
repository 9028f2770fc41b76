package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/parley-chat/parley/models"
)

const notifCols = `id, user_id, type, data, read, created_at, updated_at`

func scanNotification(s scanner) (*models.Notification, error) {
	var (
		n                models.Notification
		data             string
		created, updated int64
	)
	if err := s.Scan(&n.ID, &n.UserID, &n.Type, &data, &n.Read, &created, &updated); err != nil {
		return nil, err
	}
	n.Data = map[string]any{}
	if err := json.Unmarshal([]byte(data), &n.Data); err != nil {
		return nil, fmt.Errorf("notification %s data: %w", n.ID, err)
	}
	n.CreatedAt = fromMS(created)
	n.UpdatedAt = fromMS(updated)
	return &n, nil
}

// expiryCutoff is the oldest creation time still alive at now.
func expiryCutoff(now time.Time) int64 { return ms(now.Add(-models.NotificationTTL)) }

// CreateNotification implements models.Notifications.
func (s *Store) CreateNotification(ctx context.Context, n *models.Notification) error {
	if !models.ValidID(n.ID) {
		return errInvalidID("notification", n.ID)
	}
	data := n.Data
	if data == nil {
		data = map[string]any{}
	}
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("sqlite: notification data: %w", err)
	}
	// A message notification created here takes part in the collapse rule like one made
	// by UpsertMessageNotification.
	var chatID sql.NullString
	if n.Type == models.NotifyMessage {
		if c, ok := data["chatId"].(string); ok {
			chatID = sql.NullString{String: c, Valid: true}
		}
	}
	updated := n.UpdatedAt
	if updated.IsZero() {
		updated = n.CreatedAt
	}
	return s.write(ctx, func(ctx context.Context, tx *stmtCache) error {
		_, err := tx.exec(ctx, `INSERT INTO notifications (`+notifCols+`, chat_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			n.ID, n.UserID, n.Type, string(b), n.Read, ms(n.CreatedAt), ms(updated), chatID)
		return err
	})
}

// UpsertMessageNotification implements models.Notifications. Lookup and update run in one
// write, so concurrent messages to the same offline user collapse into one notification.
func (s *Store) UpsertMessageNotification(ctx context.Context, userID, chatID, messageID string, now time.Time) (*models.Notification, error) {
	if !models.ValidID(userID) || !models.ValidID(chatID) {
		return nil, models.ErrNotFound
	}
	var out *models.Notification
	err := s.write(ctx, func(ctx context.Context, tx *stmtCache) error {
		n, err := scanNotification(tx.queryRow(ctx, `UPDATE notifications SET
				data = json_set(data, '$.count', coalesce(json_extract(data, '$.count'), 0) + 1, '$.lastMessageId', ?1),
				updated_at = ?2
			WHERE id = (SELECT id FROM notifications
				WHERE user_id = ?3 AND chat_id = ?4 AND type = 'message' AND read = 0 AND created_at >= ?5
				ORDER BY created_at DESC, id DESC LIMIT 1)
			RETURNING `+notifCols, messageID, ms(now), userID, chatID, expiryCutoff(now)))
		if err == nil {
			out = n
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		n = &models.Notification{
			ID:        models.NewID(),
			UserID:    userID,
			Type:      models.NotifyMessage,
			Data:      map[string]any{"chatId": chatID, "count": float64(1), "lastMessageId": messageID},
			CreatedAt: normTime(now),
			UpdatedAt: normTime(now),
		}
		b, err := json.Marshal(n.Data)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO notifications (`+notifCols+`, chat_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			n.ID, n.UserID, n.Type, string(b), false, ms(now), ms(now), chatID); err != nil {
			return err
		}
		out = n
		return nil
	})
	return out, err
}

// ListNotifications implements models.Notifications. The Before cursor is a notification
// id; its (created_at, id) is the exclusive upper bound. A cursor that names no
// notification of the user yields an empty page.
func (s *Store) ListNotifications(ctx context.Context, userID string, q models.NotificationQuery) ([]*models.Notification, error) {
	if !models.ValidID(userID) {
		return []*models.Notification{}, nil
	}
	now := q.Now
	if now.IsZero() {
		now = time.Now()
	}
	var cursor sql.NullString
	if q.Before != "" {
		if !models.ValidID(q.Before) {
			return []*models.Notification{}, nil
		}
		cursor = sql.NullString{String: q.Before, Valid: true}
	}
	list, err := queryList(ctx, s.reads, scanNotification, `SELECT `+notifCols+` FROM notifications n
		WHERE user_id = ?1 AND created_at >= ?2 AND (NOT ?3 OR read = 0)
		  AND (?4 IS NULL OR (created_at, id) < (SELECT created_at, id FROM notifications WHERE id = ?4 AND user_id = ?1))
		ORDER BY created_at DESC, id DESC
		LIMIT ?5`, userID, expiryCutoff(now), q.UnreadOnly, cursor, sqlLimit(q.Limit))
	if err != nil {
		return nil, dbErr(err)
	}
	if list == nil {
		list = []*models.Notification{}
	}
	return list, nil
}

// MarkNotificationsRead implements models.Notifications.
func (s *Store) MarkNotificationsRead(ctx context.Context, userID string, ids []string, all bool) error {
	if !models.ValidID(userID) {
		return nil
	}
	now := ms(time.Now())
	if all {
		return s.write(ctx, func(ctx context.Context, tx *stmtCache) error {
			_, err := tx.exec(ctx, `UPDATE notifications SET read = 1, updated_at = ? WHERE user_id = ? AND read = 0`, now, userID)
			return err
		})
	}
	arg, ok := idList(ids)
	if !ok {
		return nil
	}
	return s.write(ctx, func(ctx context.Context, tx *stmtCache) error {
		_, err := tx.exec(ctx, `UPDATE notifications SET read = 1, updated_at = ?
			WHERE user_id = ? AND read = 0 AND id IN (SELECT value FROM json_each(?))`, now, userID, arg)
		return err
	})
}

// UnreadNotifications implements models.Notifications.
func (s *Store) UnreadNotifications(ctx context.Context, userID string, now time.Time) (int, error) {
	if !models.ValidID(userID) {
		return 0, nil
	}
	var n int
	err := s.reads.queryRow(ctx, `SELECT count(*) FROM notifications
		WHERE user_id = ? AND read = 0 AND created_at >= ?`, userID, expiryCutoff(now)).Scan(&n)
	return n, dbErr(err)
}

// DeleteExpiredNotifications implements models.Notifications.
func (s *Store) DeleteExpiredNotifications(ctx context.Context, cutoff time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *stmtCache) error {
		res, err := tx.exec(ctx, `DELETE FROM notifications WHERE created_at < ?`, ms(cutoff))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
