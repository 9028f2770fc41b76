package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"

	"github.com/parley-chat/parley/models"
)

// Message search on SQLite is an FTS5 table, message_search (schema.go): a row per message
// that is not deleted, with the message's rowid, holding the message's search tokens. A
// token is the message's chat id followed by one of its words (models.SearchWords, which
// folds case and accents once, in Go, for both stores): "65f0c0ffee0000000000abcd" +
// "cafe". So every word is indexed per chat, and a search looks up only the caller's
// chats: a prefix query ("<chat>caf"*) expands to the words of that one chat, not to every
// word of the database that starts with "caf", which is what keeps a search of a few chats
// fast however many messages other chats hold.
//
// The table is contentless (content='': the words are not stored twice), has no positions
// (detail=none: no phrase queries are ever asked), and uses FTS5's ascii tokenizer, which
// splits only at ASCII characters other than letters and digits: the tokens written here
// are hex digits followed by folded words, which hold nothing but letters, digits and
// marks, so FTS5 keeps each one whole and the words it matches are exactly those of
// models.SearchWords (TestIndexKeepsTokensWhole). FTS5's unicode61 tokenizer, with
// remove_diacritics 2, would fold by SQLite's own Unicode tables, which the MongoDB store
// could not reproduce exactly.
//
// Keeping it in step: every inserted message is noted in message_search_pending by the
// batch that inserts it (the writer's sendEffects), and triggers on messages note every
// message whose text or deleted flag changes (or that is removed), in the statement that
// makes the change; the index itself is written later, in bulk, by the
// indexer (indexer below): every searchIndexEvery it rewrites the index rows of up to
// searchIndexBatch noted messages in one writer job and removes their notes. A search reads
// both, in one statement (one snapshot): the index, less the rows of noted messages, plus
// the noted messages themselves, matched against their current text by a Go function. So a
// search is exact in every committed state (a message is found the moment its send is
// acked, an edit matches its new words only, a delete is gone) while a send pays only for
// its note (one small row), not for FTS5: writing the index in
// the send's own transaction doubled the cost of a lone send (FTS5 writes a new segment,
// its structure record and a size record per transaction, and in a group-commit batch it
// even writes out what it holds at every statement's savepoint), measured in
// bench_test.go's BenchmarkInsertMessage. Bulk writes also make far fewer, larger
// segments, and a search reads every segment.
//
// The words are computed by Go functions this package registers with the driver
// (parley_search_tokens for the index, parley_search_match for noted messages); the
// triggers need nothing but SQL, so another program may change messages, and what it
// changed is searchable at once and indexed by Parley's indexer. What another program
// inserts is noted when the writer catches up with it (sendeffects.go), which indexOnce
// asks for: within one searchIndexEvery.
//
// The rowid of a message is its place in the order of commits (the writer assigns it with
// the seq, in the same statement), so results newest first are results by descending
// rowid, which FTS5 returns in that order by itself and can stop after a page. Messages
// are never removed from the table (a delete is an update), and VACUUM keeps rowids
// (TestVacuumKeepsSearch), so the index's rowids stay those of the messages.

// searchTokensFunc is the SQL function that computes a message's tokens.
const searchTokensFunc = "parley_search_tokens"

func init() {
	sqlite.MustRegisterDeterministicScalarFunction(searchTokensFunc, 2, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		chat, _ := args[0].(string)
		var text string
		switch v := args[1].(type) {
		case string:
			text = v
		case []byte:
			text = string(v)
		}
		return searchTokens(chat, text), nil
	})
	sqlite.MustRegisterDeterministicScalarFunction(searchMatchFunc, 2, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		var text string
		switch v := args[0].(type) {
		case string:
			text = v
		case []byte:
			text = string(v)
		}
		terms, _ := args[1].(string)
		return searchMatches(text, strings.Fields(terms)), nil
	})
}

// searchMatchFunc is the SQL function that matches a noted message (not indexed yet)
// against a search's terms.
const searchMatchFunc = "parley_search_match"

