package sqlite

import (
	"context"
	"database/sql"
	"sort"
	"time"

	"github.com/parley-chat/parley/models"
)

const chatCols = `c.id, c.type, c.name, c.created_by, c.created_at, c.updated_at, c.last_activity, c.last_seq`

func scanChat(s scanner) (*models.Chat, error) {
	var (
		c                         models.Chat
		name                      sql.NullString
		created, updated, lastAct int64
	)
	if err := s.Scan(&c.ID, &c.Type, &name, &c.CreatedBy, &created, &updated, &lastAct, &c.LastSeq); err != nil {
		return nil, err
	}
	c.Name = strPtr(name)
	c.CreatedAt = fromMS(created)
	c.UpdatedAt = fromMS(updated)
	c.LastActivity = fromMS(lastAct)
	return &c, nil
}

// directKey names the pair of a direct chat independently of who created it.
func directKey(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return a + ":" + b
}

// fillMembers loads Participants (join order) and Admins (grant order) of chats.
func fillMembers(ctx context.Context, q *stmtCache, chats []*models.Chat) error {
	if len(chats) == 0 {
		return nil
	}
	byID := make(map[string]*models.Chat, len(chats))
	ids := make([]string, 0, len(chats))
	for _, c := range chats {
		byID[c.ID] = c
		c.Participants = []string{}
		c.Admins = []string{}
		ids = append(ids, c.ID)
	}
	arg, ok := idList(ids)
	if !ok {
		return nil
	}
	rows, err := q.query(ctx, `SELECT chat_id, user_id, admin_pos, muted_until FROM chat_members
		WHERE chat_id IN (SELECT value FROM json_each(?)) ORDER BY chat_id, position`, arg)
	if err != nil {
		return err
	}
	defer rows.Close()
	type grant struct {
		pos  int64
		user string
	}
	admins := make(map[string][]grant)
	for rows.Next() {
		var chatID, userID string
		var adminPos, mutedUntil sql.NullInt64
		if err := rows.Scan(&chatID, &userID, &adminPos, &mutedUntil); err != nil {
			return err
		}
		c := byID[chatID]
		c.Participants = append(c.Participants, userID)
		if mutedUntil.Valid {
			if c.MutedUntil == nil {
				c.MutedUntil = map[string]time.Time{}
			}
			c.MutedUntil[userID] = fromMS(mutedUntil.Int64)
		}
		if adminPos.Valid {
			admins[chatID] = append(admins[chatID], grant{adminPos.Int64, userID})
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for chatID, gs := range admins {
		sort.Slice(gs, func(i, j int) bool { return gs[i].pos < gs[j].pos })
		c := byID[chatID]
		for _, g := range gs {
			c.Admins = append(c.Admins, g.user)
		}
	}
	return nil
}

// loadChat reads one chat with its members through q (the read pool, or the writer
// connection inside a write so the answer reflects that write).
func loadChat(ctx context.Context, q *stmtCache, id string) (*models.Chat, error) {
	c, err := scanChat(q.queryRow(ctx, `SELECT `+chatCols+` FROM chats c WHERE c.id = ?`, id))
	if err != nil {
		return nil, err
	}
	if err := fillMembers(ctx, q, []*models.Chat{c}); err != nil {
		return nil, err
	}
	return c, nil
}

// CreateChat implements models.Chats.
func (s *Store) CreateChat(ctx context.Context, c *models.Chat) error {
	if !models.ValidID(c.ID) {
		return errInvalidID("chat", c.ID)
	}
	var key sql.NullString
	if c.Type == models.ChatDirect {
		switch len(c.Participants) {
		case 1:
			key = sql.NullString{String: directKey(c.Participants[0], c.Participants[0]), Valid: true}
		case 2:
			key = sql.NullString{String: directKey(c.Participants[0], c.Participants[1]), Valid: true}
		}
	}
	updated, lastAct := c.UpdatedAt, c.LastActivity
	if updated.IsZero() {
		updated = c.CreatedAt
	}
	if lastAct.IsZero() {
		lastAct = c.CreatedAt
	}
	adminPos := make(map[string]int, len(c.Admins))
	for i, a := range c.Admins {
		if _, dup := adminPos[a]; !dup {
			adminPos[a] = i
		}
	}
	return s.write(ctx, func(ctx context.Context, tx *stmtCache) error {
		if _, err := tx.exec(ctx, `INSERT INTO chats
			(id, type, name, created_by, created_at, updated_at, last_activity, last_seq, direct_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.Type, nullStr(c.Name), c.CreatedBy, ms(c.CreatedAt), ms(updated), ms(lastAct), c.LastSeq, key); err != nil {
			return err
		}
		for i, p := range c.Participants {
			var ap sql.NullInt64
			if pos, ok := adminPos[p]; ok {
				ap = sql.NullInt64{Int64: int64(pos), Valid: true}
			}
			if _, err := tx.exec(ctx, `INSERT OR IGNORE INTO chat_members (chat_id, user_id, position, admin_pos)
				VALUES (?, ?, ?, ?)`, c.ID, p, i, ap); err != nil {
				return err
			}
		}
		return nil
	})
}

// DirectChat implements models.Chats.
func (s *Store) DirectChat(ctx context.Context, a, b string) (*models.Chat, error) {
	if !models.ValidID(a) || !models.ValidID(b) {
		return nil, models.ErrNotFound
	}
	c, err := scanChat(s.reads.queryRow(ctx, `SELECT `+chatCols+` FROM chats c WHERE c.direct_key = ?`, directKey(a, b)))
	if err != nil {
		return nil, dbErr(err)
	}
	if err := fillMembers(ctx, s.reads, []*models.Chat{c}); err != nil {
		return nil, dbErr(err)
	}
	return c, nil
}

// ChatByID implements models.Chats.
func (s *Store) ChatByID(ctx context.Context, id string) (*models.Chat, error) {
	if !models.ValidID(id) {
		return nil, models.ErrNotFound
	}
	c, err := loadChat(ctx, s.reads, id)
	return c, dbErr(err)
}

// ChatsForUser implements models.Chats.
func (s *Store) ChatsForUser(ctx context.Context, userID string, before *models.ChatCursor, limit int) ([]*models.Chat, error) {
	if !models.ValidID(userID) {
		return nil, nil
	}
	var curAct sql.NullInt64
	var curID string
	if before != nil {
		curAct = sql.NullInt64{Int64: ms(before.LastActivity), Valid: true}
		curID = before.ID
	}
	chats, err := queryList(ctx, s.reads, scanChat, `SELECT `+chatCols+`
		FROM chat_members m JOIN chats c ON c.id = m.chat_id
		WHERE m.user_id = ?1
		  AND (?2 IS NULL OR c.last_activity < ?2 OR (c.last_activity = ?2 AND c.id < ?3))
		ORDER BY c.last_activity DESC, c.id DESC
		LIMIT ?4`, userID, curAct, curID, sqlLimit(limit))
	if err != nil {
		return nil, dbErr(err)
	}
	if err := fillMembers(ctx, s.reads, chats); err != nil {
		return nil, dbErr(err)
	}
	return chats, nil
}

// ChatIDsForUser implements models.Chats.
func (s *Store) ChatIDsForUser(ctx context.Context, userID string) ([]string, error) {
	if !models.ValidID(userID) {
		return nil, nil
	}
	ids, err := queryList(ctx, s.reads, scanString, `SELECT chat_id FROM chat_members WHERE user_id = ?`, userID)
	return ids, dbErr(err)
}

// updateChat runs change on chat id inside one write and returns the chat as that write
// left it. change runs after the chat is known to exist.
func (s *Store) updateChat(ctx context.Context, id string, now time.Time, change func(ctx context.Context, tx *stmtCache) error) (*models.Chat, error) {
	if !models.ValidID(id) {
		return nil, models.ErrNotFound
	}
	return s.writeChat(ctx, id, func(ctx context.Context, tx *stmtCache) error {
		if err := mustAffect(tx.exec(ctx, `UPDATE chats SET updated_at = ? WHERE id = ?`, ms(now), id)); err != nil {
			return err
		}
		return change(ctx, tx)
	})
}

// writeChat runs change inside one write and returns chat id as that write left it.
func (s *Store) writeChat(ctx context.Context, id string, change func(ctx context.Context, tx *stmtCache) error) (*models.Chat, error) {
	var out *models.Chat
	err := s.write(ctx, func(ctx context.Context, tx *stmtCache) error {
		if err := change(ctx, tx); err != nil {
			return err
		}
		c, err := loadChat(ctx, tx, id)
		out = c
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SetChatName implements models.Chats.
func (s *Store) SetChatName(ctx context.Context, id, name string, now time.Time) (*models.Chat, error) {
	return s.updateChat(ctx, id, now, func(ctx context.Context, tx *stmtCache) error {
		_, err := tx.exec(ctx, `UPDATE chats SET name = ? WHERE id = ?`, name, id)
		return err
	})
}

// AddParticipants implements models.Chats.
func (s *Store) AddParticipants(ctx context.Context, id string, userIDs []string, now time.Time) (*models.Chat, error) {
	return s.updateChat(ctx, id, now, func(ctx context.Context, tx *stmtCache) error {
		for _, u := range userIDs {
			if !models.ValidID(u) {
				continue
			}
			// Existing members are left where they are (OR IGNORE on the primary key);
			// newcomers go after the last position.
			if _, err := tx.exec(ctx, `INSERT OR IGNORE INTO chat_members (chat_id, user_id, position, admin_pos)
				SELECT ?1, ?2, coalesce(max(position), -1) + 1, NULL FROM chat_members WHERE chat_id = ?1`,
				id, u); err != nil {
				return err
			}
		}
		return nil
	})
}

// RemoveParticipant implements models.Chats.
func (s *Store) RemoveParticipant(ctx context.Context, id, userID string, now time.Time) (*models.Chat, error) {
	return s.updateChat(ctx, id, now, func(ctx context.Context, tx *stmtCache) error {
		if _, err := tx.exec(ctx, `DELETE FROM chat_members WHERE chat_id = ? AND user_id = ?`, id, userID); err != nil {
			return err
		}
		// A group left with members but no admin promotes its longest-standing member.
		_, err := tx.exec(ctx, `UPDATE chat_members SET admin_pos = 0
			WHERE chat_id = ?1
			  AND (SELECT type FROM chats WHERE id = ?1) = 'group'
			  AND NOT EXISTS (SELECT 1 FROM chat_members WHERE chat_id = ?1 AND admin_pos IS NOT NULL)
			  AND position = (SELECT min(position) FROM chat_members WHERE chat_id = ?1)`, id)
		return err
	})
}

// SetAdmin implements models.Chats. A user who is not a member gets ErrNotFound.
func (s *Store) SetAdmin(ctx context.Context, id, userID string, admin bool, now time.Time) (*models.Chat, error) {
	return s.updateChat(ctx, id, now, func(ctx context.Context, tx *stmtCache) error {
		var isMember bool
		if err := tx.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM chat_members WHERE chat_id = ? AND user_id = ?)`,
			id, userID).Scan(&isMember); err != nil {
			return err
		}
		if !isMember {
			return models.ErrNotFound
		}
		if !admin {
			_, err := tx.exec(ctx, `UPDATE chat_members SET admin_pos = NULL WHERE chat_id = ? AND user_id = ?`, id, userID)
			return err
		}
		// Granting again keeps the original grant order.
		_, err := tx.exec(ctx, `UPDATE chat_members
			SET admin_pos = (SELECT coalesce(max(admin_pos), -1) + 1 FROM chat_members WHERE chat_id = ?1)
			WHERE chat_id = ?1 AND user_id = ?2 AND admin_pos IS NULL`, id, userID)
		return err
	})
}

// SetMute implements models.Chats. The mute is a column of the membership row, so it goes
// with the membership; the chat's updated_at does not move (a mute is the member's own).
func (s *Store) SetMute(ctx context.Context, id, userID string, until *time.Time) (*models.Chat, error) {
	if !models.ValidID(id) || !models.ValidID(userID) {
		return nil, models.ErrNotFound
	}
	return s.writeChat(ctx, id, func(ctx context.Context, tx *stmtCache) error {
		return mustAffect(tx.exec(ctx, `UPDATE chat_members SET muted_until = ? WHERE chat_id = ? AND user_id = ?`,
			nullMS(until), id, userID))
	})
}
