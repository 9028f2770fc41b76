package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/parley-chat/parley/models"
)

func searchIDs(t *testing.T, s *Store, user, text string) []string {
	t.Helper()
	got, err := s.SearchMessages(context.Background(), models.SearchQuery{UserID: user, Text: text, Limit: 50})
	if err != nil {
		t.Fatalf("SearchMessages(%q): %v", text, err)
	}
	ids := []string{}
	for _, m := range got {
		ids = append(ids, m.ID)
	}
	return ids
}

// drain indexes every noted message now, as the indexer does in the background.
func drain(t *testing.T, s *Store) {
	t.Helper()
	for {
		more, err := s.indexOnce(context.Background())
		if err != nil {
			t.Fatalf("indexOnce: %v", err)
		}
		if !more {
			return
		}
	}
}

func pendingRows(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.reads.queryRow(context.Background(), `SELECT count(*) FROM message_search_pending`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// FTS5's ascii tokenizer keeps every token the store writes whole: the index holds exactly
// the chat-prefixed words of models.SearchWords, for words of every script.
func TestIndexKeepsTokensWhole(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		`CREATE VIRTUAL TABLE ix USING fts5(tokens, content='', contentless_delete=1, detail=none, tokenize='ascii')`,
		`CREATE VIRTUAL TABLE ixv USING fts5vocab(ix, 'row')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	tables := []*unicode.RangeTable{unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs}
	chat := models.NewID()
	want := map[string]bool{}
	for i := range 2000 {
		var b strings.Builder
		for range 1 + r.IntN(30) {
			if r.IntN(3) == 0 {
				b.WriteByte(byte(0x20 + r.IntN(0x5f)))
				continue
			}
			tab := tables[r.IntN(len(tables))]
			if rg := tab.R16; len(rg) > 0 && (len(tab.R32) == 0 || r.IntN(2) == 0) {
				rr := rg[r.IntN(len(rg))]
				b.WriteRune(rune(rr.Lo) + rune(r.IntN(int(rr.Hi-rr.Lo)/int(rr.Stride)+1)*int(rr.Stride)))
			} else if len(tab.R32) > 0 {
				rr := tab.R32[r.IntN(len(tab.R32))]
				b.WriteRune(rune(rr.Lo) + rune(r.IntN(int(rr.Hi-rr.Lo)/int(rr.Stride)+1)*int(rr.Stride)))
			}
		}
		for _, w := range models.SearchWords(b.String()) {
			want[chat+w] = true
		}
		if _, err := db.Exec(`INSERT INTO ix (rowid, tokens) VALUES (?, ?)`, i+1, searchTokens(chat, b.String())); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := db.Query(`SELECT term FROM ixv`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]bool{}
	for rows.Next() {
		var term string
		if err := rows.Scan(&term); err != nil {
			t.Fatal(err)
		}
		got[term] = true
	}
	for term := range got {
		if !want[term] {
			t.Errorf("the index holds %q, which is no token the store wrote", term)
		}
	}
	for term := range want {
		if !got[term] {
			t.Errorf("token %q is missing from the index", term)
		}
	}
	if len(want) < 1000 {
		t.Fatalf("only %d distinct words: the test text is too poor", len(want))
	}
}

// Every committed state is searchable exactly, before the indexer has run and after: an
// insert, an edit and a delete show as soon as they return, in a batch of many writes too,
// an edited message's old index row never matches, and a write that fails in a batch
// leaves nothing behind.
func TestSearchIndexInBatches(t *testing.T) {
	s := openTest(t)
	s.index.close() // this test indexes by itself, when it chooses
	s.index = nil
	a := models.NewID()
	g := mkGroup(t, s, t0, a)
	old := send(t, s, g.ID, a, "original words", at(1))
	gone := send(t, s, g.ID, a, "doomed words", at(2))
	drain(t, s) // these two are in the index now

	release := holdWriter(t, s)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var sent []*models.Message
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, _, err := s.InsertMessage(context.Background(), &models.Message{ChatID: g.ID, SenderID: a, Text: "batched words", CreatedAt: at(3 + i)})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			sent = append(sent, m)
			mu.Unlock()
		}()
	}
	wg.Add(4)
	go func() {
		defer wg.Done()
		if _, err := s.EditMessage(context.Background(), old.ID, "edited words", nil, at(30)); err != nil {
			t.Error(err)
		}
	}()
	go func() {
		defer wg.Done()
		if _, err := s.DeleteMessage(context.Background(), gone.ID, at(30)); err != nil {
			t.Error(err)
		}
	}()
	go func() { // fails in the batch: a missing chat
		defer wg.Done()
		if _, _, err := s.InsertMessage(context.Background(), &models.Message{ChatID: models.NewID(), SenderID: a, Text: "lost words", CreatedAt: at(31)}); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("insert into a missing chat: %v", err)
		}
	}()
	go func() { // fails after its insert, inside its savepoint
		defer wg.Done()
		err := s.write(context.Background(), func(ctx context.Context, tx *stmtCache) error {
			if _, err := tx.exec(ctx, `INSERT INTO messages (id, chat_id, seq, sender_id, text, created_at, updated_at)
				VALUES (?, ?, 1000, ?, 'rolled back words', 0, 0)`, models.NewID(), g.ID, a); err != nil {
				return err
			}
			return errors.New("changed my mind")
		})
		if err == nil {
			t.Error("the failing write succeeded")
		}
	}()
	time.Sleep(50 * time.Millisecond) // let every write queue behind the held batch
	release()
	wg.Wait()

	check := func(when string) {
		t.Helper()
		if n := len(searchIDs(t, s, a, "batched")); n != 20 {
			t.Errorf("%s: batched: %d results, want 20", when, n)
		}
		if got := searchIDs(t, s, a, "edited"); !slices.Equal(got, []string{old.ID}) {
			t.Errorf("%s: edited: %v", when, got)
		}
		for _, q := range []string{"original", "doomed", "lost", "rolled"} {
			if got := searchIDs(t, s, a, q); len(got) != 0 {
				t.Errorf("%s: %s: %v, want nothing", when, q, got)
			}
		}
		got, err := s.SearchMessages(context.Background(), models.SearchQuery{UserID: a, Text: "words", Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 21 || got[20].ID != old.ID {
			t.Errorf("%s: words: %d results, want 21 ending with the edited one", when, len(got))
		}
		// Pages cut across indexed and noted messages alike.
		page, err := s.SearchMessages(context.Background(), models.SearchQuery{UserID: a, Text: "words", Limit: 5,
			Before: &models.SearchCursor{ID: got[10].ID}})
		if err != nil || len(page) != 5 || page[0].ID != got[11].ID {
			t.Errorf("%s: a page after the 11th: %d results, %v", when, len(page), err)
		}
	}
	if pendingRows(t, s) != 22 {
		t.Errorf("%d messages noted for the index, want 22 (20 sent, 1 edited, 1 deleted)", pendingRows(t, s))
	}
	check("before indexing")
	drain(t, s)
	if n := pendingRows(t, s); n != 0 {
		t.Errorf("%d notes left after indexing", n)
	}
	check("after indexing")
	// Deleted after indexing.
	if _, err := s.DeleteMessage(context.Background(), sent[0].ID, at(40)); err != nil {
		t.Fatal(err)
	}
	if got := searchIDs(t, s, a, "batched"); len(got) != 19 || slices.Contains(got, sent[0].ID) {
		t.Errorf("after a delete: %d results", len(got))
	}
}

// The indexer indexes noted messages by itself, in bulk jobs of at most searchIndexBatch.
func TestIndexerRunsByItself(t *testing.T) {
	s := openTest(t)
	a := models.NewID()
	g := mkGroup(t, s, t0, a)
	err := s.write(context.Background(), func(ctx context.Context, tx *stmtCache) error {
		for i := range searchIndexBatch + 500 {
			if _, err := tx.exec(ctx, `INSERT INTO messages (id, chat_id, seq, sender_id, text, created_at, updated_at)
				VALUES (?, ?, ?, ?, 'bulk words', 0, 0)`, models.NewID(), g.ID, i+1, a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Plain SQL notes nothing: the indexer finds the rows past those the writer accounted
	// for, has them noted, and indexes them.
	indexed := func() int {
		var n int
		if err := s.reads.queryRow(context.Background(), `SELECT count(*) FROM message_search WHERE message_search MATCH ?`,
			`"`+g.ID+`bulk"*`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(10 * time.Second)
	for indexed() < searchIndexBatch+500 || pendingRows(t, s) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("indexed %d of %d, %d notes left after 10 s", indexed(), searchIndexBatch+500, pendingRows(t, s))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := indexed(); n != searchIndexBatch+500 {
		t.Fatalf("indexed %d, want %d", n, searchIndexBatch+500)
	}
	if c, err := s.ChatByID(context.Background(), g.ID); err != nil || c.LastSeq != searchIndexBatch+500 {
		t.Fatalf("the chat after the catch-up: %+v %v, want lastSeq %d", c, err, searchIndexBatch+500)
	}
}

// Messages another program inserts with plain SQL are caught up with by the indexer,
// without a write of Parley's: noted (so searchable), indexed, and their chat's last_seq
// moved; Parley's next send in the chat follows them.
func TestSearchIndexCatchesUpWithOtherWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	s := openAt(t, path)
	defer s.Close()
	a := models.NewID()
	g := mkGroup(t, s, t0, a)
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	id := models.NewID()
	if _, err := db.Exec(`INSERT INTO messages (id, chat_id, seq, sender_id, text, created_at, updated_at)
		VALUES (?, ?, 1, ?, 'written elsewhere', 0, 0)`, id, g.ID, a); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for pendingRows(t, s) == 0 && len(searchIDs(t, s, a, "elsewhere")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the indexer did not catch up with the other program's message in 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := searchIDs(t, s, a, "elsewhere"); !slices.Equal(got, []string{id}) {
		t.Fatalf("after the catch-up: %v", got)
	}
	if c, err := s.ChatByID(context.Background(), g.ID); err != nil || c.LastSeq != 1 {
		t.Fatalf("the chat after the catch-up: %+v %v, want lastSeq 1", c, err)
	}
	if m := send(t, s, g.ID, a, "from parley", at(2)); m.Seq != 2 {
		t.Fatalf("Parley's send after the other program's: seq %d, want 2", m.Seq)
	}
	drain(t, s)
	if got := searchIDs(t, s, a, "elsewhere"); !slices.Equal(got, []string{id}) {
		t.Fatalf("after indexing: %v", got)
	}
	// A row removed by hand, and its rowid reused by the next insert: the index forgets
	// the removed message's words.
	var rowid int64
	if err := db.QueryRow(`SELECT max(rowid) FROM messages`).Scan(&rowid); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM messages WHERE rowid = ?`, rowid); err != nil {
		t.Fatal(err)
	}
	m := send(t, s, g.ID, a, "reused rowid", at(3))
	drain(t, s)
	var again int64
	if err := db.QueryRow(`SELECT rowid FROM messages WHERE id = ?`, m.ID).Scan(&again); err != nil || again != rowid {
		t.Logf("the rowid was not reused (%d, then %d, %v): nothing to check", rowid, again, err)
	}
	if got := searchIDs(t, s, a, "parley"); len(got) != 0 {
		t.Errorf("the removed message's words still match: %v", got)
	}
	if got := searchIDs(t, s, a, "reused"); !slices.Equal(got, []string{m.ID}) {
		t.Errorf("reused: %v", got)
	}
	if n := pendingRows(t, s); n != 0 {
		t.Errorf("%d pending rows", n)
	}
}

// VACUUM keeps the rowids the index is keyed by (messages are never removed, but a VACUUM
// that renumbered rows would silently point the index at other messages).
func TestVacuumKeepsSearch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	s := openAt(t, path)
	a := models.NewID()
	g := mkGroup(t, s, t0, a)
	var ids []string
	for i, text := range []string{"alpha one", "beta two", "gamma three", "alpha four"} {
		ids = append(ids, send(t, s, g.ID, a, text, at(i)).ID)
	}
	// Gaps in the rowids, as rows removed by hand would leave, then VACUUM.
	s = rewriteFile(t, s, path, []string{`DELETE FROM messages WHERE text = 'beta two'`, `VACUUM`})
	if got := searchIDs(t, s, a, "alpha"); !slices.Equal(got, []string{ids[3], ids[0]}) {
		t.Errorf("alpha after VACUUM: %v, want %v", got, []string{ids[3], ids[0]})
	}
	if got := searchIDs(t, s, a, "gamma"); !slices.Equal(got, []string{ids[2]}) {
		t.Errorf("gamma after VACUUM: %v", got)
	}
}

