package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley/models"
)

const msgCols = `id, chat_id, seq, sender_id, text, reply_to_id, client_id, created_at, edited_at, deleted, reactions, mentions`

// defaultMessageLimit is the message:list default page size, used when the caller passes
// no limit.
const defaultMessageLimit = 50

func scanMessage(s scanner) (*models.Message, error) {
	var (
		m                 models.Message
		replyTo, clientID sql.NullString
		created           int64
		edited            sql.NullInt64
		reactions         sql.NullString
		mentions          sql.NullString
	)
	if err := s.Scan(&m.ID, &m.ChatID, &m.Seq, &m.SenderID, &m.Text, &replyTo, &clientID, &created, &edited, &m.Deleted, &reactions, &mentions); err != nil {
		return nil, err
	}
	m.ReplyToID = strPtr(replyTo)
	m.ClientID = strPtr(clientID)
	m.CreatedAt = fromMS(created)
	m.EditedAt = timePtr(edited)
	if reactions.Valid && !m.Deleted {
		var err error
		if m.Reactions, err = decodeReactions([]byte(reactions.String)); err != nil {
			return nil, fmt.Errorf("message %s: %w", m.ID, err)
		}
	}
	if mentions.Valid && !m.Deleted {
		if err := json.Unmarshal([]byte(mentions.String), &m.Mentions); err != nil {
			return nil, fmt.Errorf("message %s: mentions: %w", m.ID, err)
		}
		if len(m.Mentions) == 0 {
			m.Mentions = nil
		}
	}
	return &m, nil
}

// encodeMentions is the messages.mentions value for ids: NULL (a nil interface, which
// costs the send of a message without mentions no allocation) when there are none, else
// the JSON list. InsertMessage copies the list into message_mentions, and the triggers of
// columnTriggers keep it there when the column changes.
func encodeMentions(ids []string) (any, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	// Ids are 24-hex, so the JSON list needs no escaping: built in one allocation.
	var b strings.Builder
	b.Grow(len(ids) * 27)
	for i, id := range ids {
		if !models.ValidID(id) {
			return nil, errInvalidID("mentioned user", id)
		}
		if i == 0 {
			b.WriteString(`["`)
		} else {
			b.WriteString(`","`)
		}
		b.WriteString(id)
	}
	b.WriteString(`"]`)
	return b.String(), nil
}

// reactionJSON is how messages.reactions keeps one emoji: [{"emoji","userIds"}, …] in
// order of first use, NULL when there are none. One column read with the message costs
// the reads of a message without reactions nothing, and the writer's single connection
// makes the read-modify-write of React and Unreact atomic.
type reactionJSON struct {
	Emoji   string   `json:"emoji"`
	UserIDs []string `json:"userIds"`
}