// searchMatches reports whether every term starts one of text's words, as the index
// would answer.
func searchMatches(text string, terms []string) bool {
	words := models.SearchWords(text)
	for _, t := range terms {
		found := false
		for _, w := range words {
			if strings.HasPrefix(w, t) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return len(terms) > 0
}

// searchTokens is the indexed text of a message of chat: each of its words prefixed with
// the chat id, separated by spaces.
func searchTokens(chat, text string) string {
	words := models.SearchWords(text)
	if len(words) == 0 {
		return ""
	}
	var b strings.Builder
	n := 0
	for _, w := range words {
		n += len(chat) + len(w) + 1
	}
	b.Grow(n)
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(chat)
		b.WriteString(w)
	}
	return b.String()
}

// matchExpr is the FTS5 query for terms in chats: for each chat, every term as a prefix of
// a token of that chat. Terms hold only letters, digits and marks and chat ids only hex
// digits, so nothing in them is FTS5 syntax; each string is quoted all the same (a quote
// inside would be doubled).
func matchExpr(chats, terms []string) string {
	var b strings.Builder
	for i, c := range chats {
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteByte('(')
		for j, t := range terms {
			if j > 0 {
				b.WriteString(" AND ")
			}
			b.WriteByte('"')
			b.WriteString(strings.ReplaceAll(c+t, `"`, `""`))
			b.WriteString(`"*`)
		}
		b.WriteByte(')')
	}
	return b.String()
}

// How often the indexer looks for noted messages, and how many it indexes in one writer
// job (other writes queue behind it: a job of 2,000 messages takes some milliseconds).
const (
	searchIndexEvery = 200 * time.Millisecond
	searchIndexBatch = 2000
)

// indexPending rewrites the index rows of the oldest noted messages (at most limit; all
// with limit <= 0) and removes their notes, in the caller's transaction. It reports
// whether notes are left.
func indexPending(ctx context.Context, tx *stmtCache, limit int) (more bool, err error) {
	upTo := int64(1<<63 - 1)
	if limit > 0 {
		err := tx.queryRow(ctx, `SELECT msg FROM message_search_pending ORDER BY msg LIMIT 1 OFFSET ?`, limit).Scan(&upTo)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			upTo = 1<<63 - 1
		case err != nil:
			return false, err
		default:
			more, upTo = true, upTo-1
		}
	}
	if _, err := tx.exec(ctx, `DELETE FROM message_search
		WHERE rowid IN (SELECT msg FROM message_search_pending WHERE fresh = 0 AND msg <= ?)`, upTo); err != nil {
		return false, fmt.Errorf("search index: %w", err)
	}
	if _, err := tx.exec(ctx, `INSERT INTO message_search (rowid, tokens)
		SELECT m.rowid, `+searchTokensFunc+`(m.chat_id, m.text)
		FROM message_search_pending p CROSS JOIN messages m ON m.rowid = p.msg -- CROSS: p outer, never a scan of m
		WHERE p.msg <= ? AND m.deleted = 0`, upTo); err != nil {
		return false, fmt.Errorf("search index: %w", err)
	}
	if _, err := tx.exec(ctx, `DELETE FROM message_search_pending WHERE msg <= ?`, upTo); err != nil {
		return false, err
	}
	return more, nil
}

// indexAtCommit is the writer's beforeCommit when Options.indexAtCommit is set (tests):
// every batch indexes what it noted, so searches read the index alone.
func indexAtCommit(ctx context.Context, tx *stmtCache) error {
	_, err := indexPending(ctx, tx, 0)
	return err
}

// indexer runs indexPending through the writer every searchIndexEvery while notes exist.
type indexer struct {
	s    *Store
	quit chan struct{}
	done chan struct{}
}

func startIndexer(s *Store) *indexer {
	ix := &indexer{s: s, quit: make(chan struct{}), done: make(chan struct{})}
	go ix.loop()
	return ix
}

func (ix *indexer) loop() {
	defer close(ix.done)
	tick := time.NewTicker(searchIndexEvery)
	defer tick.Stop()
	for {
		select {
		case <-ix.quit:
			return
		case <-tick.C:
		}
		for {
			more, err := ix.s.indexOnce(context.Background())
			if err != nil {
				if !errors.Is(err, errClosed) {
					ix.s.log.Warn().Err(err).Msg("sqlite: indexing messages for search failed; retrying")
				}
				break
			}
			if !more {
				break
			}
			select {
			case <-ix.quit:
				return
			default:
			}
		}
	}
}

func (ix *indexer) close() {
	close(ix.quit)
	<-ix.done
}

