package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/models"
)

// BenchmarkSearchMessages measures message:search on a large SQLite database: by default
// 1,000,000 messages in 1,000 group chats (PARLEY_BENCH_SEARCH_MESSAGES, _CHATS change
// that), searched by a caller who is a member of 20 of the chats, by one searching one chat
// (chatId), and by one who is a member of 200. It reports each query's latency at p50, p90
// and p99 (ms) and the mean number of results, over b.N queries (-benchtime=2000x is what
// scripts/bench.sh runs) after a warm-up of 200.
//
// The database is built once, in one transaction of plain SQL (a few minutes on 2 cores),
// and kept for later runs: at PARLEY_BENCH_SEARCH_DB, else in the user cache directory
// (~/.cache/parley/search-bench-<messages>-<chats>-v1.db, about 300 MB). Its search index is
// what the store's own code writes (the triggers and indexPending), left as FTS5's
// automatic merging leaves it, not optimized.
//
// Texts are 3-17 words drawn from a vocabulary of 30,000 made-up words (some with accents)
// with Zipf-distributed frequencies, so a few words are in most messages, as "the" is.
// Queries, fixed by a seed, are a quarter each: a word drawn by that frequency (often a
// very common one), a word drawn uniformly (mostly rare), the first three letters of a
// frequency-drawn word (a prefix), and two words (one of each).
//
// PARLEY_BENCH_SEARCH_JSON=file also writes the results there as JSON, for bench.sh.
func BenchmarkSearchMessages(b *testing.B) {
	nMsgs := envInt(b, "PARLEY_BENCH_SEARCH_MESSAGES", 1_000_000)
	nChats := envInt(b, "PARLEY_BENCH_SEARCH_CHATS", 1000)
	path := os.Getenv("PARLEY_BENCH_SEARCH_DB")
	if path == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		path = filepath.Join(dir, "parley", fmt.Sprintf("search-bench-%d-%d-v1.db", nMsgs, nChats))
	}
	fx := openSearchFixture(b, path, nMsgs, nChats)
	s, err := Open(context.Background(), path, Options{Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	var results []searchBenchResult
	for _, sc := range []struct {
		name, user string
		chat       bool
		chats      int
	}{
		{"caller_in_20_chats", fx.user20, false, 20},
		{"one_chat_chatId", fx.user20, true, 1},
		{"caller_in_200_chats", fx.user200, false, 200},
	} {
		b.Run(sc.name, func(b *testing.B) {
			queries := fx.queries(2000)
			q := models.SearchQuery{UserID: sc.user, Limit: 21} // a page of 20 and one to learn there is more
			if sc.chat {
				q.ChatID = fx.chat20
			}
			ctx := context.Background()
			for i := range 200 { // warm-up: the statement cache, the page cache
				q.Text = queries[i%len(queries)].text
				if _, err := s.SearchMessages(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
			var lat []time.Duration
			byKind := map[string][]time.Duration{}
			found := 0
			i := 0
			for b.Loop() {
				qq := queries[i%len(queries)]
				i++
				q.Text = qq.text
				start := time.Now()
				got, err := s.SearchMessages(ctx, q)
				d := time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				found += len(got)
				lat = append(lat, d)
				byKind[qq.kind] = append(byKind[qq.kind], d)
			}
			r := searchBenchResult{
				Scenario: sc.name, Chats: sc.chats, ChatID: sc.chat, Messages: nMsgs, TotalChats: nChats,
				Queries: len(lat), MeanResults: float64(found) / float64(len(lat)),
				P50Ms: pctMs(lat, 0.50), P90Ms: pctMs(lat, 0.90), P99Ms: pctMs(lat, 0.99), MaxMs: pctMs(lat, 1),
				ByKind: map[string]searchKindResult{},
			}
			for k, ds := range byKind {
				r.ByKind[k] = searchKindResult{Queries: len(ds), P50Ms: pctMs(ds, 0.5), P99Ms: pctMs(ds, 0.99)}
			}
			b.ReportMetric(r.P50Ms, "p50-ms")
			b.ReportMetric(r.P90Ms, "p90-ms")
			b.ReportMetric(r.P99Ms, "p99-ms")
			b.ReportMetric(r.MeanResults, "results/query")
			b.Logf("%s: %d queries, p50 %.2f ms, p99 %.2f ms, max %.2f ms; by kind %+v", sc.name, r.Queries, r.P50Ms, r.P99Ms, r.MaxMs, r.ByKind)
			results = append(results, r)
		})
	}
	if out := os.Getenv("PARLEY_BENCH_SEARCH_JSON"); out != "" && len(results) > 0 {
		for i := range results {
			results[i].IndexMiB, results[i].FileMiB, results[i].BuildSec = fx.indexMiB, fx.fileMiB, fx.buildSec
		}
		data, err := json.Marshal(results)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(out, data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

type searchBenchResult struct {
	Scenario    string                      `json:"scenario"`
	Chats       int                         `json:"callerChats"`
	ChatID      bool                        `json:"chatId"`
	Messages    int                         `json:"messages"`
	TotalChats  int                         `json:"chats"`
	Queries     int                         `json:"queries"`
	MeanResults float64                     `json:"meanResults"`
	P50Ms       float64                     `json:"p50Ms"`
	P90Ms       float64                     `json:"p90Ms"`
	P99Ms       float64                     `json:"p99Ms"`
	MaxMs       float64                     `json:"maxMs"`
	ByKind      map[string]searchKindResult `json:"byKind"`
	IndexMiB    float64                     `json:"indexMiB"`
	FileMiB     float64                     `json:"fileMiB"`
	BuildSec    float64                     `json:"buildSec"` // 0 when the database was already built
}

type searchKindResult struct {
	Queries int     `json:"queries"`
	P50Ms   float64 `json:"p50Ms"`
	P99Ms   float64 `json:"p99Ms"`
}

func pctMs(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.5) - 1
	i = max(0, min(i, len(s)-1))
	return float64(s[i].Microseconds()) / 1000
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s: want a positive integer, got %q", name, v)
	}
	return n
}

type searchFixture struct {
	vocab                   []string
	user20, user200, chat20 string
	indexMiB, fileMiB       float64
	buildSec                float64
}

// searchVocab is the made-up vocabulary, the same for every build.
func searchVocab() []string {
	r := rand.New(rand.NewPCG(1, 2))
	syl := []string{"ka", "lo", "mi", "ne", "ru", "ta", "shi", "po", "ve", "zu", "an", "el", "or", "is", "ba", "de",
		"fi", "gu", "ho", "ja", "qu", "xe", "yo", "wi", "cé", "ür", "ña", "tr", "st", "on"}
	seen := map[string]bool{}
	var out []string
	for len(out) < 30000 {
		var b strings.Builder
		for range 1 + r.IntN(4) {
			b.WriteString(syl[r.IntN(len(syl))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

type searchQueryText struct{ kind, text string }

// queries returns n query texts, the same ones every run.
func (fx *searchFixture) queries(n int) []searchQueryText {
	r := rand.New(rand.NewPCG(7, 8))
	z := rand.NewZipf(r, 1.07, 1, uint64(len(fx.vocab)-1))
	out := make([]searchQueryText, 0, n)
	for i := range n {
		switch i % 4 {
		case 0:
			out = append(out, searchQueryText{"frequent word", fx.vocab[z.Uint64()]})
		case 1:
			out = append(out, searchQueryText{"rare word", fx.vocab[r.IntN(len(fx.vocab))]})
		case 2:
			w := []rune(fx.vocab[z.Uint64()])
			out = append(out, searchQueryText{"3-letter prefix", string(w[:min(3, len(w))])})
		default:
			out = append(out, searchQueryText{"two words", fx.vocab[z.Uint64()] + " " + fx.vocab[r.IntN(len(fx.vocab))]})
		}
	}
	return out
}

// openSearchFixture builds the database at path unless a complete one is there.
func openSearchFixture(b *testing.B, path string, nMsgs, nChats int) *searchFixture {
	b.Helper()
	fx := &searchFixture{vocab: searchVocab()}
	chatID := func(i int) string { return fmt.Sprintf("c%023x", i) }
	userID := func(i int) string { return fmt.Sprintf("a%023x", i) }
	fx.user20, fx.user200, fx.chat20 = userID(1), userID(2), chatID(0)
	ctx := context.Background()
	meta := func(db *sql.DB) bool {
		var done int
		err := db.QueryRowContext(ctx, `SELECT done FROM bench_meta WHERE messages = ? AND chats = ?`, nMsgs, nChats).Scan(&done)
		return err == nil && done == 1
	}
	sizes := func(db *sql.DB) {
		var idx, file int64
		_ = db.QueryRowContext(ctx, `SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE 'message_search%'`).Scan(&idx)
		_ = db.QueryRowContext(ctx, `SELECT page_count * page_size FROM pragma_page_count, pragma_page_size`).Scan(&file)
		fx.indexMiB, fx.fileMiB = float64(idx)/(1<<20), float64(file)/(1<<20)
	}
	if db, err := sql.Open("sqlite", path+"?_pragma=query_only(1)"); err == nil {
		ok := meta(db)
		if ok {
			sizes(db)
		}
		db.Close()
		if ok {
			b.Logf("search fixture: reusing %s (%d messages, %d chats)", path, nMsgs, nChats)
			return fx
		}
	}
	b.Logf("search fixture: building %s (%d messages in %d chats), once", path, nMsgs, nChats)
	start := time.Now()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			b.Fatal(err)
		}
	}
	s, err := Open(ctx, path, Options{Logger: zerolog.Nop()}) // the schema
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)&_pragma=busy_timeout(5000)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	exec := func(q string, args ...any) {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			b.Fatalf("%.60s: %v", q, err)
		}
	}
	exec(`CREATE TABLE bench_meta (messages INTEGER, chats INTEGER, done INTEGER)`)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	// Chats: five members each (users 100 + 5i …); the 20-chat caller is in every 50th
	// chat, the 200-chat caller in every 5th.
	members := make([][]string, nChats)
	for c := range nChats {
		for k := range 5 {
			members[c] = append(members[c], userID(100+5*c+k))
		}
		if c%(max(1, nChats/20)) == 0 {
			members[c] = append(members[c], fx.user20)
		}
		if c%(max(1, nChats/200)) == 0 {
			members[c] = append(members[c], fx.user200)
		}
		exec(`INSERT INTO chats (id, type, name, created_by, created_at, updated_at, last_activity) VALUES (?, 'group', 'g', ?, ?, ?, ?)`,
			chatID(c), members[c][0], t0, t0, t0)
		for pos, u := range members[c] {
			exec(`INSERT INTO chat_members (chat_id, user_id, position) VALUES (?, ?, ?)`, chatID(c), u, pos)
		}
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO messages (id, chat_id, seq, sender_id, text, created_at, updated_at)
		SELECT ?, id, last_seq + 1, ?, ?, ?, ? FROM chats WHERE id = ?`)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	z := rand.NewZipf(r, 1.07, 1, uint64(len(fx.vocab)-1))
	words := make([]string, 0, 20)
	for i := range nMsgs {
		c := r.IntN(nChats)
		words = words[:0]
		for range 3 + r.IntN(15) {
			words = append(words, fx.vocab[z.Uint64()])
		}
		text := strings.Join(words, " ")
		if i%10 == 0 {
			text = strings.ToUpper(text[:1]) + text[1:] + "!"
		}
		at := t0 + int64(i)*250
		if _, err := ins.ExecContext(ctx, models.NewID(), members[c][r.IntN(5)], text, at, at, chatID(c)); err != nil {
			b.Fatal(err)
		}
		if (i+1)%200_000 == 0 {
			b.Logf("search fixture: %d messages (%s)", i+1, time.Since(start).Round(time.Second))
		}
	}
	// The index, as the writer brings it up to date before a commit.
	if _, err := indexPending(ctx, newStmtCache(tx.PrepareContext), 0); err != nil {
		b.Fatal(err)
	}
	exec(`INSERT INTO bench_meta VALUES (?, ?, 1)`, nMsgs, nChats)
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	fx.buildSec = time.Since(start).Seconds()
	sizes(db)
	b.Logf("search fixture: built in %s; file %.0f MiB, search index %.0f MiB", time.Since(start).Round(time.Second), fx.fileMiB, fx.indexMiB)
	return fx
}
