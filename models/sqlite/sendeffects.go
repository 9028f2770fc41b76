package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"sync/atomic"

	"github.com/parley-chat/parley/models"
)

// maxKnownSeqs bounds how many chats' last_seq the writer remembers; past it, it forgets
// them all and reads each again on its next send (one indexed read per chat).
const maxKnownSeqs = 1 << 16

// catchUpBatch is how many messages written by others one catch-up accounts for; a larger
// import takes several (the indexer asks again while some are left).
const catchUpBatch = 10000

// sendEffects is what inserting messages does to rows other than the messages: the chat's
// last_seq and last_activity, and the note that tells the search indexer about the new
// message. The writer keeps it and writes it once per batch, before anything else in the
// batch runs and before the commit, instead of a trigger writing it for every message.
// Measured in a scratch benchmark of batches of 7 sends (modernc SQLite, this machine):
// 76-87 µs of CPU per send with the one-statement insert and its trigger, 48-65 µs with
// this (no trigger sub-program, no RETURNING, no statement journal, one chats update per
// chat per batch).
//
// It also remembers each chat's last_seq, so a send reads nothing to number its message.
// That is only right while this connection is the file's only writer, which is checked
// at the start of every batch (PRAGMA data_version moves when another connection
// commits): then, or when a batch fails, it forgets them.
//
// Messages another program inserts (plain SQL) get the same effects, later: the writer
// knows the highest rowid it accounted for, and a catch-up (at the start of the first
// batch after another connection committed, or when the indexer sees rows past that
// rowid) moves their chats and notes them for search.
//
// A send accounts for every rowid below its own, so rows inserted with plain SQL on the
// writer's own connection (tests do) must be caught up with (indexOnce) before the next
// send; other connections' rows always are, by the batch that follows their commit.
//
// Only the writer goroutine touches it, inside jobs and between them, except accounted.
type sendEffects struct {
	known       map[string]int64 // chat id -> last_seq, committed or moved by this batch
	moved       map[string]chatMove
	fresh       []int64 // rowids of this batch's new messages, for message_search_pending
	list        []byte  // fresh as JSON, reused
	dataVersion int64
	started     bool // the first batch has read the highest rowid

	// upTo is the highest messages rowid whose effects are written or due in this batch
	// (0 before the first batch reads it); accounted, as of the last commit (the writer
	// sets it, the indexer's goroutine reads it).
	upTo      int64
	accounted atomic.Int64
}

// chatMove is what this batch's sends do to one chat's row.
type chatMove struct{ seq, activity int64 }

func newSendEffects() *sendEffects {
	return &sendEffects{known: make(map[string]int64), moved: make(map[string]chatMove)}
}

// begin starts a batch. The first one learns the highest rowid (what is in the file was
// accounted for by the version that wrote it); if another connection committed since the
// last batch, the remembered seqs may be stale and are forgotten, and what it inserted
// is caught up with.
func (e *sendEffects) begin(ctx context.Context, tx *stmtCache) error {
	var v int64
	if err := tx.queryRow(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		return err
	}
	if !e.started {
		if err := tx.queryRow(ctx, `SELECT coalesce(max(rowid), 0) FROM messages`).Scan(&e.upTo); err != nil {
			return err
		}
		e.accounted.Store(e.upTo)
		e.dataVersion, e.started = v, true
		return nil
	}
	if v == e.dataVersion {
		return nil
	}
	clear(e.known)
	e.dataVersion = v
	_, err := e.catchUp(ctx, tx)
	return err
}