// indexOnce indexes one batch of noted messages, if there are any, and reports whether
// more are left. First it has the writer account for messages it has not inserted itself
// (sendeffects.go), so those are noted too.
func (s *Store) indexOnce(ctx context.Context) (more bool, err error) {
	var last int64
	if err := s.reads.queryRow(ctx, `SELECT coalesce(max(rowid), 0) FROM messages`).Scan(&last); err != nil {
		return false, dbErr(err)
	}
	if last > s.w.effects.accounted.Load() {
		var left bool
		if err := s.write(ctx, s.w.effects.catchUpJob(&left)); err != nil {
			return false, err
		}
		more = left
	}
	var pending bool
	if err := s.reads.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM message_search_pending)`).Scan(&pending); err != nil || !pending {
		return more, dbErr(err)
	}
	err = s.write(ctx, func(ctx context.Context, tx *stmtCache) error {
		left, err := indexPending(ctx, tx, searchIndexBatch)
		more = more || left
		return err
	})
	return more, err
}

// defaultSearchLimit is used when the caller passes no limit.
const defaultSearchLimit = 20

// searchCols is msgCols of the messages table aliased m.
var searchCols = "m." + strings.ReplaceAll(msgCols, ", ", ", m.")

// SearchMessages implements models.Messages. The chats are the caller's memberships read
// first (or q.ChatID); the query also checks each result's membership again, in its own
// snapshot, so a chat the caller has left by then yields nothing.
func (s *Store) SearchMessages(ctx context.Context, q models.SearchQuery) ([]*models.Message, error) {
	terms := models.SearchTerms(q.Text)
	if len(terms) == 0 || !models.ValidID(q.UserID) || q.ChatID != "" && !models.ValidID(q.ChatID) {
		return []*models.Message{}, nil
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultSearchLimit
	}
	chats := []string{q.ChatID}
	if q.ChatID == "" {
		var err error
		if chats, err = s.ChatIDsForUser(ctx, q.UserID); err != nil {
			return nil, err
		}
	}
	if len(chats) == 0 {
		return []*models.Message{}, nil
	}
	before := int64(1<<63 - 1)
	if q.Before != nil {
		// The page goes on below the rowid of the cursor's message. A cursor naming no
		// message (not one this server issued) leads nowhere: an empty page.
		if !models.ValidID(q.Before.ID) {
			return []*models.Message{}, nil
		}
		err := s.reads.queryRow(ctx, `SELECT rowid FROM messages WHERE id = ?`, q.Before.ID).Scan(&before)
		if err = dbErr(err); errors.Is(err, models.ErrNotFound) {
			return []*models.Message{}, nil
		} else if err != nil {
			return nil, err
		}
	}
	// The index, less noted messages (their rows may be stale), newest first and at most
	// a page; plus the noted messages of these chats, matched against their text now. The
	// result is at most a page from each, merged.
	chatList, _ := idList(chats)
	list, err := queryList(ctx, s.reads, scanMessage, `WITH hits (r) AS (
			SELECT r FROM (
				SELECT f.rowid AS r FROM message_search f CROSS JOIN messages m ON m.rowid = f.rowid
				WHERE message_search MATCH ?1 AND f.rowid < ?2
				  AND f.rowid NOT IN (SELECT msg FROM message_search_pending)
				  AND m.deleted = 0
				  AND EXISTS (SELECT 1 FROM chat_members c WHERE c.chat_id = m.chat_id AND c.user_id = ?3)
				ORDER BY f.rowid DESC LIMIT ?4)
			UNION ALL
			SELECT p.msg FROM message_search_pending p CROSS JOIN messages m ON m.rowid = p.msg
			WHERE p.msg < ?2 AND m.deleted = 0
			  AND m.chat_id IN (SELECT value FROM json_each(?5))
			  AND EXISTS (SELECT 1 FROM chat_members c WHERE c.chat_id = m.chat_id AND c.user_id = ?3)
			  AND `+searchMatchFunc+`(m.text, ?6))
		SELECT `+searchCols+` FROM hits CROSS JOIN messages m ON m.rowid = hits.r
		ORDER BY hits.r DESC LIMIT ?4`,
		matchExpr(chats, terms), before, q.UserID, limit, chatList, strings.Join(terms, " "))
	if err != nil {
		return nil, dbErr(err)
	}
	if list == nil {
		list = []*models.Message{}
	}
	return list, nil
}
