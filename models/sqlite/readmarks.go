package sqlite

import (
	"context"

	"github.com/parley-chat/parley/models"
)

// MarkRead implements models.ReadMarks. The upsert keeps the larger mark, so concurrent
// marks from several tabs can only move it forward.
func (s *Store) MarkRead(ctx context.Context, chatID, userID string, seq int64) (int64, error) {
	if !models.ValidID(chatID) || !models.ValidID(userID) {
		return 0, models.ErrNotFound
	}
	var out int64
	err := s.write(ctx, func(ctx context.Context, tx *stmtCache) error {
		return tx.queryRow(ctx, `INSERT INTO read_marks (chat_id, user_id, read_seq) VALUES (?, ?, max(?, 0))
			ON CONFLICT (user_id, chat_id) DO UPDATE SET read_seq = max(read_seq, excluded.read_seq)
			RETURNING read_seq`, chatID, userID, seq).Scan(&out)
	})
	return out, err
}

// ReadSeqs implements models.ReadMarks.
func (s *Store) ReadSeqs(ctx context.Context, userID string, chatIDs []string) (map[string]int64, error) {
	out := make(map[string]int64, len(chatIDs))
	for _, id := range chatIDs {
		out[id] = 0
	}
	arg, ok := idList(chatIDs)
	if !ok || !models.ValidID(userID) {
		return out, nil
	}
	rows, err := s.reads.query(ctx, `SELECT chat_id, read_seq FROM read_marks
		WHERE user_id = ? AND chat_id IN (SELECT value FROM json_each(?))`, userID, arg)
	if err != nil {
		return nil, dbErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var chatID string
		var seq int64
		if err := rows.Scan(&chatID, &seq); err != nil {
			return nil, dbErr(err)
		}
		out[chatID] = seq
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(err)
	}
	return out, nil
}
