package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/rs/zerolog"
)

// schemaVersion is stored in PRAGMA user_version. Bump it and add a step to migrate when
// the schema changes; the statements below stay idempotent so a half-applied version is
// finished by the next open.
const schemaVersion = 7

// schema is version 7: version 1, plus the messages_seq trigger (2), plus
// messages.reactions and chat_members.muted_until (3, added to older files by
// addedColumns), plus messages.mentions (an added column) and the message_mentions table,
// kept by the triggers of columnTriggers, and the attachments table (4), plus the
// message_search index, its pending table and their triggers (5, the index filled for
// older files by migrate), with the three triggers of an insert made one (6,
// messages_insert), with no insert trigger at all (7: InsertMessage and the writer's
// sendEffects do what it did). Ids are 24-hex TEXT; times are INTEGER Unix milliseconds.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS users (
		id            TEXT PRIMARY KEY,
		handle        TEXT NOT NULL UNIQUE,
		name          TEXT NOT NULL,
		name_lower    TEXT NOT NULL, -- for case-insensitive prefix search on names
		image         TEXT,
		password_hash TEXT NOT NULL DEFAULT '',
		last_seen     INTEGER,
		created_at    INTEGER NOT NULL,
		updated_at    INTEGER NOT NULL
	)`,

	// direct_key is "minId:maxId" for direct chats and NULL for groups: the UNIQUE
	// constraint is what makes a second direct chat for the same pair a conflict, even
	// when two servers race to create it.
	`CREATE TABLE IF NOT EXISTS chats (
		id            TEXT PRIMARY KEY,
		type          TEXT NOT NULL,
		name          TEXT,
		created_by    TEXT NOT NULL,
		created_at    INTEGER NOT NULL,
		updated_at    INTEGER NOT NULL,
		last_activity INTEGER NOT NULL,
		last_seq      INTEGER NOT NULL DEFAULT 0,
		direct_key    TEXT UNIQUE
	)`,

	// position keeps join order (Participants, and who is promoted when the last admin
	// leaves); admin_pos is NULL for plain members and otherwise the order in which
	// admin rights were granted (Admins).
	`CREATE TABLE IF NOT EXISTS chat_members (
		chat_id   TEXT NOT NULL,
		user_id   TEXT NOT NULL,
		position  INTEGER NOT NULL,
		admin_pos INTEGER,
		muted_until INTEGER, -- NULL: not muted (v3)
		PRIMARY KEY (chat_id, user_id)
	) WITHOUT ROWID`,
	`CREATE INDEX IF NOT EXISTS chat_members_user ON chat_members (user_id, chat_id)`,

	`CREATE TABLE IF NOT EXISTS messages (
		id          TEXT PRIMARY KEY,
		chat_id     TEXT NOT NULL,
		seq         INTEGER NOT NULL,
		sender_id   TEXT NOT NULL,
		text        TEXT NOT NULL,
		reply_to_id TEXT,
		client_id   TEXT,
		created_at  INTEGER NOT NULL,
		updated_at  INTEGER NOT NULL,
		edited_at   INTEGER,
		deleted     INTEGER NOT NULL DEFAULT 0,
		reactions   TEXT, -- NULL: none; else JSON [{"emoji","userIds"}] in order of first use (v3)
		mentions    TEXT  -- NULL: none; else JSON ["userId", …] in order of first mention (v4)
	)`,
	`CREATE UNIQUE INDEX IF NOT EXISTS messages_chat_seq ON messages (chat_id, seq)`,
	// Idempotent sends: one message per (sender, chat, clientId) when clientId is given.
	`CREATE UNIQUE INDEX IF NOT EXISTS messages_client ON messages (sender_id, chat_id, client_id)
		WHERE client_id IS NOT NULL`,

	// One row per (mentioned user, message), copied from messages.mentions by the
	// triggers below, so Chat.unreadMentions is a count over one range of the primary key:
	// (the viewer, the chat, seq > their read mark). A deleted message has no mentions,
	// hence no rows.
	`CREATE TABLE IF NOT EXISTS message_mentions (
		user_id TEXT NOT NULL,
		chat_id TEXT NOT NULL,
		seq     INTEGER NOT NULL,
		PRIMARY KEY (user_id, chat_id, seq)
	) WITHOUT ROWID`,

	// Message search (search.go): one row per message that is not deleted, under the
	// message's rowid, holding its chat-prefixed words. The triggers only note which
	// messages changed (message_search_pending; an insert is noted by messages_insert); the
	// indexer moves them into the index in bulk, and a search reads the index plus the
	// noted messages (search.go).
	`CREATE VIRTUAL TABLE IF NOT EXISTS message_search USING fts5(tokens,
		content='', contentless_delete=1, detail=none, tokenize='ascii')`,
	// fresh: the message was inserted since it was noted, so the index has no row of it
	// to remove.
	`CREATE TABLE IF NOT EXISTS message_search_pending (
		msg   INTEGER PRIMARY KEY, -- messages.rowid
		fresh INTEGER NOT NULL
	)`,
	`CREATE TRIGGER IF NOT EXISTS messages_search_update AFTER UPDATE OF text, deleted, chat_id ON messages BEGIN
		INSERT INTO message_search_pending (msg, fresh) VALUES (OLD.rowid, 0) ON CONFLICT (msg) DO NOTHING;
	END`,
	// Parley never removes a message row; another program might, and a later insert could
	// then reuse its rowid: the index must not keep the removed message's words.
	`CREATE TRIGGER IF NOT EXISTS messages_search_delete AFTER DELETE ON messages BEGIN
		INSERT INTO message_search_pending (msg, fresh) VALUES (OLD.rowid, 0) ON CONFLICT (msg) DO UPDATE SET fresh = 0;
	END`,

	`CREATE TABLE IF NOT EXISTS read_marks (
		chat_id  TEXT NOT NULL,
		user_id  TEXT NOT NULL,
		read_seq INTEGER NOT NULL,
		PRIMARY KEY (user_id, chat_id)
	) WITHOUT ROWID`,

	`CREATE TABLE IF NOT EXISTS friend_requests (
		id         TEXT PRIMARY KEY,
		from_id    TEXT NOT NULL,
		to_id      TEXT NOT NULL,
		status     TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL
	)`,
	// At most one pending request per direction; resolved ones are history.
	`CREATE UNIQUE INDEX IF NOT EXISTS friend_requests_pending ON friend_requests (from_id, to_id)
		WHERE status = 'pending'`,
	`CREATE INDEX IF NOT EXISTS friend_requests_to ON friend_requests (to_id, status)`,

	// Both directions are stored so "friends of X" and "are X and Y friends" are each a
	// single primary-key lookup.
	`CREATE TABLE IF NOT EXISTS friendships (
		user_id    TEXT NOT NULL,
		friend_id  TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		PRIMARY KEY (user_id, friend_id)
	) WITHOUT ROWID`,

	`CREATE TABLE IF NOT EXISTS blocks (
		blocker_id TEXT NOT NULL,
		blocked_id TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		PRIMARY KEY (blocker_id, blocked_id)
	) WITHOUT ROWID`,

	// chat_id is copied out of data for "message" notifications so the collapse rule
	// (one unread notification per user and chat) is an indexed lookup.
	`CREATE TABLE IF NOT EXISTS notifications (
		id         TEXT PRIMARY KEY,
		user_id    TEXT NOT NULL,
		type       TEXT NOT NULL,
		chat_id    TEXT,
		data       TEXT NOT NULL,
		read       INTEGER NOT NULL DEFAULT 0,
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL
	)`,
	`CREATE INDEX IF NOT EXISTS notifications_user ON notifications (user_id, created_at, id)`,
	`CREATE INDEX IF NOT EXISTS notifications_collapse ON notifications (user_id, chat_id, created_at)
		WHERE type = 'message' AND read = 0`,
	`CREATE INDEX IF NOT EXISTS notifications_created ON notifications (created_at)`,

	// Uploads (v4). The bytes are files in the uploads directory beside the database
	// (attachments.go), named by id; this is their record. state: 'uploading' while the
	// bytes arrive, 'ready' once they are all on disk, 'deleting' while a removal (of a
	// deleted message's attachments, or an expired upload) deletes the file: a crash in
	// between leaves a row the sweep finishes. message_id, chat_id and position are set,
	// once, when message:new attaches the upload.
	`CREATE TABLE IF NOT EXISTS attachments (
		id           TEXT PRIMARY KEY,
		uploader_id  TEXT NOT NULL,
		name         TEXT NOT NULL,
		content_type TEXT NOT NULL,
		size         INTEGER NOT NULL DEFAULT 0,
		state        TEXT NOT NULL,
		message_id   TEXT,
		chat_id      TEXT,
		position     INTEGER,
		created_at   INTEGER NOT NULL
	)`,
	`CREATE INDEX IF NOT EXISTS attachments_message ON attachments (message_id, position)
		WHERE message_id IS NOT NULL`,
	// The sweep's work lists: unattached uploads by age, and unfinished ones.
	`CREATE INDEX IF NOT EXISTS attachments_unattached ON attachments (created_at)
		WHERE message_id IS NULL`,
	`CREATE INDEX IF NOT EXISTS attachments_unfinished ON attachments (state, created_at)
		WHERE state <> 'ready'`,
}

// columnTriggers read messages.mentions, so they are created after addedColumns, which
// gives an older file the column.
//
// An insert fires no trigger: what it does besides the row (the chat's last_seq and
// last_activity, the note for the search indexer, the mentions) is written by
// InsertMessage and, once per batch, by the writer's sendEffects. Any trigger a row fires
// costs a sub-program (a frame, its registers) whether its WHEN holds or not, and the
// trigger's update of the chat ran once per message.
//
// These keep message_mentions equal to what messages.mentions says when the column
// changes: an update of it (an edit, a delete, which sets it NULL) replaces the message's
// rows. A message without mentions costs an edit only the WHEN test.
var columnTriggers = []string{
	`CREATE TRIGGER IF NOT EXISTS messages_mentions_update AFTER UPDATE OF mentions ON messages
	WHEN OLD.mentions IS NOT NEW.mentions BEGIN
		DELETE FROM message_mentions WHERE chat_id = OLD.chat_id AND seq = OLD.seq
			AND user_id IN (SELECT value FROM json_each(OLD.mentions));
		INSERT OR IGNORE INTO message_mentions (user_id, chat_id, seq)
			SELECT value, NEW.chat_id, NEW.seq FROM json_each(NEW.mentions);
	END`,
	`CREATE TRIGGER IF NOT EXISTS messages_mentions_delete AFTER DELETE ON messages
	WHEN OLD.mentions IS NOT NULL BEGIN
		DELETE FROM message_mentions WHERE chat_id = OLD.chat_id AND seq = OLD.seq
			AND user_id IN (SELECT value FROM json_each(OLD.mentions));
	END`,
}

// replacedTriggers are the insert triggers of versions 2-5 and the one of version 6
// (messages_insert), which InsertMessage and sendEffects replace: an insert by this
// server must not fire them as well.
var replacedTriggers = []string{"messages_seq", "messages_search_insert", "messages_mentions_insert", "messages_insert"}

// addedColumns are the columns later versions added to tables of earlier ones. CREATE
// TABLE above already has them for a new file; an older file gets them by ALTER TABLE,
// which (unlike the statements above) is not idempotent, so each is added only if missing.
var addedColumns = []struct{ table, column, decl string }{
	{"chat_members", "muted_until", "INTEGER"},
	{"messages", "reactions", "TEXT"},
	{"messages", "mentions", "TEXT"},
}

// migrate brings the database to schemaVersion in one transaction.
func migrate(ctx context.Context, db *sql.DB, log zerolog.Logger) error {
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v > schemaVersion {
		return fmt.Errorf("database schema version %d is newer than this server's %d", v, schemaVersion)
	}
	if v == schemaVersion {
		return nil
	}
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock): two servers opening at once queue
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, stmt := range schema {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%w in %.60q", err, stmt)
		}
	}
	for _, c := range addedColumns {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`, c.table, c.column).Scan(&n); err != nil {
			return fmt.Errorf("%w reading the columns of %s", err, c.table)
		}
		if n > 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", c.table, c.column, c.decl)); err != nil {
			return fmt.Errorf("%w adding %s.%s", err, c.table, c.column)
		}
	}
	for _, name := range replacedTriggers {
		if _, err := tx.ExecContext(ctx, "DROP TRIGGER IF EXISTS "+name); err != nil {
			return fmt.Errorf("%w dropping trigger %s", err, name)
		}
	}
	for _, stmt := range columnTriggers {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%w in %.60q", err, stmt)
		}
	}
	if v < 5 {
		// Messages written before version 5 become searchable: index every one that is
		// not deleted (the triggers cover those written from now on). The table is new,
		// so it is empty unless an earlier attempt left rows in it; clear it all the same.
		if _, err := tx.ExecContext(ctx, `INSERT INTO message_search (message_search) VALUES ('delete-all')`); err != nil {
			return fmt.Errorf("%w clearing message_search", err)
		}
		start := time.Now()
		if v > 0 {
			log.Info().Int("fromVersion", v).Msg("sqlite: indexing the existing messages for message:search (once; a large database takes a while)")
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO message_search (rowid, tokens)
			SELECT rowid, `+searchTokensFunc+`(chat_id, text) FROM messages WHERE deleted = 0`)
		if err != nil {
			return fmt.Errorf("%w filling message_search", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			log.Info().Int64("messages", n).Dur("took", time.Since(start)).
				Msg("sqlite: indexed the existing messages for message:search")
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
		return err
	}
	return tx.Commit()
}