// A database written by a version 4 server (no search index) gets one at open, filled with
// every message that is not deleted, and keeps it up to date from then on.
func TestOpenMigratesVersion4(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	s := openAt(t, path)
	a := models.NewID()
	g := mkGroup(t, s, t0, a)
	kept := send(t, s, g.ID, a, "Écrit par la version trois", at(1))
	gone := send(t, s, g.ID, a, "écrit puis effacé", at(2))
	if _, err := s.DeleteMessage(ctx, gone.ID, at(3)); err != nil {
		t.Fatal(err)
	}
	edited := send(t, s, g.ID, a, "before", at(4))
	s = rewriteFile(t, s, path, append(downToVersion4(),
		// What a version 4 server did after that: an edit, with no index to keep.
		"UPDATE messages SET text = 'after' WHERE text = 'before'",
	))
	if got := searchIDs(t, s, a, "ecrit"); !slices.Equal(got, []string{kept.ID}) {
		t.Errorf("ecrit after the migration: %v, want %v", got, []string{kept.ID})
	}
	if got := searchIDs(t, s, a, "after"); !slices.Equal(got, []string{edited.ID}) {
		t.Errorf("after: %v", got)
	}
	if got := searchIDs(t, s, a, "before"); len(got) != 0 {
		t.Errorf("before: %v", got)
	}
	m := send(t, s, g.ID, a, "écrit par la version cinq", at(5))
	drain(t, s)
	if got := searchIDs(t, s, a, "ECRIT PAR"); !slices.Equal(got, []string{m.ID, kept.ID}) {
		t.Errorf("after a new message: %v", got)
	}
}