func decodeReactions(raw []byte) ([]models.Reaction, error) {
	var list []reactionJSON
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("reactions: %w", err)
	}
	out := make([]models.Reaction, 0, len(list))
	for _, r := range list {
		if len(r.UserIDs) > 0 {
			out = append(out, models.Reaction{Emoji: r.Emoji, UserIDs: r.UserIDs})
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// encodeReactions is the column value for rs: NULL when there are none.
func encodeReactions(rs []models.Reaction) (sql.NullString, error) {
	if len(rs) == 0 {
		return sql.NullString{}, nil
	}
	list := make([]reactionJSON, len(rs))
	for i, r := range rs {
		list[i] = reactionJSON{Emoji: r.Emoji, UserIDs: r.UserIDs}
	}
	b, err := json.Marshal(list)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

// insertMessageSQL inserts a message (see InsertMessage); mentions is NULL when there
// are none. A repeated (sender, chat, clientId) inserts nothing.
const insertMessageSQL = `INSERT INTO messages
		(id, chat_id, seq, sender_id, text, reply_to_id, client_id, created_at, updated_at, edited_at, deleted, mentions)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (sender_id, chat_id, client_id) WHERE client_id IS NOT NULL DO NOTHING`

// insertMentionsSQL copies a new message's mentions into message_mentions.
const insertMentionsSQL = `INSERT OR IGNORE INTO message_mentions (user_id, chat_id, seq)
		SELECT value, ?, ? FROM json_each(?)`

// InsertMessage implements models.Messages. It is the hot path: it goes through the
// writer's group commit, so concurrent sends share one transaction. Its seq is the chat's
// last_seq + 1 as the writer knows it, and what the send does to the chat's row and the
// search notes is written once per batch (sendeffects.go), so a message without mentions
// or attachments is one statement. A duplicate earlier in the same batch is visible to
// the idempotency check, so it also comes back as the original.
func (s *Store) InsertMessage(ctx context.Context, m *models.Message) (*models.Message, bool, error) {
	if !models.ValidID(m.ChatID) {
		return nil, false, models.ErrNotFound
	}
	in := *m
	if in.ID == "" {
		in.ID = models.NewID()
	} else if !models.ValidID(in.ID) {
		return nil, false, errInvalidID("message", in.ID)
	}
	if in.CreatedAt.IsZero() {
		in.CreatedAt = time.Now()
	}
	in.CreatedAt = normTime(in.CreatedAt)
	in.EditedAt = normTimePtr(in.EditedAt)
	if len(in.Mentions) == 0 {
		in.Mentions = nil
	}
	mentions, err := encodeMentions(in.Mentions)
	if err != nil {
		return nil, false, err
	}
	var (
		out     *models.Message
		created bool
	)
	// The job runs on the writer goroutine, the only one that touches s.w.effects.
	job := func(ctx context.Context, tx *stmtCache) error {
		effects := s.w.effects
		seq, err := effects.nextSeq(ctx, tx, in.ChatID)
		if err != nil {
			return err // models.ErrNotFound: no such chat
		}
		res, err := tx.exec(ctx, insertMessageSQL,
			in.ID, in.ChatID, seq, in.SenderID, in.Text, nullStr(in.ReplyToID), nullStr(in.ClientID),
			ms(in.CreatedAt), ms(in.CreatedAt), nullMS(in.EditedAt), in.Deleted, mentions)
		if err != nil {
			effects.forget(in.ChatID) // perhaps the seq it knew was taken
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			if in.ClientID == nil {
				return fmt.Errorf("sqlite: inserting message %s changed nothing", in.ID)
			}
			// A repeated clientId: the original, as stored.
			orig, err := scanMessage(tx.queryRow(ctx, `SELECT `+msgCols+` FROM messages
				WHERE sender_id = ? AND chat_id = ? AND client_id = ?`, in.SenderID, in.ChatID, *in.ClientID))
			if err != nil {
				return err
			}
			if orig.Attachments, err = attachmentsOf(ctx, tx, orig.ID); err != nil {
				return err
			}
			out = orig
			return nil
		}
		rowid, err := res.LastInsertId()
		if err != nil {
			return err
		}
		in.Seq = seq
		if mentions != nil {
			if _, err := tx.exec(ctx, insertMentionsSQL, in.ChatID, seq, mentions); err != nil {
				return err // the job's savepoint undoes the insert too
			}
		}
		stored := in
		stored.Attachments = nil
		if len(in.Attachments) > 0 {
			// A refusal returns an error: the job's savepoint undoes the insert too.
			if stored.Attachments, err = claimAttachments(ctx, tx, &in); err != nil {
				return err
			}
		}
		// Last, once nothing can fail: the message stays, so its effects are due.
		effects.sent(in.ChatID, seq, ms(in.CreatedAt), rowid)
		out, created = &stored, true
		return nil
	}
	// The hot path changes the database with one statement: no savepoint needed.
	single := mentions == nil && len(in.Attachments) == 0
	if err := dbErr(s.w.do(ctx, job, single, true)); err != nil {
		return nil, false, err
	}
	if created {
		m.Seq = out.Seq // the contract assigns m.Seq; done here, on the caller's goroutine
	}
	return out, created, nil
}

// MessageByID implements models.Messages.
func (s *Store) MessageByID(ctx context.Context, id string) (*models.Message, error) {
	if !models.ValidID(id) {
		return nil, models.ErrNotFound
	}
	m, err := scanMessage(s.reads.queryRow(ctx, `SELECT `+msgCols+` FROM messages WHERE id = ?`, id))
	return m, dbErr(err)
}

// MessagesByIDs implements models.Messages.
func (s *Store) MessagesByIDs(ctx context.Context, ids []string) ([]*models.Message, error) {
	arg, ok := idList(ids)
	if !ok {
		return nil, nil
	}
	list, err := queryList(ctx, s.reads, scanMessage,
		`SELECT `+msgCols+` FROM messages WHERE id IN (SELECT value FROM json_each(?))`, arg)
	return list, dbErr(err)
}

// ListMessages implements models.Messages with the message:list rules: without a cursor
// or with before only, the newest page (walking back, so hasMore means older ones); with
// after (alone or with before), the oldest page after it (walking forward, hasMore means
// newer ones inside the bounds). One extra row is read to learn hasMore.
func (s *Store) ListMessages(ctx context.Context, chatID string, q models.MessageQuery) ([]*models.Message, bool, error) {
	if !models.ValidID(chatID) {
		return []*models.Message{}, false, nil
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultMessageLimit
	}
	// Unset bounds become open ones so one statement per direction serves every case.
	after := max(q.After, 0)
	before := q.Before
	if before <= 0 {
		before = 1<<63 - 1
	}
	forward := q.After != 0 // a negative After means "from the first message"
	var query string
	if forward {
		query = `SELECT ` + msgCols + ` FROM messages WHERE chat_id = ? AND seq > ? AND seq < ? ORDER BY seq ASC LIMIT ?`
	} else {
		query = `SELECT ` + msgCols + ` FROM messages WHERE chat_id = ? AND seq > ? AND seq < ? ORDER BY seq DESC LIMIT ?`
	}
	page, err := queryList(ctx, s.reads, scanMessage, query, chatID, after, before, limit+1)
	if err != nil {
		return nil, false, dbErr(err)
	}
	hasMore := len(page) > limit
	if hasMore {
		page = page[:limit]
	}
	if !forward {
		slices.Reverse(page)
	}
	if page == nil {
		page = []*models.Message{}
	}
	return page, hasMore, nil
}

// LastMessages implements models.Messages.
func (s *Store) LastMessages(ctx context.Context, chatIDs []string) (map[string]*models.Message, error) {
	out := make(map[string]*models.Message)
	arg, ok := idList(chatIDs)
	if !ok {
		return out, nil
	}
	// The correlated max(seq) is one probe of the (chat_id, seq) index per chat.
	list, err := queryList(ctx, s.reads, scanMessage, `SELECT `+msgCols+` FROM messages
		WHERE chat_id IN (SELECT value FROM json_each(?1))
		  AND seq = (SELECT max(seq) FROM messages m2 WHERE m2.chat_id = messages.chat_id)`, arg)
	if err != nil {
		return nil, dbErr(err)
	}
	for _, m := range list {
		out[m.ChatID] = m
	}
	return out, nil
}

// EditMessage implements models.Messages. One statement: the messages_mentions_update
// trigger replaces the message's rows of message_mentions within it.
func (s *Store) EditMessage(ctx context.Context, id, text string, mentions []string, at time.Time) (*models.Message, error) {
	if !models.ValidID(id) {
		return nil, models.ErrNotFound
	}
	col, err := encodeMentions(mentions)
	if err != nil {
		return nil, err
	}
	var out *models.Message
	err = s.writeOne(ctx, func(ctx context.Context, tx *stmtCache) error {
		m, err := scanMessage(tx.queryRow(ctx, `UPDATE messages SET text = ?1, edited_at = ?2, updated_at = ?2, mentions = ?4
			WHERE id = ?3 AND deleted = 0 RETURNING `+msgCols, text, ms(at), id, col))
		out = m
		return err
	})
	return out, dbErr(err)
}

// DeleteMessage implements models.Messages. Deleting again changes nothing. The message's
// attachments are marked for removal in the same transaction, then their files and rows
// go (attachments.go); whatever a crash interrupts, the sweep finishes.
func (s *Store) DeleteMessage(ctx context.Context, id string, at time.Time) (*models.Message, error) {
	if !models.ValidID(id) {
		return nil, models.ErrNotFound
	}
	var (
		out     *models.Message
		removed []string
	)
	err := s.write(ctx, func(ctx context.Context, tx *stmtCache) error {
		m, err := scanMessage(tx.queryRow(ctx, `UPDATE messages SET
				updated_at = CASE WHEN deleted THEN updated_at ELSE ?1 END,
				deleted = 1, text = '', reactions = NULL, mentions = NULL
			WHERE id = ?2 RETURNING `+msgCols, ms(at), id))
		if err != nil {
			return err
		}
		if removed, err = markMessageAttachments(ctx, tx, id); err != nil {
			return err
		}
		out = m
		return nil
	})
	if err != nil {
		return nil, dbErr(err)
	}
	if len(removed) > 0 {
		dctx, cancel := detached(ctx)
		defer cancel()
		if _, err := s.removeAttachments(dctx, removed); err != nil {
			s.log.Warn().Err(err).Str("message", id).Msg("sqlite: could not remove a deleted message's attachments yet; the sweep will")
		}
	}
	return out, nil
}

// CountUnread implements models.Messages.
func (s *Store) CountUnread(ctx context.Context, chatID, userID string, afterSeq int64) (int, error) {
	if !models.ValidID(chatID) {
		return 0, nil
	}
	var n int
	err := s.reads.queryRow(ctx, `SELECT count(*) FROM messages
		WHERE chat_id = ? AND seq > ? AND sender_id <> ? AND deleted = 0`, chatID, afterSeq, userID).Scan(&n)
	return n, dbErr(err)
}

// unreadMentionsQuery counts, for each {chatId: mark} of the JSON object ?2, the rows of
// message_mentions of user ?1 in that chat above the mark: one range of the primary key
// (user, chat, seq > mark) per chat.
const unreadMentionsQuery = `SELECT j.key, (SELECT count(*) FROM message_mentions m
		WHERE m.user_id = ?1 AND m.chat_id = j.key AND m.seq > j.value)
	FROM json_each(?2) j`

// UnreadMentions implements models.Messages in one statement (unreadMentionsQuery).
func (s *Store) UnreadMentions(ctx context.Context, userID string, after map[string]int64) (map[string]int, error) {
	out := map[string]int{}
	if !models.ValidID(userID) || len(after) == 0 {
		return out, nil
	}
	marks := make(map[string]int64, len(after))
	for id, seq := range after {
		if models.ValidID(id) {
			marks[id] = max(seq, 0)
		}
	}
	if len(marks) == 0 {
		return out, nil
	}
	arg, err := json.Marshal(marks)
	if err != nil {
		return nil, err
	}
	rows, err := s.reads.query(ctx, unreadMentionsQuery, userID, string(arg))
	if err != nil {
		return nil, dbErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			chatID string
			n      int
		)
		if err := rows.Scan(&chatID, &n); err != nil {
			return nil, dbErr(err)
		}
		if n > 0 {
			out[chatID] = n
		}
	}
	return out, dbErr(rows.Err())
}

// React implements models.Messages: read the message's reactions, change them, write them
// back, all in one job of the single writer, so concurrent reactions (on any number of
// goroutines) apply one after another and none is lost.
func (s *Store) React(ctx context.Context, id, userID, emoji string) (*models.Message, bool, error) {
	return s.changeReactions(ctx, id, func(rs []models.Reaction) ([]models.Reaction, bool, error) {
		return models.AddReaction(rs, userID, emoji)
	})
}

// Unreact implements models.Messages (see React).
func (s *Store) Unreact(ctx context.Context, id, userID, emoji string) (*models.Message, bool, error) {
	return s.changeReactions(ctx, id, func(rs []models.Reaction) ([]models.Reaction, bool, error) {
		out, changed := models.RemoveReaction(rs, userID, emoji)
		return out, changed, nil
	})
}

func (s *Store) changeReactions(ctx context.Context, id string,
	change func([]models.Reaction) ([]models.Reaction, bool, error)) (*models.Message, bool, error) {
	if !models.ValidID(id) {
		return nil, false, models.ErrNotFound
	}
	var (
		out     *models.Message
		changed bool
	)
	// One statement changes the database (the UPDATE), so the job needs no savepoint.
	err := s.writeOne(ctx, func(ctx context.Context, tx *stmtCache) error {
		m, err := scanMessage(tx.queryRow(ctx, `SELECT `+msgCols+` FROM messages WHERE id = ?`, id))
		if err != nil {
			return err
		}
		if m.Deleted {
			return models.ErrNotFound
		}
		next, ch, err := change(m.Reactions)
		if err != nil || !ch {
			out = m
			return err
		}
		col, err := encodeReactions(next)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE messages SET reactions = ? WHERE id = ?`, col, id); err != nil {
			return err
		}
		m.Reactions = next
		out, changed = m, true
		return nil
	})
	if err != nil {
		return nil, false, dbErr(err)
	}
	return out, changed, nil
}
