package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/rs/zerolog"
)

// checkpointEvery is how often the WAL is copied back into the database file. SQLite's
// automatic checkpoint would run inside a commit every 1,000 pages, holding that commit
// (and every send waiting on it) through the copy and its fsync: tens of milliseconds
// of p99 latency. Here commits never checkpoint; this goroutine does, on its own
// connection, in PASSIVE mode (it never blocks the writer), and pages written many
// times within the interval are copied once.
const checkpointEvery = time.Second

type checkpointer struct {
	db   *sql.DB
	log  zerolog.Logger
	quit chan struct{}
	done chan struct{}
}

func startCheckpointer(db *sql.DB, commits func() int64, log zerolog.Logger) *checkpointer {
	c := &checkpointer{db: db, log: log, quit: make(chan struct{}), done: make(chan struct{})}
	go c.loop(commits)
	return c
}

func (c *checkpointer) loop(commits func() int64) {
	defer close(c.done)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	last := commits()
	for {
		select {
		case <-c.quit:
			return
		case <-tick.C:
		}
		if n := commits(); n != last {
			last = n
			c.checkpoint("PASSIVE")
		}
	}
}

func (c *checkpointer) checkpoint(mode string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var busy, logPages, copied int
	if err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &logPages, &copied); err != nil {
		c.log.Warn().Err(err).Msg("sqlite: checkpoint failed")
	}
}

// close stops the loop and copies what is left, so the WAL file can be truncated.
func (c *checkpointer) close() error {
	close(c.quit)
	<-c.done
	c.checkpoint("TRUNCATE")
	return c.db.Close()
}
