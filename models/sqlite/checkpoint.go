package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/rs/zerolog"
)

// checkpointEvery is how often the WAL is copied back into the database file. SQLite's
// automatic checkpoint would run inside a commit every 1,000 pages, holding that commit
// (and every send waiting on it) through the copy and its fsync: tens of milliseconds
// of p99 latency. Here commits never checkpoint; the checkpointer does, and pages
// written many times within the interval are copied once.
//
// SQLite restarts the log from its beginning at a write only if that write's
// transaction began with every frame of the log copied. A checkpoint on another
// connection never gets there while writes go on, since commits append frames while it
// copies: with that alone the log grew without end under steady sends (40 MB a second in
// the e2e benchmark, a gigabyte after 25 seconds, every frame a write to a growing file,
// until the store closed). So a round is:
//
//  1. the bulk copy, on the checkpointer's own connection, in PASSIVE mode, while the
//     writer goes on committing. At low traffic it finds every frame copied, and the log
//     restarts by itself;
//  2. once the log holds restartFrames, the writer, between two batches, copies the
//     frames committed meanwhile (a PASSIVE checkpoint on its own connection: nothing can
//     append during it), and its next transaction restarts the log. A reader still
//     reading frames of the old log prevents that, and the next round tries again.
//
// Step 2 holds every send for its copy and two fsyncs, which grow with the frames that
// arrived during step 1: one second's log took step 1 about 95 ms, mostly the fsync of the
// log, and the ~600 frames committed meanwhile held the writer 14-27 ms (open-loop ack
// p99 11-16 -> 19-24 ms). So before step 2, step 1 is repeated (at most maxBulkSteps
// times in all) until fewer than tailFrames frames arrived during the last one, which
// left step 2 5-10 ms; and the log restarts only once it holds restartFrames, every few
// seconds under load rather than every round.
const checkpointEvery = time.Second

const (
	restartFrames = 16384 // 64 MiB at 4 KiB pages
	maxBulkSteps  = 4
	tailFrames    = 256
)

// walSizeLimit is SQLite's journal_size_limit: when the log restarts, a file grown past
// this (by a burst of writes) is cut back to it. Below it the file is kept and
// overwritten, which costs the kernel half what appending does. It is twice the size at
// which rounds restart the log, so steady load does not cut and regrow it each time.
const walSizeLimit = 2 * restartFrames * 4096

// betweenFunc runs fn on the writer connection between two batches (writer.betweenBatches).
type betweenFunc func(ctx context.Context, fn func(*sql.Conn)) error

type checkpointer struct {
	db      *sql.DB
	every   time.Duration
	commits func() int64 // the writer's transactions so far
	tail    betweenFunc
	log     zerolog.Logger
	quit    chan struct{}
	done    chan struct{}

	restartFrames int // restartFrames; tests lower it
	// afterBulk (tests only), when set, runs between the two steps of a round.
	afterBulk func()
}

func startCheckpointer(db *sql.DB, every time.Duration, commits func() int64, tail betweenFunc, log zerolog.Logger) *checkpointer {
	c := &checkpointer{db: db, every: every, commits: commits, tail: tail, log: log,
		restartFrames: restartFrames, quit: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

// loop runs a round every interval in which the writer committed.
func (c *checkpointer) loop() {
	defer close(c.done)
	tick := time.NewTicker(c.every)
	defer tick.Stop()
	last := c.commits()
	for {
		select {
		case <-c.quit:
			return
		case <-tick.C:
		}
		if n := c.commits(); n != last {
			last = n
			switch err := c.round(); {
			case errors.Is(err, errClosed):
				return
			case err != nil:
				// The writer did not come between two batches within the round's 30 s (a
				// stalled disk): the next round tries again.
				c.log.Warn().Err(err).Msg("sqlite: checkpoint round cut short")
			}
		}
	}
}

// round is one checkpoint in the steps above.
func (c *checkpointer) round() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	logged := c.checkpoint(ctx, c.db.QueryRowContext, "PASSIVE")
	if logged < c.restartFrames {
		return nil
	}
	for range maxBulkSteps - 1 {
		n := c.checkpoint(ctx, c.db.QueryRowContext, "PASSIVE")
		if n-logged < tailFrames {
			break
		}
		logged = n
	}
	if c.afterBulk != nil {
		c.afterBulk()
	}
	return c.tail(ctx, func(conn *sql.Conn) { _ = c.checkpoint(ctx, conn.QueryRowContext, "PASSIVE") })
}

// checkpoint runs PRAGMA wal_checkpoint(mode) through query (a pool's or a connection's).
// It returns the frames in the log when it began (-1 if it failed).
func (c *checkpointer) checkpoint(ctx context.Context, query func(context.Context, string, ...any) *sql.Row, mode string) int {
	var busy, logFrames, copied int
	if err := query(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &logFrames, &copied); err != nil {
		c.log.Warn().Err(err).Msg("sqlite: checkpoint failed")
		return -1
	}
	return logFrames
}

// close stops the loop and copies what is left, so the WAL file can be truncated.
func (c *checkpointer) close() error {
	close(c.quit)
	<-c.done
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = c.checkpoint(ctx, c.db.QueryRowContext, "TRUNCATE")
	return c.db.Close()
}
