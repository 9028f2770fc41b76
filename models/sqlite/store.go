// Package sqlite implements models.Store on an embedded SQLite file through
// modernc.org/sqlite (pure Go, so the server binary stays static).
//
// Layout: one dedicated write connection owned by a single writer goroutine (SQLite
// allows one writer at a time, so funnelling every write through one goroutine turns
// lock contention into a queue and lets concurrent writes share one transaction: group
// commit), and a separate pool of read-only connections that WAL mode lets run alongside
// the writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/parley-chat/parley/models"
)

// Options tunes the store.
type Options struct {
	// Synchronous is SQLite's synchronous pragma: "NORMAL" (the default; in WAL mode a
	// commit survives a process crash but the last commits may be lost on power loss) or
	// "FULL" (every commit is fsynced, surviving power loss at a cost in throughput).
	Synchronous string
	// Logger receives writer failures and lifecycle messages.
	Logger zerolog.Logger

	// indexAtCommit (tests only) indexes the messages a batch noted for search before
	// the batch commits, instead of in the indexer's bulk jobs (search.go), so that
	// searches read the search index alone.
	indexAtCommit bool
	// checkpointEvery (tests only), when positive, replaces checkpointEvery.
	checkpointEvery time.Duration
}

// busyTimeoutMS bounds how long a connection waits for a lock held by another process
// (a backup tool, a second server on the same file) before reporting ErrUnavailable.
const busyTimeoutMS = 5000

// Store is the SQLite implementation of models.Store. It is safe for concurrent use.
type Store struct {
	log   zerolog.Logger
	wdb   *sql.DB // one connection, owned by w
	rdb   *sql.DB // read-only pool
	reads *stmtCache
	w     *writer
	ckpt  *checkpointer
	files fileStore // the uploads' bytes (attachments.go)
	index *indexer  // nil with Options.indexAtCommit

	closeOnce sync.Once
	closeErr  error
}

var _ models.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path, its parent directories and its
// schema, and starts the writer goroutine. Close releases everything.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	syncMode := strings.ToUpper(strings.TrimSpace(opts.Synchronous))
	switch syncMode {
	case "":
		syncMode = "NORMAL"
	case "NORMAL", "FULL":
	default:
		return nil, fmt.Errorf("sqlite: synchronous must be NORMAL or FULL, not %q", opts.Synchronous)
	}
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, ":memory:") {
		// The store needs a real file: the reader pool and the writer are separate
		// connections, and '?' would be taken for the start of the DSN parameters.
		return nil, fmt.Errorf("sqlite: invalid database path %q", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("sqlite: create directory: %w", err)
	}
	files := fileStore{dir: filepath.Join(filepath.Dir(path), "uploads")}
	if err := files.init(); err != nil {
		return nil, fmt.Errorf("sqlite: create the uploads directory: %w", err)
	}

	common := url.Values{}
	common.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	// Foreign keys stay off: the store checks existence where the contract asks for it,
	// and enforcing references on the hot insert path would cost lookups for nothing.
	common.Add("_pragma", "foreign_keys(0)")

	wq := cloneValues(common)
	wq.Add("_pragma", "journal_mode(WAL)")
	wq.Add("_pragma", "synchronous("+syncMode+")")
	// Commits never checkpoint; the checkpointer does (see checkpoint.go).
	wq.Add("_pragma", "wal_autocheckpoint(0)")
	wq.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", walSizeLimit))
	wq.Set("_txlock", "immediate")
	// The writer writes the log through walVFS: one pwrite per commit (walvfs.go).
	wq.Set("vfs", walVFS)
	wdb, err := sql.Open("sqlite", path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open writer: %w", err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)

	if err := migrate(ctx, wdb, opts.Logger); err != nil {
		wdb.Close()
		return nil, dbErr(fmt.Errorf("sqlite: schema: %w", err))
	}

	rq := cloneValues(common)
	// query_only makes a mistaken write on a reader fail loudly instead of racing the
	// writer for the lock.
	rq.Add("_pragma", "query_only(1)")
	rdb, err := sql.Open("sqlite", path+"?"+rq.Encode())
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open readers: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	rdb.SetMaxOpenConns(n)
	rdb.SetMaxIdleConns(n)
	rdb.SetConnMaxLifetime(0)
	rdb.SetConnMaxIdleTime(0)

	var beforeCommit jobFunc
	if opts.indexAtCommit {
		beforeCommit = indexAtCommit
	}
	w, err := newWriter(ctx, wdb, opts.Logger, beforeCommit)
	if err != nil {
		rdb.Close()
		wdb.Close()
		return nil, dbErr(err)
	}
	cdb, err := sql.Open("sqlite", path+"?"+common.Encode())
	if err != nil {
		w.close()
		rdb.Close()
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open checkpointer: %w", err)
	}
	cdb.SetMaxOpenConns(1)
	s := &Store{
		log:   opts.Logger,
		wdb:   wdb,
		rdb:   rdb,
		reads: newStmtCache(rdb.PrepareContext),
		w:     w,
		files: files,
	}
	every := checkpointEvery
	if opts.checkpointEvery > 0 {
		every = opts.checkpointEvery
	}
	s.ckpt = startCheckpointer(cdb, every, w.batches.Load, w.betweenBatches, opts.Logger)
	if !opts.indexAtCommit {
		s.index = startIndexer(s)
	}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.log.Debug().Str("path", path).Str("synchronous", syncMode).Msg("sqlite store open")
	return s, nil
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// Name implements models.Store.
func (s *Store) Name() string { return "sqlite" }

// CommitStats reports the writer's committed transactions and the writes they carried
// (writes per commit is the group commit factor).
func (s *Store) CommitStats() (commits, writes int64) {
	return s.w.batches.Load(), s.w.writes.Load()
}

// Ping implements models.Store: it reads the database header through the read pool.
func (s *Store) Ping(ctx context.Context) error {
	var v int
	if err := s.reads.queryRow(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return dbErr(err)
	}
	return nil
}

// Close stops accepting writes, lets the writer finish and commit the batch in flight,
// then closes every connection. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.index != nil {
			s.index.close() // notes left are indexed after the next Open
		}
		errW := s.w.close()
		errC := s.ckpt.close()
		errWDB := s.wdb.Close()
		errR := s.reads.close()
		errRDB := s.rdb.Close()
		s.closeErr = errors.Join(errW, errC, errWDB, errR, errRDB)
	})
	return s.closeErr
}

// write runs fn in the writer goroutine, inside the transaction of the current batch, and
// returns once that transaction has committed (or failed).
func (s *Store) write(ctx context.Context, fn jobFunc) error {
	return dbErr(s.w.do(ctx, fn, false, false))
}

// writeOne is write for a job whose only change is one statement: SQLite undoes a
// failed statement by itself, so the job needs no savepoint of its own in a batch.
func (s *Store) writeOne(ctx context.Context, fn jobFunc) error {
	return dbErr(s.w.do(ctx, fn, true, false))
}
