package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/models"
)

// A database written by a version 1 server (no messages_seq trigger) is brought to the
// current version at open, and sends then move the chat's seq as before.
func TestOpenMigratesVersion1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	s := openAt(t, path)
	a := models.NewID()
	g := mkGroup(t, s, time.Now(), a, models.NewID())
	s = rewriteFile(t, s, path, append(downToVersion5(), "DROP TRIGGER messages_seq", "PRAGMA user_version = 1"))
	for want := int64(1); want <= 2; want++ {
		m, _, err := s.InsertMessage(ctx, &models.Message{ChatID: g.ID, SenderID: a, Text: "x", CreatedAt: time.Now()})
		if err != nil || m.Seq != want {
			t.Fatalf("insert %d: %+v %v", want, m, err)
		}
	}
	c, err := s.ChatByID(ctx, g.ID)
	if err != nil || c.LastSeq != 2 {
		t.Fatalf("chat after the inserts: %+v %v", c, err)
	}
}

// A database written by a version 2 server (no messages.reactions, no
// chat_members.muted_until) gets both columns at open; its messages and memberships read
// as before, and reactions and mutes then work on them.
func TestOpenMigratesVersion2(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	s := openAt(t, path)
	a, b := models.NewID(), models.NewID()
	g := mkGroup(t, s, time.Now(), a, b)
	old, _, err := s.InsertMessage(ctx, &models.Message{ChatID: g.ID, SenderID: a, Text: "from v2", CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	// The v2 tables, as a v2 server created them (SQLite ≥ 3.35 drops columns).
	s = rewriteFile(t, s, path, append(downToVersion3(),
		"ALTER TABLE messages DROP COLUMN reactions",
		"ALTER TABLE chat_members DROP COLUMN muted_until",
		"PRAGMA user_version = 2",
	))
	m, err := s.MessageByID(ctx, old.ID)
	if err != nil || m.Text != "from v2" || len(m.Reactions) != 0 {
		t.Fatalf("v2 message after the migration: %+v %v", m, err)
	}
	if m, _, err = s.React(ctx, old.ID, b, "👍"); err != nil || len(m.Reactions) != 1 || m.Reactions[0].UserIDs[0] != b {
		t.Fatalf("React on a v2 message: %+v %v", m, err)
	}
	until := time.Now().Add(time.Hour).Truncate(time.Millisecond).UTC()
	c, err := s.SetMute(ctx, g.ID, b, &until)
	if err != nil || !c.MutedUntil[b].Equal(until) || len(c.Participants) != 2 {
		t.Fatalf("SetMute on a v2 membership: %+v %v", c, err)
	}
	// Opening again finds the current version and changes nothing.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path, Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if m, err := s.MessageByID(ctx, old.ID); err != nil || len(m.Reactions) != 1 {
		t.Fatalf("reactions after a reopen: %+v %v", m, err)
	}
}

// rewriteFile closes s, runs stmts on its file through a plain connection (as an older
// server, or another program, would have written it), opens the store on the file again
// (closed when the test ends) and checks that the open brought it to schemaVersion.
func rewriteFile(t *testing.T, s *Store, path string, stmts []string) *Store {
	t.Helper()
	ctx := context.Background()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	if s, err = Open(ctx, path, Options{Logger: zerolog.Nop()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	var v int
	if err := s.reads.queryRow(ctx, "PRAGMA user_version").Scan(&v); err != nil || v != schemaVersion {
		t.Fatalf("user_version %d (%v), want %d", v, err, schemaVersion)
	}
	return s
}

// downToVersion6 turns a current file back into what a version 6 server wrote: one
// insert trigger, messages_insert, as version 6 created it.
func downToVersion6() []string {
	return []string{
		`CREATE TRIGGER messages_insert AFTER INSERT ON messages BEGIN
			UPDATE chats SET last_seq = max(last_seq, NEW.seq), last_activity = max(last_activity, NEW.created_at)
			WHERE id = NEW.chat_id;
			INSERT INTO message_search_pending (msg, fresh) VALUES (NEW.rowid, 1) ON CONFLICT (msg) DO NOTHING;
			INSERT OR IGNORE INTO message_mentions (user_id, chat_id, seq)
				SELECT value, NEW.chat_id, NEW.seq FROM json_each(NEW.mentions) WHERE NEW.mentions IS NOT NULL;
		END`,
		"PRAGMA user_version = 6",
	}
}

// downToVersion5 turns a current file back into what a version 5 server wrote: the three
// insert triggers that messages_insert (version 6) replaced, as version 5 created them.
func downToVersion5() []string {
	return []string{
		"DROP TRIGGER IF EXISTS messages_insert",
		`CREATE TRIGGER messages_seq AFTER INSERT ON messages BEGIN
			UPDATE chats SET last_seq = max(last_seq, NEW.seq), last_activity = max(last_activity, NEW.created_at)
			WHERE id = NEW.chat_id;
		END`,
		`CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
			INSERT INTO message_search_pending (msg, fresh) VALUES (NEW.rowid, 1) ON CONFLICT (msg) DO NOTHING;
		END`,
		`CREATE TRIGGER messages_mentions_insert AFTER INSERT ON messages
		WHEN NEW.mentions IS NOT NULL BEGIN
			INSERT OR IGNORE INTO message_mentions (user_id, chat_id, seq)
				SELECT value, NEW.chat_id, NEW.seq FROM json_each(NEW.mentions);
		END`,
		"PRAGMA user_version = 5",
	}
}

// downToVersion4 turns a current file back into what a version 4 server wrote: no search
// index, no pending table, no triggers noting changes for it.
func downToVersion4() []string {
	return append(downToVersion5(),
		"DROP TRIGGER messages_search_insert", "DROP TRIGGER messages_search_update", "DROP TRIGGER messages_search_delete",
		"DROP TABLE message_search", "DROP TABLE message_search_pending",
		"PRAGMA user_version = 4",
	)
}

// downToVersion3 turns a current file back into what a version 3 server wrote: version 4,
// and no messages.mentions, no message_mentions, no triggers keeping it, no attachments.
func downToVersion3() []string {
	return append(downToVersion4(),
		"DROP TABLE attachments",
		"DROP TRIGGER messages_mentions_insert",
		"DROP TRIGGER messages_mentions_update",
		"DROP TRIGGER messages_mentions_delete",
		"DROP TABLE message_mentions",
		"ALTER TABLE messages DROP COLUMN mentions",
		"PRAGMA user_version = 3",
	)
}

// A database written by a version 3 server (no messages.mentions, no message_mentions)
// gets both at open, with the triggers; its messages read with no mentions, and new and
// edited messages then keep the mention index current.
func TestOpenMigratesVersion3(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	s := openAt(t, path)
	a, b := models.NewID(), models.NewID()
	g := mkGroup(t, s, time.Now(), a, b)
	old, _, err := s.InsertMessage(ctx, &models.Message{ChatID: g.ID, SenderID: a, Text: "from v3", CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	s = rewriteFile(t, s, path, downToVersion3())
	if m, err := s.MessageByID(ctx, old.ID); err != nil || m.Text != "from v3" || m.Mentions != nil {
		t.Fatalf("v3 message after the migration: %+v %v", m, err)
	}
	m, _, err := s.InsertMessage(ctx, &models.Message{ChatID: g.ID, SenderID: a, Text: "@b", Mentions: []string{b}, CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EditMessage(ctx, old.ID, "@b too", []string{b}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n, err := s.UnreadMentions(ctx, b, map[string]int64{g.ID: 0}); err != nil || n[g.ID] != 2 {
		t.Fatalf("UnreadMentions after the migration: %v %v, want 2", n, err)
	}
	if _, err := s.DeleteMessage(ctx, m.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n, err := s.UnreadMentions(ctx, b, map[string]int64{g.ID: 0}); err != nil || n[g.ID] != 1 {
		t.Fatalf("UnreadMentions after a delete: %v %v, want 1", n, err)
	}
}

// The unread-mention count reads one range of message_mentions' primary key, not the
// messages table.
func TestUnreadMentionsUsesThePrimaryKey(t *testing.T) {
	s := openTest(t)
	var plan []string
	rows, err := s.reads.query(context.Background(), `EXPLAIN QUERY PLAN `+unreadMentionsQuery, models.NewID(), `{"`+models.NewID()+`": 3}`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	t.Logf("plan: %q", plan)
	searches := 0
	for _, step := range plan {
		switch {
		case strings.Contains(step, "SEARCH m USING PRIMARY KEY (user_id=? AND chat_id=? AND seq>?)"):
			searches++
		case strings.Contains(step, "SCAN m"), strings.Contains(step, "messages"):
			t.Errorf("query plan step %q scans", step)
		}
	}
	if searches != 1 {
		t.Errorf("query plan %q, want one search of the primary key range per chat", plan)
	}
}

// A database written by a version 5 server (three insert triggers) or a version 6 one
// (one) loses them at open: an insert then fires none, and still moves the chat's seq
// once, is found by search before and after indexing, and counts as an unread mention.
func TestOpenMigratesVersion5(t *testing.T) { testMigratesInsertTriggers(t, downToVersion5()) }

func TestOpenMigratesVersion6(t *testing.T) { testMigratesInsertTriggers(t, downToVersion6()) }

func testMigratesInsertTriggers(t *testing.T, down []string) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	s := openAt(t, path)
	a, b := models.NewID(), models.NewID()
	g := mkGroup(t, s, time.Now(), a, b)
	send(t, s, g.ID, a, "from an older version", at(1))
	s = rewriteFile(t, s, path, down)

	var triggers []string
	rows, err := s.rdb.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'messages' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		triggers = append(triggers, n)
	}
	rows.Close()
	want := []string{"messages_mentions_delete", "messages_mentions_update", "messages_search_delete", "messages_search_update"}
	if !slices.Equal(triggers, want) {
		t.Fatalf("triggers on messages after the migration: %v, want %v", triggers, want)
	}

	m, _, err := s.InsertMessage(ctx, &models.Message{ChatID: g.ID, SenderID: a, Text: "hello version six", Mentions: []string{b}, CreatedAt: at(2)})
	if err != nil || m.Seq != 2 {
		t.Fatalf("insert after the migration: %+v %v", m, err)
	}
	if c, err := s.ChatByID(ctx, g.ID); err != nil || c.LastSeq != 2 {
		t.Fatalf("chat after the insert: %+v %v", c, err)
	}
	if got := searchIDs(t, s, a, "six"); !slices.Equal(got, []string{m.ID}) {
		t.Errorf("search before indexing: %v, want %v", got, []string{m.ID})
	}
	drain(t, s)
	if got := searchIDs(t, s, a, "version"); len(got) != 2 || got[0] != m.ID {
		t.Errorf("search after indexing: %v", got)
	}
	if n, err := s.UnreadMentions(ctx, b, map[string]int64{g.ID: 0}); err != nil || n[g.ID] != 1 {
		t.Fatalf("UnreadMentions after the migration: %v %v, want 1", n, err)
	}
}
