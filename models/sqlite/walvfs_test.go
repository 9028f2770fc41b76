package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestWALVFSCommitsReachTheFile checks walVFS's promise: when a commit returns, everything
// it wrote is in the files, so a copy of the database and its log taken at that moment
// (what a kill -9 would leave) opens, recovers and holds every committed row; and another
// connection, which reads the log through its own descriptor, sees the commit at once.
// The transactions cover what SQLite does with the log: small commits, savepoints rolled
// back and released, transactions larger than the page cache (pages spilled to the log
// before the commit, then changed again, so SQLite overwrites their frames and rewrites
// checksums at commit), a spilled transaction rolled back, and checkpoints that restart
// the log from its start.
func TestWALVFSCommitsReachTheFile(t *testing.T) {
	for _, sync := range []string{"NORMAL", "FULL"} {
		t.Run(sync, func(t *testing.T) { testWALVFSCommits(t, sync) })
	}
}

// testWALVFSCommits is TestWALVFSCommitsReachTheFile with synchronous set to sync (FULL
// syncs the log at every commit, and may pad it with copies of the commit frame).
func testWALVFSCommits(t *testing.T, sync string) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.db")
	// A small page cache makes large transactions spill pages to the log mid-transaction.
	w, err := sql.Open("sqlite", path+"?vfs="+walVFS+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous("+sync+")&_pragma=wal_autocheckpoint(0)&_pragma=cache_size(10)")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", path) // the default VFS, as the store's readers
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.SetMaxOpenConns(1)

	ctx := context.Background()
	mustExec(t, w, `CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)`)
	mustExec(t, w, `CREATE INDEX t_v ON t (v)`)
	want := map[int]string{}

	check := func(step string) {
		t.Helper()
		sum := func(db *sql.DB) (n int, total string) {
			t.Helper()
			if err := db.QueryRowContext(ctx, `SELECT count(*), coalesce(group_concat(k || '=' || v, ','), '') FROM (SELECT k, v FROM t ORDER BY k)`).Scan(&n, &total); err != nil {
				t.Fatalf("%s: %v", step, err)
			}
			return n, total
		}
		var keys []string
		for _, k := range slices.Sorted(maps.Keys(want)) {
			keys = append(keys, fmt.Sprintf("%d=%s", k, want[k]))
		}
		wantTotal := strings.Join(keys, ",")
		if n, total := sum(r); n != len(want) || total != wantTotal {
			t.Fatalf("%s: another connection sees %d rows, want %d", step, n, len(want))
		}
		// The files as a crash would leave them: no -shm, so opening the copy recovers
		// the wal-index from the log alone, and checks every frame's checksum.
		cp := filepath.Join(t.TempDir(), "copy.db")
		copyFile(t, path, cp)
		if _, err := os.Stat(path + "-wal"); err == nil {
			copyFile(t, path+"-wal", cp+"-wal")
		}
		c, err := sql.Open("sqlite", cp)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var ok string
		if err := c.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
			t.Fatalf("%s: the copy's integrity_check: %q, %v", step, ok, err)
		}
		if n, total := sum(c); n != len(want) || total != wantTotal {
			t.Fatalf("%s: the copy holds %d rows, want %d", step, n, len(want))
		}
	}

	// Small commits, one row each.
	for k := 0; k < 20; k++ {
		v := fmt.Sprintf("small-%d", k)
		mustExec(t, w, `INSERT INTO t (k, v) VALUES (?, ?)`, k, v)
		want[k] = v
		check(fmt.Sprintf("small commit %d", k))
	}

	// Savepoints: one rolled back, one released, in one transaction.
	tx := mustBegin(t, w)
	txExec(t, tx, `SAVEPOINT a`)
	txExec(t, tx, `INSERT INTO t (k, v) VALUES (1000, 'rolled back')`)
	txExec(t, tx, `ROLLBACK TO a`)
	txExec(t, tx, `RELEASE a`)
	txExec(t, tx, `SAVEPOINT b`)
	txExec(t, tx, `INSERT INTO t (k, v) VALUES (1001, 'kept')`)
	txExec(t, tx, `RELEASE b`)
	mustCommit(t, tx)
	want[1001] = "kept"
	check("savepoints")

	// A transaction larger than the cache, whose first rows are changed again after
	// their pages were spilled: overwritten frames and rewritten checksums.
	big := func(base int, tag string) *sql.Tx {
		tx := mustBegin(t, w)
		for k := base; k < base+1500; k++ {
			txExec(t, tx, `INSERT INTO t (k, v) VALUES (?, ?)`, k, fmt.Sprintf("%s-%d-%s", tag, k, strings.Repeat("x", 150)))
		}
		txExec(t, tx, `UPDATE t SET v = v || '-again' WHERE k >= ? AND k < ?`, base, base+300)
		return tx
	}
	mustCommit(t, big(2000, "big"))
	for k := 2000; k < 3500; k++ {
		want[k] = fmt.Sprintf("big-%d-%s", k, strings.Repeat("x", 150))
		if k < 2300 {
			want[k] += "-again"
		}
	}
	check("large transaction")

	// A spilled transaction rolled back leaves nothing; the next commit goes on.
	if err := big(10000, "gone").Rollback(); err != nil {
		t.Fatal(err)
	}
	mustExec(t, w, `INSERT INTO t (k, v) VALUES (6000, 'after rollback')`)
	want[6000] = "after rollback"
	check("after a rolled-back large transaction")

	// Checkpoints by another connection: the writer then restarts the log at its start.
	for round := 0; round < 2; round++ {
		if _, err := r.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 3; k++ {
			key := 7000 + round*10 + k
			v := fmt.Sprintf("after checkpoint %d", round)
			mustExec(t, w, `INSERT INTO t (k, v) VALUES (?, ?)`, key, v)
			want[key] = v
			check(fmt.Sprintf("after checkpoint %d, commit %d", round, k))
		}
		mustExec(t, w, `DELETE FROM t WHERE k = ?`, 7000+round*10)
		delete(want, 7000+round*10)
		check(fmt.Sprintf("delete after checkpoint %d", round))
	}
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func mustBegin(t *testing.T, db *sql.DB) *sql.Tx {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func txExec(t *testing.T, tx *sql.Tx, q string, args ...any) {
	t.Helper()
	if _, err := tx.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func mustCommit(t *testing.T, tx *sql.Tx) {
	t.Helper()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