// catchUp gives messages inserted without sent (by another program, or by plain SQL on
// this connection) their effects, at most catchUpBatch of them, and writes them at once.
// It reports whether more are left.
func (e *sendEffects) catchUp(ctx context.Context, tx *stmtCache) (more bool, err error) {
	rows, err := tx.query(ctx, `SELECT rowid, chat_id, seq, created_at FROM messages WHERE rowid > ? ORDER BY rowid LIMIT ?`,
		e.upTo, catchUpBatch)
	if err != nil {
		return false, err
	}
	n := 0
	for rows.Next() {
		var (
			rowid, seq, createdAt int64
			chatID                string
		)
		if err := rows.Scan(&rowid, &chatID, &seq, &createdAt); err != nil {
			rows.Close()
			return false, err
		}
		e.sent(chatID, seq, createdAt, rowid)
		delete(e.known, chatID) // its seq is the chat's, which the other program may not follow
		n++
	}
	if err := rows.Close(); err != nil {
		return false, err
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	return n == catchUpBatch, e.flush(ctx, tx)
}

// catchUpJob is catchUp as a writer job, for the indexer: a failure leaves nothing
// half-accounted (the job's changes are undone, and what it took on is left for later).
func (e *sendEffects) catchUpJob(more *bool) jobFunc {
	return func(ctx context.Context, tx *stmtCache) error {
		upTo := e.upTo // the writer wrote every earlier effect before this job
		m, err := e.catchUp(ctx, tx)
		if err != nil {
			clear(e.moved)
			e.fresh = e.fresh[:0]
			e.upTo = upTo
			return err
		}
		*more = m
		return nil
	}
}

// nextSeq is the seq the next message in chatID gets. models.ErrNotFound: no such chat.
// Read from the file, it is past both the chat's last_seq and its last message, in case
// another program inserted one without moving last_seq.
func (e *sendEffects) nextSeq(ctx context.Context, tx *stmtCache, chatID string) (int64, error) {
	if seq, ok := e.known[chatID]; ok {
		return seq + 1, nil
	}
	var seq int64
	err := tx.queryRow(ctx, `SELECT max(last_seq, coalesce((SELECT max(seq) FROM messages WHERE chat_id = ?1), 0))
		FROM chats WHERE id = ?1`, chatID).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, models.ErrNotFound
	} else if err != nil {
		return 0, err
	}
	e.remember(chatID, seq)
	return seq + 1, nil
}

// remember records chatID's last_seq, forgetting every chat first when maxKnownSeqs are
// remembered.
func (e *sendEffects) remember(chatID string, seq int64) {
	if len(e.known) >= maxKnownSeqs {
		if _, ok := e.known[chatID]; !ok {
			clear(e.known)
		}
	}
	e.known[chatID] = seq
}

// sent records a message the batch inserted (and keeps: the job that inserted it
// succeeded), to be reflected in its chat and noted for search by flush.
func (e *sendEffects) sent(chatID string, seq, createdAt, rowid int64) {
	e.remember(chatID, max(e.known[chatID], seq))
	m := e.moved[chatID]
	e.moved[chatID] = chatMove{seq: max(m.seq, seq), activity: max(m.activity, createdAt)}
	e.fresh = append(e.fresh, rowid)
	e.upTo = max(e.upTo, rowid)
}

// forget drops what is remembered of chatID: an insert into it failed, perhaps because
// the remembered seq was wrong.
func (e *sendEffects) forget(chatID string) { delete(e.known, chatID) }

// pending reports whether flush has anything to write.
func (e *sendEffects) pending() bool { return len(e.fresh) > 0 }

// flush writes the batch's effects so far. An error leaves the transaction to be rolled
// back (then reset).
func (e *sendEffects) flush(ctx context.Context, tx *stmtCache) error {
	for chatID, m := range e.moved {
		if _, err := tx.exec(ctx, `UPDATE chats SET last_seq = max(last_seq, ?), last_activity = max(last_activity, ?)
			WHERE id = ?`, m.seq, m.activity, chatID); err != nil {
			return err
		}
	}
	if len(e.fresh) > 0 {
		// One statement for the batch's notes: the rowids as one JSON array.
		list := append(e.list[:0], '[')
		for i, rowid := range e.fresh {
			if i > 0 {
				list = append(list, ',')
			}
			list = strconv.AppendInt(list, rowid, 10)
		}
		e.list = append(list, ']')
		if _, err := tx.exec(ctx, `INSERT INTO message_search_pending (msg, fresh)
			SELECT value, 1 FROM json_each(?) WHERE true ON CONFLICT (msg) DO NOTHING`, string(e.list)); err != nil {
			return err
		}
	}
	clear(e.moved)
	e.fresh = e.fresh[:0]
	return nil
}

// committed records that the batch's transaction committed.
func (e *sendEffects) committed() { e.accounted.Store(e.upTo) }

// reset forgets the batch after its transaction was rolled back. The next batch catches
// up again, as if another connection had committed: a catch-up this batch made is undone
// too, and a send in the next one would otherwise account past what it caught up with.
func (e *sendEffects) reset() {
	clear(e.known)
	clear(e.moved)
	e.fresh = e.fresh[:0]
	e.upTo = e.accounted.Load()
	e.dataVersion = -1 // never a data_version
}
